"""End to end: the real PTB Application and answering service against the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import aiohttp
import pytest

from bot.bot_settings import BotSettings, BotSettingsError
from bot.telegram.app import build_application, run_bot, webhook_options
from bot.telegram.commands import COMMANDS
from bot.telegram.replies import EDITED, EMPTY, NOT_TEXT, REFUSAL, STALE, TOO_SLOW, WENT_WRONG
from bot.telegram.update_gate import OnceApplication
from bot.telegram.webhook import serving_webhook, webhook_secret
from bot.telegram_format import NOT_FOUND
from retrieval.answer import Answer
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.support.telegram import answers_in, bot_settings, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


REPO = Path(__file__).resolve().parents[2]
QUESTION = "What did Putin say about relations with the United States?"
OFF_TOPIC = "What is the recipe for borscht soup?"
GROUP = -100500


@pytest.fixture
def seeded(hashing_service: AnsweringService) -> tuple[Settings, AnsweringService]:
    """The shared service over the seed articles (conftest), with its settings."""
    return hashing_service.settings, hashing_service


@pytest.fixture(scope="session")
def long_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, AnsweringService]:
    """Articles with very long sentences full of HTML, so a real answer needs splitting.

    A quote is at most 600 characters, so the answer is made of many; each piece of a long sentence
    names different (made-up) firms, so no two pieces are near-duplicates that the answer would drop.
    """
    root = tmp_path_factory.mktemp("long")
    (root / "sources").mkdir()
    rng = random.Random(11)
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"

    def firm() -> str:
        return "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(4)).capitalize()

    for a in range(8):
        listed = ", ".join(f"{firm()} {firm()} (<b>&amp;</blockquote> note {a}{r})" for r in range(60))
        body = (
            "The United States imposed new sanctions on Russia in March, and the sanctions that Washington "
            f"imposed on Moscow cover {listed}. Officials in Moscow said the sanctions would fail.\n"
        )
        front = f"---\ntitle: Sanctions <script> {a}\npublisher: Wire & Co {a}\ndate: 2024-03-0{a + 1}\n---\n"
        (root / "sources" / f"art{a}.txt").write_text(front + body, encoding="utf-8")
    # Relevance floor off: the fake hashing embedder scores very long sentences low.
    settings = Settings(
        _env_file=None,
        sources=root / "sources",
        index_dir=root / "idx",
        embedding_model="hashing",
        min_relevance=0.0,
        max_quotes=10,
        max_answer_chars=0,
    )
    return settings, build_service(settings)


def article_text(settings: Settings, source: str) -> str:
    """An article file exactly as it is on disk."""
    return (settings.sources / source).read_text(encoding="utf-8")


async def test_start_help_sources_about_and_command_menu(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings):
        assert [c["command"] for c in api.commands] == [name for name, _ in COMMANDS]
        for command in ["/start", "/help", "/sources", "/about"]:
            api.send_text(command)
            await wait_sent(api, 111, len(api.sent(111)) + 1)
    start, help_, sources, about = api.sent(111)
    stats = service.stats()
    assert f"{stats.articles} articles" in start.text
    assert all(p in start.text for p in stats.publishers)
    buttons = start.buttons()
    assert len(buttons) == 3 and all(b["callback_data"].startswith("ex:") for b in buttons)
    assert "/sources" in help_.text and "/ask" in help_.text
    assert all(a.title in sources.text for a in service.list_articles() if a.title)
    assert stats.version in about.text and "Last re-indexed" in about.text and "Passages: " in about.text
    assert api.rejected == [] and api.unknown_methods == []


async def test_question_is_answered_with_verbatim_quotes_and_buttons(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    expected = service.answer(QUESTION)
    assert expected.status == "answered" and expected.citations
    async with running_bot(api, service, settings):
        api.send_text(QUESTION)
        (reply,) = await wait_sent(api, 111)
    assert reply.blockquotes() == [c.quote for c in expected.citations]
    for c in expected.citations:
        assert article_text(settings, c.source)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in reply.text
        assert (c.publisher or "") in reply.text and (c.title or "") in reply.text
    assert reply.text.startswith(expected.lead)
    # "typing…" went out before the reply.
    actions = api.calls("sendChatAction")
    assert actions and actions[0].params["action"] == "typing" and actions[0].at <= reply.at
    buttons = reply.buttons()
    cited_articles = {c.source for c in expected.citations}
    assert len([b for b in buttons if b["callback_data"].startswith("ctx:")]) == len(cited_articles)
    assert any(b["callback_data"].startswith("more:") for b in buttons) == bool(expected.more)
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert api.rejected == []


async def test_buttons_show_context_more_quotes_and_examples(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    expected = service.answer(QUESTION)
    assert expected.more, "the seed corpus gives this question further quotes"
    async with running_bot(api, service, settings):
        api.send_text(QUESTION)
        (reply,) = await wait_sent(api, 111)
        first = reply.buttons()[0]
        q1 = api.press(reply, first["callback_data"])
        (_, context_msg) = await wait_sent(api, 111, 2)
        assert api.callback_answers(q1)
        more_button = next(b for b in reply.buttons() if b["callback_data"].startswith("more:"))
        q2 = api.press(reply, more_button["callback_data"])
        (_, _, more_msg) = await wait_sent(api, 111, 3)
        await api.wait_for(lambda: reply.edits == 1, what="the more button to be removed")
        q3 = api.press(reply, "ctx:gone1234:0")
        await api.wait_for(lambda: api.callback_answers(q3), what="stale button answer")
        api.send_text("/start")
        (*_, start) = await wait_sent(api, 111, 4)
        q4 = api.press(start, start.buttons()[0]["callback_data"])
        (*_, example) = await wait_sent(api, 111, 5)
    c1 = expected.citations[0]
    _, quote, after = service.passage_in_context(c1.source, c1.start, c1.end)
    assert context_msg.reply_to_message_id == reply.message_id
    assert quote in context_msg.text and after.strip()[:40] in context_msg.text
    bold = [e for e in context_msg.entities if e["type"] == "b" and e["length"] == api.utf16_len(c1.quote)]
    assert bold, "the quote is in bold inside its context"
    assert api.callback_answers(q2) and more_msg.blockquotes() == [c.quote for c in expected.more]
    assert not any(b["callback_data"].startswith("more:") for b in reply.buttons())
    assert api.callback_answers(q3)[0].params.get("text") == STALE
    assert api.callback_answers(q4) and example.text.startswith("❓ " + start.buttons()[0]["text"][:20])
    assert api.rejected == []


async def test_a_long_answer_is_split_without_breaking_tags_or_quotes(
    fake_bot_api: FakeBotAPI, long_corpus: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, long_corpus
    question = "What sanctions did Washington impose on Moscow?"
    expected = service.answer(question)
    assert expected.status == "answered" and sum(len(c.quote) for c in expected.citations) > 4096
    async with running_bot(api, service, settings):
        api.send_text(question)
        await api.wait_for(lambda: any(m.reply_markup for m in api.sent(111)), what="the last part")
    parts = api.sent(111)
    assert len(parts) >= 2 and api.rejected == []
    assert all(api.utf16_len(m.text) <= 4096 for m in parts)
    pieces = [q for m in parts for q in m.blockquotes()]
    joined = "".join("".join(p.split()) for p in pieces)
    assert joined == "".join("".join(c.quote for c in expected.citations).split())
    for c in expected.citations:
        assert article_text(settings, c.source)[c.start : c.end] == c.quote
        assert "<script>" in (c.title or "")
    assert parts[-1].buttons() and not any(m.reply_markup for m in parts[:-1])


async def test_not_found_points_to_sources(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    assert service.answer(OFF_TOPIC).status == "not_found"
    async with running_bot(api, service, settings):
        api.send_text(OFF_TOPIC)
        (reply,) = await wait_sent(api, 111)
    assert reply.text == NOT_FOUND and not reply.buttons()


async def test_a_refusal_says_what_the_articles_lack(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    question = "What did Putin say about the 2031 invasion of Ukraine?"
    note = service.answer(question).note
    assert note is not None and "2031" in note
    async with running_bot(api, service, settings):
        api.send_text(question)
        (reply,) = await wait_sent(api, 111)
    assert reply.text == f"{NOT_FOUND}\n\n{note}" and not reply.buttons()


async def test_allowlist_refuses_others_once(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings, allowed_users=["222", "@Carol"]):
        api.send_text(QUESTION, user_id=111, username="mallory")
        api.send_text("/start", user_id=111, username="mallory")
        api.send_text(QUESTION, user_id=222, username=None)
        api.send_text(QUESTION, user_id=333, username="carol")
        await wait_sent(api, 222)
        await wait_sent(api, 333)
        await wait_sent(api, 111)
        q = api.press(api.sent(111)[0], "ex:0", user_id=111, username="mallory")
        await api.wait_for(lambda: api.callback_answers(q), what="the refusal alert")
    assert [m.text for m in api.sent(111)] == [REFUSAL]
    assert api.callback_answers(q)[0].params["text"] == REFUSAL
    assert len(answers_in(api, 222)) == 1 and len(answers_in(api, 333)) == 1


async def test_rate_limit_answers_then_asks_to_slow_down_once(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    async with running_bot(api, service, settings, rate_limit_per_minute=2, admins=["999"]):
        for _ in range(5):
            api.send_text(QUESTION)
        for _ in range(3):
            api.send_text(QUESTION, user_id=999, username="boss")
        await wait_sent(api, 111, 3)
        await wait_sent(api, 999, 3)
        await asyncio.sleep(0.3)
    slow = [m for m in api.sent(111) if "faster than" in m.text]
    assert len(answers_in(api, 111)) == 2 and len(slow) == 1 and len(api.sent(111)) == 3
    assert "2 questions a minute" in slow[0].text
    assert len(answers_in(api, 999)) == 3, "admins are not rate limited"


async def test_group_chats_answer_only_when_addressed(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    g = {"chat_id": GROUP, "chat_type": "supergroup"}
    async with running_bot(api, service, settings):
        api.send_text(QUESTION, **g)
        api.send_text(f"@someotherbot {QUESTION}", **g)
        api.send_text("/start@someotherbot", **g)
        api.send_text("/frobnicate", **g)
        api.send_media("photo", **g)
        chatter = api.send_text("nice weather", **g)
        api.edit_text(chatter, "nice weather!")
        mention = api.send_text(f"@{api.bot_username} {QUESTION}", **g)
        await wait_sent(api, GROUP)
        (answer,) = api.replies_to(mention)
        by_reply = api.send_text(QUESTION, reply_to=answer, **g)
        ask = api.send_text(f"/ask {QUESTION}", **g)
        ask_named = api.send_text(f"/ask@{api.bot_username} {QUESTION}", **g)
        empty_ask = api.send_text("/ask", **g)
        bare_mention = api.send_text(f"@{api.bot_username}", **g)
        unknown = api.send_text(f"/frobnicate@{api.bot_username}", **g)
        photo = api.send_media("photo", caption=f"@{api.bot_username} what is this?", **g)
        await wait_sent(api, GROUP, 8, timeout=8)
        await asyncio.sleep(0.3)
    assert len(api.sent(GROUP)) == 8
    assert api.replies_to(photo)[0].text == NOT_TEXT
    for update in (mention, by_reply, ask, ask_named):
        (reply,) = api.replies_to(update)
        assert reply.blockquotes(), "answered with quotes, as a reply to the question"
    assert "/ask" in api.replies_to(empty_ask)[0].text
    assert api.replies_to(bare_mention)[0].html == EMPTY
    assert "/help" in next(m.text for m in api.sent(GROUP) if "frobnicate" in m.text)
    assert unknown["message"]["text"].startswith("/frobnicate@")
    assert api.rejected == []


async def test_non_text_edited_empty_unknown_and_too_long(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService]
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    kinds = ["photo", "sticker", "voice", "document", "location"]
    async with running_bot(api, service, settings):
        for kind in kinds:
            api.send_media(kind)
        original = api.send_text("/help")
        api.edit_text(original, QUESTION)
        api.send_text("/frobnicate now")
        api.send_text("x" * (settings.max_question_chars + 1))
        api.send_text("  \u200b ")
        await wait_sent(api, 111, len(kinds) + 5)
        await asyncio.sleep(0.3)
    texts = [m.text for m in api.sent(111)]
    assert texts.count(NOT_TEXT) == len(kinds)
    assert texts.count(EDITED) == 1
    assert any("I don't know /frobnicate" in t for t in texts)
    assert any(f"to {settings.max_question_chars} characters or fewer" in t for t in texts)
    assert any("Please ask a question" in t for t in texts), "the service's own one-sentence reason"
    assert len(texts) == len(kinds) + 5 and not answers_in(api, 111)


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


async def test_admins_can_reindex_others_cannot(fake_bot_api: FakeBotAPI, hashing_settings: Settings) -> None:
    api, settings = fake_bot_api, hashing_settings
    service = build_service(settings)
    (settings.sources / "new.txt").write_text(
        "---\ntitle: Envoys meet\npublisher: Test Wire\ndate: 2024-05-01\n---\n"
        "American and Russian envoys met in Geneva on Monday to discuss arms control and prisoner swaps.\n",
        encoding="utf-8",
    )
    async with running_bot(api, service, settings, admins=["@boss"]):
        api.send_text("/reindex")
        await wait_sent(api, 111)
        api.send_text("/reindex", user_id=999, username="Boss")
        await wait_sent(api, 999, 2)
    assert "Only the bot's admins" in api.sent(111)[0].text
    version = service.stats().version
    expected = f"1 new, 0 changed, 0 removed articles; index version {version}"
    assert api.sent(999)[-1].text == expected
    assert service.stats().articles == 6


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
    update = {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": api.chat(111),
            "from": api.user(111),
            "text": QUESTION,
        },
    }
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


def test_missing_or_malformed_token_exits_2_with_one_sentence(
    seeded: tuple[Settings, AnsweringService], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = seeded
    for token in (None, "", "12345:too-short", "not a token at all, but long enough to look like one"):
        assert run_bot(settings, BotSettings(_env_file=None, bot_token=token)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err
        if token:
            assert token not in err


def _bot_env(api: FakeBotAPI, settings: Settings, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "USRU_", "EMBEDDING_"))}
    env.update(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_POLL_TIMEOUT_S="1",
        USRU_SOURCES=str(settings.sources),
        USRU_INDEX_DIR=str(settings.index_dir),
        EMBEDDING_MODEL="hashing",
    )
    return env


async def alive_until(
    proc: asyncio.subprocess.Process, log_path: Path, predicate: Any, timeout: float, what: str
) -> None:
    """Wait for predicate() while the bot process runs; fail with its log if it exits or stalls."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
            state = f"exited with {proc.returncode}" if proc.returncode is not None else "stalled"
            raise AssertionError(f"the bot {state} before {what}:\n{log_path.read_text()}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_usru_bot_starts_answers_and_stops_cleanly_on_a_signal(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], tmp_path: Path, stop_signal: int
) -> None:
    api, (settings, _) = fake_bot_api, seeded
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "bot",
            cwd=tmp_path,
            env=_bot_env(api, settings, api.token),
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await alive_until(proc, log_path, lambda: api.commands and api.calls("getUpdates"), 30, "polling")
            update = api.send_text(QUESTION)
            await alive_until(proc, log_path, lambda: api.sent(111), 10, "an answer")
            proc.send_signal(stop_signal)
            rc = await asyncio.wait_for(proc.wait(), 15)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    log = log_path.read_text()
    assert rc == 0, log
    assert len(answers_in(api, 111)) == 1
    assert api.confirmed_offset == update["update_id"] + 1, "the offset was committed on shutdown"
    assert api.token not in log and api.token.split(":")[1] not in log
    assert "Traceback" not in log


async def test_usru_bot_with_a_token_telegram_rejects_exits_2(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], tmp_path: Path
) -> None:
    api, (settings, _) = fake_bot_api, seeded
    wrong = "7000001:" + "Z" * 35
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "bot",
        env=_bot_env(api, settings, wrong),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    text = err.decode()
    assert "rejected TELEGRAM_BOT_TOKEN" in text and wrong.split(":")[1] not in text


async def test_a_webhook_port_in_use_is_reported_in_one_sentence(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], unused_tcp_port: int
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    port = unused_tcp_port
    bs = bot_settings(
        api, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_listen="127.0.0.1", webhook_port=port
    )
    app = build_application(service, settings, bs)
    await app.initialize()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(BotSettingsError, match=r"cannot listen on 127\.0\.0\.1:\d+ .*REUSE_PORT=true"):
            async with serving_webhook(cast(OnceApplication, app), bs, "s" * 32, asyncio.Event()):
                pass
    assert api.webhook == {}  # nothing registered with Telegram for a server that never listened
