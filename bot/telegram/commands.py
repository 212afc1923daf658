"""Commands (/start, /help, /sources, /about, /reindex) and replies to what is not a question."""

from __future__ import annotations

import functools
import logging
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from telegram import Update
from telegram.ext import ContextTypes

from bot.render import plural
from bot.telegram.access import command_target, is_group
from bot.telegram.keyboards import examples_keyboard
from bot.telegram.replies import EDITED, NOT_ADMIN, NOT_TEXT
from bot.telegram.state import BotState, state_of
from bot.telegram.transport import send, send_all
from bot.telegram_format import escape, format_about, format_help, format_sources, format_start
from retrieval.errors import UsruError
from retrieval.index import IndexSummary

log = logging.getLogger(__name__)

# The command menu shown by Telegram clients (/reindex is for admins and stays out of it).
COMMANDS = [
    ("start", "What I do and which articles I know"),
    ("help", "How to ask questions"),
    ("sources", "The articles I answer from"),
    ("about", "Version and index details"),
    ("ask", "Ask a question (in group chats)"),
    ("compare", "Quotes on a question from left, center and right outlets"),
    ("timeline", "How often a topic comes up, month by month, as a chart"),
]


def app_version() -> str:
    """The installed usru version."""
    try:
        return package_version("usru")
    except PackageNotFoundError:
        return "(development checkout)"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot does, what it knows, and example questions as buttons."""
    message = update.message
    assert message is not None
    state = state_of(context)
    stats = await state.run(state.service.stats)
    await send(context, message.chat_id, format_start(stats), markup=examples_keyboard(state.examples))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask."""
    message = update.message
    assert message is not None
    max_chars = state_of(context).settings.max_question_chars
    text = format_help(max_chars)
    if update.effective_user and (update.effective_user.language_code or "").startswith("ru"):
        from retrieval.prompts import render_prompt  # the Russian sentences live in prompts/ru_*.txt

        text = render_prompt("ru_help.txt", max_question_chars=max_chars)
    await send(context, message.chat_id, text)


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the indexed articles."""
    message = update.message
    assert message is not None
    state = state_of(context)
    articles = await state.run(state.service.list_articles)
    await send_all(context, message.chat_id, format_sources(articles))


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/about: version, index size and last re-index time."""
    message = update.message
    assert message is not None
    state = state_of(context)
    stats = await state.run(state.service.stats)
    await send(context, message.chat_id, format_about(stats, app_version()))


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins only, by filter): bring the index up to date with the sources folder."""
    message = update.message
    assert message is not None
    state = state_of(context)
    await send(context, message.chat_id, escape("Re-indexing the articles…"))
    try:
        # Waits for the watcher or a `usru index` that holds the lock, then catches up after it.
        summary = await state.run(functools.partial(state.service.reindex, wait=True))
    except UsruError as exc:
        await send(context, message.chat_id, escape(str(exc)))
        return
    except Exception:
        # The details (paths, library messages) go to the log, not to the chat.
        log.exception("Re-indexing failed")
        await send(context, message.chat_id, escape(await _reindex_failed(state)))
        return
    await send(context, message.chat_id, reindex_report(summary))


async def reindex_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex from anyone but an admin."""
    message = update.message
    assert message is not None
    await send(context, message.chat_id, escape(NOT_ADMIN))


async def _reindex_failed(state: BotState) -> str:
    """One sentence for a re-index that failed unexpectedly, naming the version still in use."""
    try:
        version = (await state.run(state.service.stats)).version
    except Exception:
        return "Re-indexing failed because of an unexpected error; the bot's log has the details."
    return (
        f"Re-indexing failed because of an unexpected error (the bot's log has the details); "
        f"version {version} is still the one in use."
    )


def reindex_report(summary: IndexSummary) -> str:
    """'N new, M changed, K removed articles; index version V', then any skipped files (HTML)."""
    from retrieval.watch import describe_changes

    lines = [escape(describe_changes(summary))]
    if summary.skipped:
        shown = summary.skipped[:10]
        more = f" (and {len(summary.skipped) - len(shown)} more)" if len(summary.skipped) > len(shown) else ""
        listed = "; ".join(f"{source}: {reason}" for source, reason in shown)
        lines.append(escape(f"Skipped {plural(len(summary.skipped), 'file')}{more}: {listed}"))
    return "\n".join(lines)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands we don't have: point to /help (in groups only when the command names us)."""
    message = update.message
    assert message is not None
    if is_group(message) and command_target(message) != context.bot.username.lower():
        return
    command = (message.text or "").split()[0].partition("@")[0]
    await send(context, message.chat_id, f"I don't know {escape(command)}. Send /help to see what I can do.")


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice, files, locations: ask for text."""
    message = update.message
    assert message is not None
    await send(context, message.chat_id, escape(NOT_TEXT), reply_to=message if is_group(message) else None)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edited messages are not re-answered: say so."""
    message = update.edited_message
    assert message is not None
    await send(context, message.chat_id, escape(EDITED), reply_to=message)
