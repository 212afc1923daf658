"""End to end, under trouble: Telegram faults, slow answers, shutdown, flood spacing, errors, restarts, webhooks."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import pytest

from bot.telegram.app import build_application, webhook_options
from bot.telegram.replies import TOO_SLOW, WENT_WRONG
from bot.telegram.update_gate import OnceApplication
from bot.telegram.webhook import serving_webhook, webhook_secret
from retrieval.answer import Answer
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.support.telegram import (
    QUESTION,
    answers_in,
    bot_settings,
    message_update,
    running_bot,
    wait_sent,
)

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


async def test_telegram_faults_are_survived_with_one_reply_per_question(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings, read_timeout_s=0.6):
        api.fail_next("sendMessage", 429, retry_after=1)
        api.send_text(QUESTION, user_id=1, chat_id=1)
        await wait_sent(api, 1)
        api.fail_next("sendMessage", 500, times=2)
        api.send_text(QUESTION, user_id=2, chat_id=2)
        await wait_sent(api, 2)
        # Held longer than the read timeout: the bot gives up, retries, and the retry gets through.
        api.delay_next("sendMessage", 1.2)
        api.send_text(QUESTION, user_id=3, chat_id=3)
        await wait_sent(api, 3)
        await api.wait_for(lambda: 0 in [r.status for r in api.calls("sendMessage")], what="the held request")
        api.fail_next("sendChatAction", 500, times=10)
        api.send_text(QUESTION, user_id=4, chat_id=4)
        await wait_sent(api, 4)
        await asyncio.sleep(0.3)
    statuses = [r.status for r in api.calls("sendMessage")]
    assert statuses.count(429) == 1 and statuses.count(500) == 2 and statuses.count(0) == 1
    for chat in (1, 2, 3, 4):
        assert len(api.sent(chat)) == 1 and len(answers_in(api, chat)) == 1
    assert api.rejected == []


async def test_a_slow_telegram_response_stalls_nobody(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings):
        api.delay_next("sendMessage", 1.5)
        api.send_text(QUESTION, user_id=5, chat_id=5)
        await api.wait_for(lambda: api.calls("sendMessage"), what="the slow send to start")
        api.send_text(QUESTION, user_id=6, chat_id=6)
        (fast,) = await wait_sent(api, 6)
        (slow,) = await wait_sent(api, 5)
    assert fast.at < slow.at
    assert len(answers_in(api, 5)) == 1 and len(answers_in(api, 6)) == 1


class GatedService:
    """The real service, except that one question waits for the test to release it."""

    def __init__(self, inner: AnsweringService, slow_question: str) -> None:
        self.inner, self.slow_question = inner, slow_question
        self.started, self.release = threading.Event(), threading.Event()

    def answer(self, question: str) -> Answer:
        if question == self.slow_question:
            self.started.set()
            self.release.wait(10)
        return self.inner.answer(question)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_a_slow_answer_does_not_stall_other_users(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    gated = GatedService(service, "Is Russia ready for dialogue with Washington?")
    async with running_bot(api, gated, settings):
        api.send_text(gated.slow_question, user_id=7, chat_id=7)
        await api.wait_for(gated.started.is_set, what="the slow answer to start")
        api.send_text(QUESTION, user_id=8, chat_id=8)
        await wait_sent(api, 8)
        assert api.sent(7) == []
        gated.release.set()
        await wait_sent(api, 7)
    assert len(answers_in(api, 7)) == 1 and len(answers_in(api, 8)) == 1


async def test_an_answer_that_takes_too_long_gets_a_short_apology(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    gated = GatedService(service, QUESTION)
    try:
        async with running_bot(api, gated, settings, answer_timeout_s=0.3):
            api.send_text(QUESTION)
            (reply,) = await wait_sent(api, 111)
    finally:
        gated.release.set()
    assert reply.text == TOO_SLOW


async def test_shutdown_lets_an_answer_in_flight_finish(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    gated = GatedService(service, QUESTION)
    bot = running_bot(api, gated, settings)
    await bot.__aenter__()
    try:
        update = api.send_text(QUESTION)
        await api.wait_for(gated.started.is_set, what="the answer to start")
        stopping = asyncio.create_task(bot.__aexit__(None, None, None))
        await asyncio.sleep(0.2)
        assert not stopping.done(), "shutdown waits for the answer in flight"
        gated.release.set()
        await asyncio.wait_for(stopping, 5)
    finally:
        gated.release.set()
    assert len(answers_in(api, 111)) == 1
    assert api.confirmed_offset == update["update_id"] + 1


async def test_messages_to_one_chat_are_spaced_about_a_second_apart(
    fake_bot_api: FakeBotAPI, long_corpus: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, long_corpus
    async with running_bot(api, service, settings, chat_messages_per_second=1.0):
        api.send_text("What sanctions did Washington impose on Moscow?")
        api.send_text("What sanctions did Washington impose on Moscow?", user_id=2, chat_id=2)
        await api.wait_for(lambda: any(m.reply_markup for m in api.sent(111)), what="the last part")
        await wait_sent(api, 2, 2)
    times = [m.at for m in api.sent(111)]
    assert len(times) >= 2
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times))
    # The limit is per chat: the other chat was served in parallel, not after.
    assert api.sent(2)[0].at - api.sent(111)[0].at < 0.5


class BrokenService(GatedService):
    """The real service, except that one question crashes."""

    def answer(self, question: str) -> Answer:
        if question == self.slow_question:
            raise RuntimeError("the index exploded")
        return self.inner.answer(question)


async def test_errors_are_logged_and_reported_and_the_bot_keeps_going(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], caplog: pytest.LogCaptureFixture
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    broken = BrokenService(service, "crash please")
    async with running_bot(api, broken, settings):
        api.send_text("crash please")
        await wait_sent(api, 111)
        api.fail_next("sendMessage", 400)
        api.send_text(QUESTION)
        await wait_sent(api, 111, 2)
        api.send_text(QUESTION)
        await wait_sent(api, 111, 3)
    texts = [m.text for m in api.sent(111)]
    assert texts[:2] == [WENT_WRONG, WENT_WRONG] and len(answers_in(api, 111)) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "bot.telegram.lifecycle"]
    assert len(errors) == 2 and "the index exploded" in caplog.text


async def test_restart_does_not_answer_an_update_twice(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings):
        first = api.send_text(QUESTION)
        await wait_sent(api, 111)
    assert api.confirmed_offset == first["update_id"] + 1
    polls = len(api.calls("getUpdates"))
    async with running_bot(api, service, settings):
        await api.wait_for(lambda: len(api.calls("getUpdates")) > polls + 1, what="polling after restart")
        second = api.send_text("Is Russia ready for dialogue with Washington?")
        await wait_sent(api, 111, 2)
        await asyncio.sleep(0.3)
    assert len(api.sent(111)) == 2 and api.confirmed_offset == second["update_id"] + 1


async def test_webhook_mode_checks_the_secret_token_and_answers_once_handled(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], unused_tcp_port: int
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    port = unused_tcp_port
    bs = bot_settings(
        api, webhook_url=f"http://127.0.0.1:{port}/hooks/usru", webhook_listen="127.0.0.1", webhook_port=port
    )
    options = webhook_options(bs)
    assert options["url_path"] == "hooks/usru" and len(options["secret_token"]) >= 32
    secret = webhook_secret(bs)
    assert len(secret) >= 32 and webhook_secret(bs) != secret  # random per start when unset
    app = build_application(service, settings, bs)
    update = message_update(api, 1)
    await app.initialize()
    async with serving_webhook(cast(OnceApplication, app), bs, secret, asyncio.Event()) as registered:
        assert registered
        assert api.webhook["url"] == bs.webhook_url
        assert api.webhook["secret_token"] == secret
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/hooks/usru"
            bad = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert bad.status == 403
            good = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert good.status == 200
            # The 200 came only once the update was handled: its answer is already there.
            assert len(answers_in(api, 111)) == 1
    assert len(answers_in(api, 111)) == 1
