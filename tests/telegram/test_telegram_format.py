"""Telegram HTML formatting, escaping and splitting, checked with the fake server's own HTML parser."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import ClassVar

import pytest

from bench.fakebotapi import TOKEN, TelegramHTMLError, parse_html, utf16_len
from bot.bot_settings import BotSettings, BotSettingsError
from bot.telegram.answers import AnswerCache, CachedAnswer, by_article
from bot.telegram.logs import RedactToken
from bot.telegram.state import QuestionRateLimiter
from bot.telegram_format import (
    EXPANDABLE_OVER,
    MAX_BUTTON_LABEL,
    MAX_MESSAGE,
    NOT_FOUND,
    button_label,
    clean,
    escape,
    format_about,
    format_answer,
    format_context,
    format_more,
    format_sources,
    format_start,
    pack,
    split_text,
    tg_len,
)
from retrieval.answer import Answer, Citation

HOSTILE = "Tom & Jerry <script>alert(1)</script> </blockquote><b>bold?</b> &amp; &lt; >"
RTL = "قال الرئيس بوتين إن العلاقات مع الولايات المتحدة \u200fמוסקבה ו־וושינגטון"
EMOJI = "🇺🇸🇷🇺 talks 👨‍👩‍👧‍👦 family 👍🏽 e\u0301te"


def cite(n: int, quote: str, **kw: object) -> Citation:
    """A citation with defaults for what a test does not care about."""
    fields: dict[str, object] = {
        "source": f"{n:03d}.txt",
        "title": f"Title {n}",
        "publisher": "Outlet",
        "date": "2024-01-0" + str(n % 9 + 1),
        "start": 0,
        "end": len(quote),
    }
    fields.update(kw)
    return Citation(n=n, quote=quote, **fields)  # type: ignore[arg-type]


def answer_of(*citations: Citation, lead: str = "Two say so.", more: tuple[Citation, ...] = ()) -> Answer:
    """An answered Answer around the given citations."""
    return Answer(
        question="What happened?",
        status="answered",
        lead=lead,
        answer=lead,
        citations=citations,
        mode="extractive",
        timings_ms={},
        more=more,
    )


def parsed(messages: list[str]) -> list[tuple[str, list[dict[str, object]]]]:
    """Parse every message as Telegram would, checking the length limit."""
    out = []
    for m in messages:
        text, entities = parse_html(m)
        assert utf16_len(text) <= MAX_MESSAGE
        assert tg_len(m) <= MAX_MESSAGE
        out.append((text, entities))
    return out


def blockquotes(messages: list[str]) -> list[str]:
    """Text inside every blockquote, across messages, in order."""
    found = []
    for text, entities in parsed(messages):
        units = text.encode("utf-16-le")
        for e in entities:
            if e["type"] == "blockquote":
                start, length = int(str(e["offset"])), int(str(e["length"]))
                found.append(units[2 * start : 2 * (start + length)].decode("utf-16-le"))
    return found


def squash(text: str) -> str:
    """Text without whitespace, to compare pieces cut at whitespace with the whole."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("text", [HOSTILE, RTL, EMOJI, "a\x00b\x1fc\x7fd", "x\ud800y", "&#x1F600; &bogus;"])
def test_escape_round_trips_through_telegrams_parser(text: str) -> None:
    html = f"<b>{escape(text)}</b>"
    plain, entities = parse_html(html)
    assert entities[0]["type"] == "b"
    assert plain == clean(text)


def test_clean_only_drops_what_telegram_cannot_take() -> None:
    assert clean("a\x00b\x1fc\x7fd\te\nf") == "a b c d\te\nf"
    assert clean("x\ud800y") == "x?y"
    assert clean(RTL) == RTL and clean(EMOJI) == EMOJI and clean(HOSTILE) == HOSTILE


