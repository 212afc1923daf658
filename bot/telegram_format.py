"""Telegram HTML for answers, sources and help: escaped, and split to fit Telegram's message limit."""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from bot.render import plural
from retrieval.answer import Answer, Citation
from retrieval.textsafety import CONTROLS, replace_unsafe

MAX_MESSAGE = 4096
# Quotes longer than this collapse into an expandable blockquote so one answer stays scannable.
EXPANDABLE_OVER = 300
MAX_BUTTON_LABEL = 48
# Lists of outlets in /start and /about are cut here; /sources has the full list.
MAX_LISTED_OUTLETS = 8

NOT_FOUND = (
    "The indexed articles don't cover this question, so I have nothing to quote. "
    "Send /sources to see which articles I know."
)

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")


class ArticleLike(Protocol):
    """What /sources shows of one indexed article."""

    @property
    def source(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def publisher(self) -> str | None: ...
    @property
    def date(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


class StatsLike(Protocol):
    """What /start and /about show of the index."""

    @property
    def version(self) -> str: ...
    @property
    def articles(self) -> int: ...
    @property
    def chunks(self) -> int: ...
    @property
    def built_at(self) -> str: ...
    @property
    def publishers(self) -> list[str]: ...
    @property
    def date_range(self) -> tuple[str | None, str | None]: ...


def tg_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram measures messages in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """Text safe to send: no lone surrogates, no control characters other than tab and newline."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    # Controls other than tab and newline: Telegram rejects or mangles them.
    return replace_unsafe(text, CONTROLS, keep="\t\n")


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(clean(text), quote=False)


def escape_attr(text: str) -> str:
    """Escape a value for a double-quoted HTML attribute."""
    return html.escape(clean(text), quote=True)


def link(url: str | None, label_html: str) -> str:
    """`label_html` linked to url when it is a plain http(s) URL, else unlinked."""
    if url and re.match(r"^https?://[^\s<>\"]+$", url):
        return f'<a href="{escape_attr(url)}">{label_html}</a>'
    return label_html


def _cost(ch: str) -> int:
    return tg_len(escape(ch))


def _is_glue(ch: str) -> bool:
    """Characters that must not start a piece: combining marks, joiners, variation selectors."""
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in "\u200d\ufe0e\ufe0f"
        or ("\U0001f3fb" <= ch <= "\U0001f3ff")
    )


def split_text(text: str, budget: int) -> list[str]:
    """Cut text into pieces whose escaped length fits budget, at paragraph, line, sentence or word ends."""
    if budget < 8:
        raise ValueError("budget too small to split into")
    pieces: list[str] = []
    rest = text
    # Each round emits at least one character, so this loop ends within len(text) rounds.
    for _ in range(len(text) + 1):
        if tg_len(escape(rest)) <= budget:
            if rest.strip():
                pieces.append(rest.strip())
            break
        used, fit = 0, 0
        for ch in rest:
            used += _cost(ch)
            if used > budget:
                break
            fit += 1
        cut = _best_cut(rest, fit)
        piece, rest = rest[:cut], rest[cut:]
        if piece.strip():
            pieces.append(piece.strip())
    return pieces


def _best_cut(text: str, fit: int) -> int:
    """Where to end the next piece: the latest natural boundary late enough in it, else `fit`."""
    window = text[:fit]
    at = window.rfind("\n\n")
    if at >= fit // 3:
        return at + 2
    at = window.rfind("\n")
    if at >= fit // 2:
        return at + 1
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() >= fit // 2]
    if ends:
        return ends[-1]
    spaces = [m.end() for m in re.finditer(r"\s+", window) if m.end() >= fit // 2]
    if spaces:
        return spaces[-1]
    return _grapheme_safe(text, max(fit, 1))


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _grapheme_safe(text: str, cut: int) -> int:
    """Move a hard cut back so it does not split an emoji sequence, a flag or a letter from its accent."""
    original = cut
    while 1 < cut < len(text) and (_is_glue(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if 0 < cut < len(text) and _is_regional(text[cut]) and _is_regional(text[cut - 1]):
        run = 0
        while run < cut and _is_regional(text[cut - 1 - run]):
            run += 1
        if run % 2:
            cut -= 1
    # A run of glue longer than the piece cannot be kept whole; then any cut is better than none.
    return cut if cut > 0 else original


def pack(blocks: Iterable[str], limit: int = MAX_MESSAGE, sep: str = "\n\n") -> list[str]:
    """Join self-contained HTML blocks into as few messages as fit within limit."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if tg_len(block) > limit:
            raise ValueError("a block is longer than one message")
        candidate = f"{current}{sep}{block}" if current else block
        if tg_len(candidate) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def wrapped_blocks(text: str, wrap: Callable[[str, int], str], limit: int) -> list[str]:
    """Escape text and wrap it with wrap(escaped, part_number), splitting so each block fits limit."""
    overhead = max(tg_len(wrap("", 1)), tg_len(wrap("", 2)))
    whole = wrap(escape(text), 1)
    if tg_len(whole) <= limit:
        return [whole]
    return [wrap(escape(piece), i) for i, piece in enumerate(split_text(text, limit - overhead), start=1)]


def source_line(c: Citation | ArticleLike) -> str:
    """Publisher, date and title of a cited article, as HTML."""
    parts = [f"<i>{escape(c.publisher)}</i>" if c.publisher else None, escape(c.date) if c.date else None]
    title = f"“{escape(c.title)}”" if c.title else escape(c.source)
    return " · ".join(p for p in (*parts, title) if p)


def quote_blocks(c: Citation, limit: int = MAX_MESSAGE, note: str = "") -> list[str]:
    """One citation: its number and source line, then the verbatim quote in a blockquote."""
    header = f"<b>[{c.n}]</b> {source_line(c)}{note}"

    def wrap(body: str, part: int) -> str:
        head = header if part == 1 else f"<b>[{c.n}]</b> <i>(continued)</i>"
        tag = "<blockquote expandable>" if len(c.quote) > EXPANDABLE_OVER else "<blockquote>"
        return f"{head}\n{tag}{body}</blockquote>"

    if tg_len(wrap("", 1)) > limit // 2:
        # A pathological title: shorten the header rather than fail.
        header = f"<b>[{c.n}]</b> {escape(_clip(c.title or c.source, limit // 8))}"
    return wrapped_blocks(c.quote, wrap, limit)


def _same_story_notes(answer: Answer) -> dict[int, str]:
    notes: dict[int, str] = {}
    for group in answer.groups:
        first, *others = group
        for n in others:
            notes[n] = f" <i>(same story as [{first}])</i>"
    return notes


def format_answer(answer: Answer, limit: int = MAX_MESSAGE, *, echo_question: bool = False) -> list[str]:
    """The reply to a question as Telegram HTML messages: lead line, then numbered quotes."""
    blocks = (
        wrapped_blocks(answer.question, lambda body, _: f"<i>❓ {body}</i>", limit) if echo_question else []
    )
    # What the articles lack (a year or a name none mentions): the reader learns why, or what to discount.
    note = wrapped_blocks(answer.note, lambda body, _: f"<i>{body}</i>", limit) if answer.note else []
    if answer.status == "not_found" or not answer.citations:
        # A reply in another language (a Russian question) carries its own refusal.
        return pack([*blocks, escape(NOT_FOUND if answer.language == "en" else answer.lead), *note], limit)
    if answer.lead.strip():
        blocks.extend(wrapped_blocks(answer.lead, lambda body, _: f"<b>{body}</b>", limit))
    blocks.extend(note)
    notes = _same_story_notes(answer)
    for c in answer.citations:
        blocks.extend(quote_blocks(c, limit, notes.get(c.n, "")))
    return pack(blocks, limit)


def format_more(citations: Sequence[Citation], limit: int = MAX_MESSAGE) -> list[str]:
    """Further supporting quotes, numbered like the answer they extend."""
    blocks = ["<b>More quotes</b>"]
    for c in citations:
        blocks.extend(quote_blocks(c, limit))
    return pack(blocks, limit)


def format_context(
    c: Citation, before: str, quote: str, after: str, url: str | None = None, limit: int = MAX_MESSAGE
) -> list[str]:
    """A cited passage with the text around it, the quote in bold, under its source line."""
    header = f"<b>[{c.n}]</b> {source_line(c) if not url else link(url, source_line(c))}"
    before, after = clean(before).lstrip(), clean(after).rstrip()
    room = limit - tg_len(header) - tg_len(f"\n<blockquote expandable>…<b>{escape(quote)}</b>…</blockquote>")
    if room < 0:
        return quote_blocks(c, limit)
    # Trim the surroundings, never the quote, until the whole passage fits one message.
    while tg_len(escape(before)) + tg_len(escape(after)) > room:
        if len(before) >= len(after):
            before = before[len(before) // 2 :]
        else:
            after = after[: len(after) // 2]
    tag = (
        "<blockquote expandable>"
        if len(before) + len(quote) + len(after) > EXPANDABLE_OVER
        else "<blockquote>"
    )
    body = f"{escape(before)}<b>{escape(quote)}</b>{escape(after)}"
    return [f"{header}\n{tag}{body}</blockquote>"]


def button_label(citations: Sequence[Citation]) -> str:
    """Text of the button that shows one cited article in context."""
    c = citations[0]
    numbers = ",".join(str(x.n) for x in citations)
    name = c.publisher or c.title or c.source
    return _clip(clean(f"[{numbers}] {name}" + (f" · {c.date}" if c.date else "")), MAX_BUTTON_LABEL)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _outlets(publishers: Sequence[str]) -> str:
    shown = [escape(p) for p in publishers[:MAX_LISTED_OUTLETS]]
    if len(publishers) > MAX_LISTED_OUTLETS:
        shown.append(f"{len(publishers) - MAX_LISTED_OUTLETS} more")
    return ", ".join(shown) if shown else "unknown outlets"


def _date_range(stats: StatsLike) -> str:
    first, last = stats.date_range
    if first and last:
        return escape(first) if first == last else f"{escape(first)} to {escape(last)}"
    return "unknown dates"


def format_start(stats: StatsLike) -> str:
    """The greeting: what the bot does and which articles it knows."""
    return (
        "<b>Hello! I answer questions about US–Russia relations, "
        "using only the news articles I was given.</b>\n\n"
        f"I know {plural(stats.articles, 'article')} from {_outlets(stats.publishers)} "
        f"(dated {_date_range(stats)}). Every answer quotes the articles word for word, with the outlet, "
        "date and title, so you can check it. If the articles don't cover something, I say so.\n\n"
        "Type a question, or tap one of these:"
    )


def format_help(max_question_chars: int) -> str:
    """What the commands do and how to ask."""
    return (
        "<b>How to use me</b>\n"
        "Send a question as a normal message, e.g. <i>What did Putin say about relations with the US?</i> "
        f"(up to {max_question_chars} characters).\n"
        "I reply with quotes from the articles; tap a source button to read the passage in context.\n\n"
        "/sources – the articles I know\n"
        "/about – version and index details\n"
        "/ask &lt;question&gt; – ask in a group chat (or mention me, or reply to me)\n"
        "/help – this message\n"
        "/reindex – re-read the articles folder (bot admins only)"
    )


def format_sources(articles: Sequence[ArticleLike], limit: int = MAX_MESSAGE) -> list[str]:
    """The indexed articles, one line each, in as many messages as needed."""
    if not articles:
        return ["No articles are indexed yet."]
    lines = [f"<b>{plural(len(articles), 'indexed article')}</b>"]
    for i, a in enumerate(articles, start=1):
        title = escape(_clip(clean(a.title or a.source), 300))
        who = " · ".join(
            x
            for x in (
                f"<i>{escape(_clip(a.publisher, 120))}</i>" if a.publisher else None,
                escape(_clip(a.date, 40)) if a.date else None,
            )
            if x
        )
        lines.append(f"{i}. {link(a.url, title)}" + (f" — {who}" if who else ""))
    return pack(lines, limit, sep="\n")


def _when(iso: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return escape(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def format_about(stats: StatsLike, app_version: str) -> str:
    """Version, index size and when the index was last rebuilt."""
    return (
        f"<b>usru {escape(app_version)}</b> – answers from news articles, with verbatim quotes.\n\n"
        f"Index version: {escape(stats.version)}\n"
        f"Articles: {stats.articles} from {plural(len(stats.publishers), 'outlet')}\n"
        f"Passages: {stats.chunks}\n"
        f"Dates covered: {_date_range(stats)}\n"
        f"Last re-indexed: {_when(stats.built_at)}"
    )
