"""Bot state in PostgreSQL: the answers behind buttons reach any worker, and an update is handled once."""

from __future__ import annotations

import asyncio
import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from pydantic import SecretStr
from telegram import Update

from bot.telegram.answers import CachedAnswer, by_article
from bot.telegram.replies import STALE
from bot.telegram.shared_answers import PostgresAnswerStore
from bot.telegram.shared_history import SharedConversations
from bot.telegram.shared_rate import PostgresRateLimiter
from bot.telegram.shared_updates import Claim, UpdateClaims
from bot.telegram.update_gate import Outcome, UpdateGate
from retrieval.service import AnsweringService, build_service
from tests.conftest import copy_seeds, hashing_settings_for
from tests.support.telegram import QUESTION, press_context_and_more, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_service(postgres_url: str, tmp_path: Path) -> AnsweringService:
    settings = hashing_settings_for(copy_seeds(tmp_path / "sources"), tmp_path / "idx")
    return build_service(settings.model_copy(update={"database_url": SecretStr(postgres_url)}))


def entry_for(service: AnsweringService) -> CachedAnswer:
    answer = service.answer(QUESTION)
    return CachedAnswer(answer, by_article(answer.citations), by_article(answer.more), 42)


def test_one_workers_answer_is_read_by_another_and_bounded(
    pg_service: AnsweringService, postgres_url: str
) -> None:
    entry = entry_for(pg_service)
    one, two = (PostgresAnswerStore(postgres_url, per_chat=2, max_chats=2) for _ in range(2))
    one.put(1, "aaaaaaaa", entry)
    assert two.get(1, "aaaaaaaa") == entry
    for key in ("bbbbbbbb", "cccccccc"):
        two.put(1, key, entry)
    assert one.get(1, "aaaaaaaa") is None and one.get(1, "cccccccc") == entry
    one.put(2, "dddddddd", entry)
    two.put(3, "eeeeeeee", entry)
    assert one.get(1, "cccccccc") is None and one.get(3, "eeeeeeee") == entry
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE bot_answers SET entry = %s", ('{"answer": {"question": 1}}',))
    assert two.get(3, "eeeeeeee") is None  # an unreadable row is forgotten, not trusted
    one.close()
    two.close()


async def test_buttons_answer_on_another_worker_after_a_restart(
    fake_bot_api: FakeBotAPI, pg_service: AnsweringService, tmp_path: Path
) -> None:
    api, service = fake_bot_api, pg_service
    expected = service.answer(QUESTION)
    # Two workers with different local state files: only the database is shared between them.
    async with running_bot(api, service, service.settings, state_file=tmp_path / "worker1.sqlite3"):
        api.send_text(QUESTION)
        (reply,) = await wait_sent(api, 111)
        await api.wait_for(lambda: reply.buttons(), what="the answer's buttons")
    async with running_bot(api, service, service.settings, state_file=tmp_path / "worker2.sqlite3"):
        q1, context_msg, q2, more_msg = await press_context_and_more(api, reply)
    assert api.callback_answers(q1)[0].params.get("text") != STALE
    c1 = expected.citations[0]
    _, quote, _ = service.passage_in_context(c1.source, c1.start, c1.end)
    assert quote in context_msg.text
    assert api.callback_answers(q2) and more_msg.blockquotes() == [c.quote for c in expected.more]
    assert api.rejected == []
    assert not (tmp_path / "worker1.sqlite3").exists()


def test_an_update_is_taken_by_one_live_worker_and_done_once(postgres_url: str) -> None:
    one, two = UpdateClaims(postgres_url), UpdateClaims(postgres_url)
    assert one.take(7) is Claim.MINE
    assert two.take(7) is Claim.BUSY  # the other worker is alive and handling it
    one.finish(7)
    assert two.take(7) is Claim.DONE and one.take(7) is Claim.DONE
    assert two.take(2**32 + 9) is Claim.MINE  # ids past 32 bits still get a lock key
    two.release(2**32 + 9)
    assert one.take(8) is Claim.MINE
    one.close()  # as a killed worker's connection closes: its claim goes with it
    deadline = time.monotonic() + 10
    while (claim := two.take(8)) is Claim.BUSY and time.monotonic() < deadline:
        time.sleep(0.05)
    assert claim is Claim.MINE  # taken over, not lost
    two.release(8)
    assert two.take(8) is Claim.MINE  # released without a done mark: still to be answered
    two.close()