def test_fake_parser_rejects_what_telegram_rejects() -> None:
    for bad in [
        "a < b",
        "AT&T",
        "<b>open",
        "<b><i>x</b></i>",
        "<div>x</div>",
        "<blockquote><blockquote>x</blockquote></blockquote>",
        "<a>no href</a>",
        "<pre><b>x</b></pre>",
        "&nbsp;",
    ]:
        with pytest.raises(TelegramHTMLError):
            parse_html(bad)


def test_hostile_quotes_are_escaped_and_kept_verbatim() -> None:
    quotes = [HOSTILE, RTL, EMOJI]
    messages = format_answer(answer_of(*(cite(i, q) for i, q in enumerate(quotes, start=1)), lead=HOSTILE))
    assert blockquotes(messages) == quotes
    text = "\n".join(t for t, _ in parsed(messages))
    assert text.startswith(HOSTILE)
    assert "Outlet" in text and "Title 2" in text


def test_ten_thousand_character_quote_is_split_into_valid_messages() -> None:
    sentence = "Moscow & Washington <disagree> about </blockquote> sanctions, 🇺🇸 and 🇷🇺 say. "
    quote = (sentence * 160)[:10_000]
    messages = format_answer(answer_of(cite(1, quote), cite(2, "Short & sweet.")))
    assert len(messages) >= 3
    pieces = blockquotes(messages)
    assert pieces[-1] == "Short & sweet."
    assert squash("".join(pieces[:-1])) == squash(quote)
    # Every part is labelled with its citation number, so no quote loses its source.
    for text, _ in parsed(messages[1:]):
        assert re.match(r"\[[12]\] ", text)
    assert sum(t.count("[1] (continued)") for t, _ in parsed(messages)) == len(pieces) - 2


def test_a_quote_that_fits_is_never_split_across_messages() -> None:
    quotes = [f"Quote {i}: " + "word " * 150 for i in range(1, 12)]
    messages = format_answer(answer_of(*(cite(i, q) for i, q in enumerate(quotes, start=1))))
    assert len(messages) >= 2
    assert blockquotes(messages) == quotes
    for message in messages:
        assert message.count("<blockquote") == message.count("</blockquote>")


def test_long_quotes_are_expandable_short_ones_are_not() -> None:
    long_quote = "x " * EXPANDABLE_OVER
    messages = format_answer(answer_of(cite(1, "Short."), cite(2, long_quote)))
    assert "<blockquote>Short.</blockquote>" in messages[0]
    assert "<blockquote expandable>" in messages[0]


def test_not_found_says_so_plainly_and_points_to_sources() -> None:
    answer = Answer("Who won the 1966 World Cup?", "not_found", "Nothing.", "Nothing.", (), "extractive", {})
    messages = format_answer(answer)
    assert messages == [escape(NOT_FOUND)]
    assert "don't cover" in messages[0] and "/sources" in messages[0]
    echoed = format_answer(answer, echo_question=True)
    assert "1966 World Cup" in parsed(echoed)[0][0]


def test_what_the_articles_lack_is_said_after_the_refusal_or_the_lead() -> None:
    note = "No indexed article mentions <Zyx> & Co."
    refusal = Answer("Who is Zyx?", "not_found", "Nothing.", "Nothing.", (), "extractive", {}, note=note)
    text = "\n".join(t for t, _ in parsed(format_answer(refusal)))
    assert text.index("don't cover") < text.index(note)
    answered = dataclasses.replace(answer_of(cite(1, "A.")), note=note)
    text = "\n".join(t for t, _ in parsed(format_answer(answered)))
    assert text.index("Two say so.") < text.index(note) < text.index("A.")
    assert note not in "".join(format_answer(answer_of(cite(1, "A."))))


