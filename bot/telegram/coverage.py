"""/compare and /timeline: each leaning's quotes on a question, and a topic's timeline as a picture."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.render import plural
from bot.telegram.access import is_group
from bot.telegram.questions import _within_rate
from bot.telegram.replies import TOO_SLOW
from bot.telegram.state import BotState, state_of
from bot.telegram.transport import keep_typing, send, send_all
from bot.telegram_format import MAX_MESSAGE, escape, pack, quote_blocks, tg_len
from retrieval.errors import UsruError

if TYPE_CHECKING:
    from retrieval.compare import Comparison
    from retrieval.timeline import Timeline

log = logging.getLogger(__name__)
T = TypeVar("T")

COMPARE_USAGE = (
    "Put the question after the command, for example: <code>/compare How did the Helsinki summit go?</code>"
)
TIMELINE_USAGE = "Put the topic after the command, for example: <code>/timeline sanctions</code>"
NOT_AVAILABLE = "This bot's answering service cannot compare outlets."
NOTHING = "Nothing relevant from these outlets."
MAX_CAPTION = 1024


def _asked(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or [])


async def _run_checked(
    update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str
) -> tuple[BotState, Message, str] | None:
    """The state, the message and the text after the command, once the asker may ask now."""
    state = state_of(context)
    message, user = update.message, update.effective_user
    assert message is not None and user is not None
    reply_to = message if is_group(message) else None
    text = _asked(context)
    if not text.strip():
        await send(context, message.chat_id, usage, reply_to=reply_to)
        return None
    from retrieval.service import AnsweringService

    if not isinstance(state.service, AnsweringService):
        await send(context, message.chat_id, escape(NOT_AVAILABLE), reply_to=reply_to)
        return None
    if not state.bs.is_admin(user.id, user.username) and not await _within_rate(
        state, context, user.id, message.chat_id, reply_to
    ):
        return None
    return state, message, text


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compare <question>: the best quotes from each leaning's outlets."""
    checked = await _run_checked(update, context, COMPARE_USAGE)
    if checked is None:
        return
    state, message, text = checked
    from retrieval import api

    result = await _off_loop(state, context, message, api.compare_leanings, state.service, text)
    if result is not None:
        reply_to = message if is_group(message) else None
        await send_all(context, message.chat_id, format_comparison(result), reply_to=reply_to)


async def timeline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timeline <topic>: a chart of articles per month by leaning, and the quotes at the peaks."""
    checked = await _run_checked(update, context, TIMELINE_USAGE)
    if checked is None:
        return
    state, message, text = checked
    from bot.chart import timeline_png
    from retrieval import api

    result = await _off_loop(state, context, message, api.topic_timeline, state.service, text)
    if result is None:
        return
    reply_to = message if is_group(message) else None
    if not result.periods:
        await send(
            context, message.chat_id, escape(f"No dated article mentions {result.topic}."), reply_to=reply_to
        )
        return
    png = await state.run(timeline_png, result)
    await context.bot.send_photo(
        message.chat_id,
        photo=png,
        caption=format_caption(result),
        parse_mode=ParseMode.HTML,
        reply_parameters=(
            ReplyParameters(reply_to.message_id, allow_sending_without_reply=True) if reply_to else None
        ),
    )
    peaks = format_peaks(result)
    if peaks:
        await send_all(context, message.chat_id, peaks)


async def _off_loop(
    state: BotState, context: ContextTypes.DEFAULT_TYPE, message: Message, fn: Callable[..., T], *args: Any
) -> T | None:
    """Run a compare or a timeline on the answering threads, showing typing; errors become one reply."""
    reply_to = message if is_group(message) else None
    typing = asyncio.create_task(keep_typing(context, message.chat_id, state.bs.answer_timeout_s))
    try:
        return await asyncio.wait_for(state.run(fn, *args), state.bs.answer_timeout_s)
    except UsruError as exc:
        await send(context, message.chat_id, escape(str(exc)), reply_to=reply_to)
    except TimeoutError:
        log.warning("Comparing took longer than %.0fs in chat %s", state.bs.answer_timeout_s, message.chat_id)
        await send(context, message.chat_id, escape(TOO_SLOW), reply_to=reply_to)
    finally:
        typing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await typing
    return None


def format_comparison(comparison: Comparison, limit: int = MAX_MESSAGE) -> list[str]:
    """Each leaning's heading and quotes (or that it had nothing relevant), packed into messages."""
    if comparison.status != "answered":
        lead = comparison.groups[0].answer.lead if comparison.groups else "The articles do not cover this."
        return [escape(lead + (f" {comparison.note}" if comparison.note else ""))]
    blocks = []
    for g in comparison.groups:
        head = f"<b>{escape(g.leaning.capitalize())}</b> ({plural(g.articles, 'article')})"
        if not g.citations:
            blocks.append(f"{head}\n<i>{escape(NOTHING)}</i>")
            continue
        parts = [b for c in g.citations for b in quote_blocks(c, limit)]
        blocks.append(f"{head}\n{parts[0]}")
        blocks.extend(parts[1:])
    return pack(blocks, limit)


def format_caption(timeline: Timeline) -> str:
    """The photo's caption: what is counted, how many, and the peak periods (within Telegram's 1024)."""
    peaks = ", ".join(f"[{n}] {p.period} ({p.count})" for n, p in enumerate(timeline.peaks, start=1))
    head = f"Articles mentioning {timeline.topic[:100]} per {timeline.by}: {timeline.total} ("
    tail = ")." + (f" Peaks: {peaks}." if peaks else "")
    # Telegram counts the caption as shown (tags do not count): fifty long labels would pass 1024, so the
    # leanings that do not fit are summed up as "N more"; the chart's legend has them all.
    room = MAX_CAPTION - tg_len(head + tail) - len(", 999 more")
    shown: list[str] = []
    for k, v in timeline.counts.items():
        part = f"{k} {sum(v)}"
        if tg_len(", ".join([*shown, part])) > room:
            break
        shown.append(part)
    rest = len(timeline.counts) - len(shown)
    by_leaning = escape(", ".join(shown + ([f"{rest} more"] if rest else [])))
    return (
        f"Articles mentioning <b>{escape(timeline.topic[:100])}</b> per {timeline.by}: "
        f"{timeline.total} ({by_leaning}{escape(tail)}"
    )


def format_peaks(timeline: Timeline, limit: int = MAX_MESSAGE) -> list[str]:
    """The quote at each peak, numbered as on the chart."""
    blocks = []
    for n, p in enumerate(timeline.peaks, start=1):
        head = f"<b>Peak [{n}]</b> {escape(p.period)}, {plural(p.count, 'article')}"
        if p.citation is None:
            blocks.append(f"{head}: <i>no passage is close enough to the topic to quote.</i>")
            continue
        leaning = f" ({escape(p.leaning)})" if p.leaning else ""
        parts = quote_blocks(p.citation, limit)
        blocks.append(f"{head}{leaning}\n{parts[0]}")
        blocks.extend(parts[1:])
    return pack(blocks, limit) if blocks else []
