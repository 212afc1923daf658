"""End to end, who gets answered: allowlist, rate limit, group chats, odd messages, admin commands."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.telegram.replies import EDITED, EMPTY, NOT_TEXT, REFUSAL
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.support.telegram import (
    GROUP,
    QUESTION,
    answers_in,
    running_bot,
    wait_sent,
)

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


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