def test_same_story_groups_are_noted() -> None:
    answer = answer_of(cite(1, "A."), cite(2, "B."))
    grouped = dataclasses.replace(answer, groups=((1, 2),))
    assert "same story as [1]" in format_answer(grouped)[0]


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("First paragraph.\n\nSecond paragraph is here.\n\nThird.", 30),
        ("One sentence here. Another sentence there. And a third one follows.", 25),
        ("nospaces" * 300, 100),
        ("👨‍👩‍👧‍👦" * 400, 64),
        ("🇺🇸🇷🇺" * 300, 50),
        ("e\u0301" * 500, 41),
        ("&<>" * 1000, 50),
        (RTL * 40, 120),
    ],
)
def test_split_text_fits_budget_and_keeps_every_character(text: str, budget: int) -> None:
    pieces = split_text(text, budget)
    assert all(tg_len(escape(p)) <= budget for p in pieces)
    assert squash("".join(pieces)) == squash(text)
    for p in pieces:
        assert p[0] not in "\u200d\u0301\U0001f3fd", "a piece starts inside a grapheme"
        assert p[-1] != "\u200d"
    if "🇺" in text:
        # Regional-indicator pairs (flags) stay together.
        assert all(len(p) % 2 == 0 for p in pieces)


def test_split_text_prefers_paragraphs_then_sentences() -> None:
    assert split_text("Alpha beta.\n\nGamma delta epsilon.", 25) == ["Alpha beta.", "Gamma delta epsilon."]
    assert split_text("Alpha beta gamma. Delta zeta eta.", 30) == ["Alpha beta gamma.", "Delta zeta eta."]


def test_pack_keeps_blocks_whole_and_in_order() -> None:
    blocks = [f"<b>{i}</b> " + "y" * 900 for i in range(20)]
    messages = pack(blocks)
    assert "\n\n".join(messages) == "\n\n".join(blocks)
    assert all(tg_len(m) <= MAX_MESSAGE for m in messages)
    with pytest.raises(ValueError):
        pack(["z" * (MAX_MESSAGE + 1)])


def test_context_puts_the_quote_in_bold_and_trims_only_the_surroundings() -> None:
    c = cite(3, "the <quote> & more", publisher="<Evil> & Co", title="</blockquote>")
    (message,) = format_context(
        c, "Before & " * 2000, c.quote, " after <x>" * 2000, url="https://e.com/?a=1&b='2'"
    )
    text, entities = parse_html(message)
    bold = [e for e in entities if e["type"] == "b" and e["length"] == utf16_len(c.quote)]
    assert bold and c.quote in text
    assert any(e["type"] == "a" and e["href"] == "https://e.com/?a=1&b='2'" for e in entities)
    (plain,) = format_context(c, "javascript:", c.quote, "", url="javascript:alert(1)")
    assert "href" not in plain


def test_more_quotes_and_sources_and_about_are_valid_html() -> None:
    assert blockquotes(format_more([cite(5, HOSTILE)])) == [HOSTILE]

    class Article:
        def __init__(self, i: int) -> None:
            self.source, self.title, self.publisher = f"{i}.txt", f"{HOSTILE} {i}", "P&Q"
            self.date, self.url = "2024-05-01", "https://example.com/a?x=1&y=2" if i % 2 else None

    pages = format_sources([Article(i) for i in range(400)])
    assert len(pages) > 1
    lines = [line for text, _ in parsed(pages) for line in text.split("\n")]
    assert lines[0] == "400 indexed articles" and len(lines) == 401

    class Stats:
        version, articles, chunks, built_at = "v000007", 12, 99, "2026-11-22T08:20:22+00:00"
        publishers: ClassVar[list[str]] = [f"Outlet <{i}>" for i in range(20)]
        date_range = ("2015-07-04", "2021-06-15")

    about, _ = parse_html(format_about(Stats(), "0.1.0"))
    assert "v000007" in about and "2026-11-22 08:20 UTC" in about and "12" in about
    start, _ = parse_html(format_start(Stats()))
    assert "12 articles" in start and "Outlet <0>" in start and "12 more" in start
    assert "2015-07-04 to 2021-06-15" in start


