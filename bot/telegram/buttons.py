"""Inline buttons: example questions, the passage around a quote, and more quotes."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram.answers import CachedAnswer
from bot.telegram.keyboards import answer_keyboard, more_keyboard, parse_button
from bot.telegram.questions import answer
from bot.telegram.replies import STALE, UNKNOWN_BUTTON
from bot.telegram.state import state_of
from bot.telegram.transport import send_all
from bot.telegram_format import escape, format_context, format_more, pack
from retrieval.answer import Citation
from retrieval.errors import UsruError

CONTEXT_RADIUS = 300


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any button press: only our own three shapes of callback data get further than a notice."""
    query = update.callback_query
    assert query is not None
    state = state_of(context)
    chat_id = query.message.chat.id if query.message is not None else None
    # Callback data comes from the client and can be anything.
    parsed = parse_button(query.data or "")
    if chat_id is None or parsed is None:
        await query.answer(UNKNOWN_BUTTON, show_alert=True)
        return
    kind, key, k = parsed
    if kind == "ex":
        if k >= len(state.examples):
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
            return
        await query.answer()
        await answer(update, context, state.examples[k], reply_to=None, echo=True)
        return
    # Answers are kept per chat, so data copied from another chat finds nothing here.
    entry = await state.on_state_thread(state.cache.get, chat_id, key)
    if entry is None:
        await query.answer(STALE, show_alert=True)
        return
    if kind == "more":
        if not entry.more:
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
            return
        await query.answer()
        await show_more(context, chat_id, key, entry)
        return
    groups = entry.shown if kind == "ctx" else entry.more
    if k >= len(groups):
        await query.answer(UNKNOWN_BUTTON, show_alert=True)
        return
    await query.answer()
    await show_context(context, chat_id, groups[k], entry.message_id)


async def show_context(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, citations: Sequence[Citation], reply_to: int | None
) -> None:
    """Each quote of one article in bold amid the text around it."""
    state = state_of(context)
    urls = {a.source: a.url for a in await state.run(state.service.list_articles)}
    blocks: list[str] = []
    for c in citations:
        try:
            before, quote, after = await state.run(
                state.service.passage_in_context, c.source, c.start, c.end, CONTEXT_RADIUS
            )
        except UsruError as exc:
            blocks.append(escape(str(exc)))
            continue
        blocks.extend(format_context(c, before, quote, after, urls.get(c.source)))
    await send_all(context, chat_id, pack(blocks), reply_to=reply_to)


async def show_more(context: ContextTypes.DEFAULT_TYPE, chat_id: int, key: str, entry: CachedAnswer) -> None:
    """The further quotes, then the answer's "more" button taken away."""
    await send_all(
        context,
        chat_id,
        format_more(entry.answer.more),
        reply_to=entry.message_id,
        markup=more_keyboard(key, entry),
    )
    if entry.message_id is not None:
        # The extra quotes are out: drop the button so it is not pressed twice.
        with contextlib.suppress(BadRequest):
            await context.bot.edit_message_reply_markup(
                chat_id, entry.message_id, reply_markup=answer_keyboard(key, entry, with_more=False)
            )
