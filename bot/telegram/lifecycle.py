"""Starting and stopping: the command menu, confirming handled updates, the watcher, errors."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.outage import log_polling_error
from bot.telegram.commands import COMMANDS, reindex_report
from bot.telegram.replies import WENT_WRONG
from bot.telegram.state import BotApp, BotState
from bot.telegram_format import escape
from retrieval.index import IndexSummary

log = logging.getLogger(__name__)

# Confirming handled updates on stop: attempts, and the first pause between them (doubling).
CONFIRM_ATTEMPTS = 4
CONFIRM_BACKOFF_S = 0.25


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (the token is redacted by the log filter) and tell the user."""
    if update is None and isinstance(context.error, TelegramError):
        log_polling_error(context.error)  # getUpdates failed: PTB retries; one line (bot/outage.py)
        return
    log.error("Error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        await context.bot.send_message(update.effective_chat.id, WENT_WRONG)
    except TelegramError as exc:
        log.warning("Could not tell chat %s about the error: %s", update.effective_chat.id, exc)


class Lifecycle:
    """The application's post_init, post_stop and post_shutdown hooks over the bot's state."""

    def __init__(self, state: BotState) -> None:
        self.state = state

    async def post_init(self, app: BotApp) -> None:
        """Register the command menu once the bot is known to Telegram; start the watcher if asked."""
        try:
            await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        except TelegramError as exc:
            log.warning("Could not register the command menu: %s", exc)
        if self.state.bs.watch:
            self.start_watching(app)

    async def post_stop(self, app: BotApp) -> None:
        """Confirm the handled updates once more: PTB tries once, and a failure repeats them after a restart."""
        last = self.state.last_update_id
        if self.state.bs.webhook_url or last is None:
            return
        delay = CONFIRM_BACKOFF_S
        for attempt in range(1, CONFIRM_ATTEMPTS + 1):
            try:
                # Only updates below the offset are confirmed; anything returned stays for the next start.
                await app.bot.get_updates(offset=last + 1, limit=1, timeout=0)
                return
            except TelegramError as exc:
                if attempt == CONFIRM_ATTEMPTS:
                    log.warning("Could not confirm the handled updates to Telegram: %s", exc)
                    return
                await asyncio.sleep(delay)
                delay *= 2

    async def post_shutdown(self, app: BotApp) -> None:
        """Stop the watcher and the answering threads (questions still queued are abandoned)."""
        state = self.state
        if state.watcher is not None:
            thread, stop = state.watcher
            stop.set()
            await asyncio.to_thread(thread.join, 10)
            state.watcher = None
        state.executor.shutdown(wait=False, cancel_futures=True)
        state.state_thread.shutdown(wait=True)  # a pending store of an answer finishes first
        if state.cache.store is not None:
            state.cache.store.close()
            state.cache.store = None
        if state.claims is not None:
            state.claims.close()
            state.claims = state.gate = None
        for shared in (state.limiter, state.conversations):
            close = getattr(shared, "close", None)
            if close is not None:  # the shared limiter's and histories' connections
                close()

    def start_watching(self, app: BotApp) -> None:
        """Re-index in a thread when articles change; answers use the new version once it is complete."""
        from retrieval.watch import changed_anything, describe_changes, start_watcher

        loop = asyncio.get_running_loop()
        state = self.state

        def on_summary(summary: IndexSummary) -> None:
            log.info("Watcher re-indexed: %s", describe_changes(summary))
            if changed_anything(summary):
                _from_thread(loop, self.notify_admins(app, reindex_report(summary)))

        def on_error(exc: Exception) -> None:
            _from_thread(loop, self.notify_admins(app, escape(f"Re-indexing failed: {exc}")))

        state.watcher = start_watcher(
            state.settings.sources,
            state.settings.index_dir,
            functools.partial(state.service.reindex, wait=True),
            on_summary=on_summary,
            on_error=on_error,
            debounce_s=state.bs.watch_debounce_s,
        )
        log.info("Watching %s for new, changed and deleted articles", state.settings.sources)

    async def notify_admins(self, app: BotApp, html: str) -> None:
        """Send a message to every admin listed by numeric id in TELEGRAM_ADMINS."""
        for chat_id in self.state.bs.admin_chat_ids():
            try:
                await app.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.warning("Could not notify admin %s: %s", chat_id, exc)


def _from_thread(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.run_coroutine_threadsafe(coro, loop)
    except RuntimeError:  # the bot is shutting down and its loop is closed
        coro.close()


async def stop_application(app: BotApp) -> None:
    """Stop a started application as PTB's run_polling and run_webhook do, its post_ hooks included."""
    await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