def test_button_labels_are_short() -> None:
    label = button_label([cite(1, "q", publisher="A very long publisher name " * 5), cite(4, "r")])
    assert label.startswith("[1,4] A very long") and len(label) <= MAX_BUTTON_LABEL


def test_bot_settings_parse_lists_and_check_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", " 42, @Alice ,bob,, ")
    monkeypatch.setenv("TELEGRAM_ADMINS", "7")
    s = BotSettings(_env_file=None)
    assert s.allowed_users == ["42", "@Alice", "bob"]
    assert s.is_allowed(42, None) and s.is_allowed(5, "alice") and s.is_allowed(6, "BOB")
    assert s.is_allowed(7, None) and not s.is_allowed(8, "mallory")
    assert s.is_admin(7, None) and not s.is_admin(42, None)
    with pytest.raises(BotSettingsError, match="not set"):
        s.token()
    bad = BotSettings(_env_file=None, bot_token="123:short-secret")
    with pytest.raises(BotSettingsError) as err:
        bad.token()
    assert "short-secret" not in str(err.value)
    assert BotSettings(_env_file=None, bot_token=TOKEN).token() == TOKEN
    assert TOKEN not in repr(BotSettings(_env_file=None, bot_token=TOKEN))
    monkeypatch.setenv("TELEGRAM_RATE_LIMIT_PER_MINUTE", "lots")
    with pytest.raises(BotSettingsError, match="TELEGRAM_RATE_LIMIT_PER_MINUTE"):
        BotSettings(_env_file=None)


def test_bot_settings_from_a_dotenv_file_with_empty_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_RATE_LIMIT_PER_MINUTE=\nTELEGRAM_WEBHOOK_URL=\n"
        "TELEGRAM_ALLOWED_USERS=\nTELEGRAM_EXAMPLE_QUESTIONS=One?|Two?\nUSRU_SOURCES=elsewhere\n",
        encoding="utf-8",
    )
    s = BotSettings(_env_file=env)
    assert s.token() == TOKEN and s.rate_limit_per_minute == 6 and s.webhook_url is None
    assert s.allowed_users == [] and s.example_questions == ["One?", "Two?"]


def test_bot_settings_urls() -> None:
    s = BotSettings(
        _env_file=None, api_base_url="http://127.0.0.1:81/bot", webhook_url="https://x.org/hooks/usru"
    )
    assert s.file_url() == "http://127.0.0.1:81/file/bot"
    assert s.url_path() == "hooks/usru"
    with pytest.raises(BotSettingsError, match="TELEGRAM_API_BASE_URL"):
        BotSettings(_env_file=None, api_base_url="ftp://x")


def test_question_rate_limiter_window_and_single_warning() -> None:
    now = [1000.0]
    limiter = QuestionRateLimiter(3, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.check(1)
    assert 59.0 < wait <= 60.0
    assert limiter.first_warning(1) and not limiter.first_warning(1)
    assert limiter.check(2) == 0.0
    now[0] += 60.5
    assert limiter.check(1) == 0.0
    assert limiter.first_warning(1), "a new burst earns a new warning"


def test_answer_cache_is_bounded_per_chat_and_overall() -> None:
    cache = AnswerCache(per_chat=2, max_chats=2)
    entry = CachedAnswer(answer_of(cite(1, "q")), by_article([cite(1, "q")]), ())
    keys = [cache.put(1, entry) for _ in range(3)]
    assert all(len(k.encode()) <= 8 for k in keys)
    assert cache.get(1, keys[0]) is None and cache.get(1, keys[2]) is entry
    cache.put(2, entry)
    cache.put(3, entry)
    assert cache.get(1, keys[2]) is None


def test_token_is_redacted_from_logs_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RedactToken(TOKEN))
    logger = logging.getLogger("usru.test")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        logger.exception("request to %s failed", f"/bot{TOKEN}/sendMessage")
    assert TOKEN not in caplog.text
    assert "<TELEGRAM_BOT_TOKEN>" in caplog.text
