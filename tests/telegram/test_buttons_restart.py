"""Buttons keep working after the bot restarts: the answers behind them are kept on disk (SQLite, JSON)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from bot.telegram.answers import AnswerStore, CachedAnswer, by_article, from_json, to_json
from bot.telegram.replies import STALE
from retrieval.service import AnsweringService
from tests.support.telegram import QUESTION, press_context_and_more, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


def entry_for(service: AnsweringService) -> CachedAnswer:
    answer = service.answer(QUESTION)
    return CachedAnswer(answer, by_article(answer.citations), by_article(answer.more), 42)


def test_a_stored_answer_reads_back_equal(hashing_service: AnsweringService) -> None:
    entry = entry_for(hashing_service)
    assert entry.answer.citations and entry.answer.more
    assert from_json(to_json(entry)) == entry


def test_the_store_is_bounded_per_chat_and_in_chats(
    hashing_service: AnsweringService, tmp_path: Path
) -> None:
    entry = entry_for(hashing_service)
    store = AnswerStore(tmp_path / "s.sqlite3", per_chat=2, max_chats=2)
    for key in ("aaaaaaaa", "bbbbbbbb", "cccccccc"):
        store.put(1, key, entry)
    assert store.get(1, "aaaaaaaa") is None and store.get(1, "cccccccc") == entry
    store.put(2, "dddddddd", entry)
    store.put(3, "eeeeeeee", entry)
    assert store.get(1, "cccccccc") is None and store.get(3, "eeeeeeee") == entry
    store.close()


def test_an_unreadable_row_is_forgotten_not_trusted(
    hashing_service: AnsweringService, tmp_path: Path
) -> None:
    path = tmp_path / "s.sqlite3"
    store = AnswerStore(path, per_chat=4, max_chats=4)
    store.put(1, "aaaaaaaa", entry_for(hashing_service))
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE answers SET entry = ?", ('{"answer": {"question": 1}}',))
    store = AnswerStore(path, per_chat=4, max_chats=4)
    assert store.get(1, "aaaaaaaa") is None
    store.close()


async def test_buttons_answer_after_a_restart(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, tmp_path: Path
) -> None:
    api, service = fake_bot_api, hashing_service
    settings = service.settings
    state = tmp_path / "buttons.sqlite3"
    expected = service.answer(QUESTION)
    async with running_bot(api, service, settings, state_file=state):
        api.send_text(QUESTION)
        (reply,) = await wait_sent(api, 111)
        # The answer's message id is stored once it is sent; wait for that write before stopping.
        await api.wait_for(lambda: reply.buttons(), what="the answer's buttons")
    # A new application: nothing of the old one is in memory.
    async with running_bot(api, service, settings, state_file=state):
        q1, context_msg, q2, more_msg = await press_context_and_more(api, reply)
    assert api.callback_answers(q1)[0].params.get("text") != STALE
    c1 = expected.citations[0]
    _, quote, _ = service.passage_in_context(c1.source, c1.start, c1.end)
    assert quote in context_msg.text and context_msg.reply_to_message_id == reply.message_id
    assert api.callback_answers(q2) and more_msg.blockquotes() == [c.quote for c in expected.more]
    assert api.rejected == []


async def test_without_the_stored_answers_a_button_after_a_restart_is_stale(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, tmp_path: Path
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings, state_file=tmp_path / "first.sqlite3"):
        api.send_text(QUESTION)
        (reply,) = await wait_sent(api, 111)
    async with running_bot(api, service, service.settings, state_file=tmp_path / "other.sqlite3"):
        q = api.press(reply, reply.buttons()[0]["callback_data"])
        await api.wait_for(lambda: api.callback_answers(q), what="the button's answer")
    assert api.callback_answers(q)[0].params.get("text") == STALE
    assert len(api.sent(111)) == 1