async def test_an_update_delivered_twice_is_answered_once(
    fake_bot_api: FakeBotAPI, pg_service: AnsweringService, tmp_path: Path
) -> None:
    api, service = fake_bot_api, pg_service
    async with running_bot(api, service, service.settings, state_file=tmp_path / "w.sqlite3") as app:
        update = copy.deepcopy(api.send_text(QUESTION))
        await wait_sent(api, 111)
        # The same update again, as a webhook retry or a second worker would receive it: dropped.
        await app.process_update(Update.de_json(copy.deepcopy(update), app.bot))
        # The same message under a new update id is a new update: answered, so the drop above was real.
        await app.process_update(Update.de_json(dict(copy.deepcopy(update), update_id=90_000), app.bot))
        await wait_sent(api, 111, 2)
    assert len(api.sent(111)) == 2
    assert all(m.blockquotes() for m in api.sent(111))


def test_the_rate_limit_counts_a_users_questions_on_every_worker(postgres_url: str) -> None:
    one, two = PostgresRateLimiter(postgres_url, 3), PostgresRateLimiter(postgres_url, 3)
    assert [one.check(5), two.check(5), one.check(5)] == [0.0, 0.0, 0.0]
    wait = two.check(5)  # the fourth question in a minute, on either worker
    assert 55.0 < wait <= 60.0
    assert one.check(6) == 0.0  # another user is not held back
    assert two.first_warning(5) and not one.first_warning(5)  # one notice per burst, from all workers
    with psycopg.connect(postgres_url) as conn:  # a minute later
        conn.execute("UPDATE bot_rate SET asked_at = asked_at - interval '61 seconds'")
    assert one.check(5) == 0.0
    assert two.first_warning(5)  # a new burst may be warned again
    one.close()
    two.close()


def test_a_follow_up_on_another_worker_reads_the_chats_history(
    pg_service: AnsweringService, postgres_url: str
) -> None:
    one, two = (SharedConversations(postgres_url, pg_service, 1000, 2) for _ in range(2))
    first = one.get(111).ask(QUESTION)
    assert first.status == "answered"
    assert [t.question for t in two.get(111).history.turns()] == [first.question]
    assert two.get(222).history.turns() == []  # another chat's history is its own
    follow_up = "What did he say about it?"
    alone = pg_service.standalone_question(follow_up, None)
    assert pg_service.standalone_question(follow_up, two.get(111).history) != alone
    for q in ("What did Putin say about relations with the United States?", QUESTION):
        two.get(111).ask(q)
    assert len(one.get(111).history) == 2  # bounded by the turns kept, on every worker
    one.get(111).forget()
    assert two.get(111).history.turns() == []
    one.close()
    two.close()


async def test_the_gate_lets_one_delivery_through_on_this_worker_and_the_next(postgres_url: str) -> None:
    here, there = UpdateClaims(postgres_url), UpdateClaims(postgres_url)
    gate, other = UpdateGate(here, busy_wait_s=10), UpdateGate(there, busy_wait_s=0.3)
    runs: list[int] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def handle() -> None:
        runs.append(1)
        started.set()
        await release.wait()

    first = asyncio.create_task(gate.handle_once(1, handle))
    second = asyncio.create_task(gate.handle_once(1, handle))  # the same update again, same worker
    await started.wait()
    assert await other.handle_once(1, handle) is Outcome.BUSY  # another worker, while the first is alive
    release.set()
    assert await first is Outcome.HANDLED and await second is Outcome.DUPLICATE
    assert await other.handle_once(1, handle) is Outcome.DUPLICATE
    assert runs == [1]

    async def fail() -> None:
        raise RuntimeError("cut short")

    with pytest.raises(RuntimeError):
        await gate.handle_once(2, fail)
    assert await other.handle_once(2, handle) is Outcome.HANDLED  # let go unmarked: answered next time
    assert runs == [1, 1]
    here.close()
    there.close()
