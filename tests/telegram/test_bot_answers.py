"""End to end, the answers: commands, verbatim quotes with buttons, long answers split, not found, refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.telegram.commands import COMMANDS
from bot.telegram.replies import STALE
from bot.telegram_format import NOT_FOUND
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.support.telegram import (
    OFF_TOPIC,
    QUESTION,
    running_bot,
    wait_sent,
)

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


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
