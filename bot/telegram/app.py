"""Wiring in one place: the PTB Application, its handlers in order, and how `usru bot` runs it."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from typing import Any, cast

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.bot_settings import BotSettings, BotSettingsError
from bot.outage import install_one_line_network_errors, wait_for_telegram
from bot.telegram import access, buttons, commands, coverage, questions
from bot.telegram.lifecycle import Lifecycle, on_error
from bot.telegram.logs import configure_logging
from bot.telegram.state import AnswerSource, BotApp, new_state
from bot.telegram.transport import FloodControl
from bot.telegram.update_gate import OnceApplication
from retrieval.errors import UsruError
from retrieval.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def register(app: BotApp, bot_settings: BotSettings) -> None:
    """Attach every handler: access first (groups -2, -1), then the first matching handler answers."""
    app.add_handler(TypeHandler(Update, access.note_update), group=-2)
    # In one group only the first matching handler runs, so each rule is checked in turn.
    app.add_handler(access.Unless(access.FromPerson(), access.drop), group=-1)
    app.add_handler(access.Unless(access.ForThisBot(app.bot), access.drop), group=-1)
    app.add_handler(access.Unless(access.Allowed(bot_settings), access.refuse), group=-1)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, commands.edited))
    app.add_handler(CommandHandler("start", commands.start))
    app.add_handler(CommandHandler("help", commands.help_command))
    app.add_handler(CommandHandler("sources", commands.sources))
    app.add_handler(CommandHandler("about", commands.about))
    app.add_handler(CommandHandler("ask", questions.ask))
    app.add_handler(CommandHandler("compare", coverage.compare))
    app.add_handler(CommandHandler("timeline", coverage.timeline))
    admins = filters.UpdateType.MESSAGE & access.Admins(bot_settings)
    app.add_handler(CommandHandler("reindex", commands.reindex, filters=admins))
    app.add_handler(CommandHandler("reindex", commands.reindex_refused))
    app.add_handler(MessageHandler(filters.COMMAND, commands.unknown_command))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, questions.question))
    app.add_handler(CallbackQueryHandler(buttons.button))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, commands.not_text
        )
    )
    app.add_error_handler(on_error)


def build_application(service: AnswerSource, settings: Settings, bot_settings: BotSettings) -> BotApp:
    """The PTB Application wired to the service; raises BotSettingsError for a bad token."""
    state = new_state(service, settings, bot_settings)
    hooks = Lifecycle(state)
    timeout = bot_settings.read_timeout_s
    app = (
        ApplicationBuilder()
        # Every update, polled or pushed, passes the gate that lets one delivery of it through (USRU_DATABASE_URL).
        .application_class(OnceApplication)
        .token(bot_settings.token())
        .base_url(bot_settings.api_base_url)
        .base_file_url(bot_settings.file_url())
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .rate_limiter(
            FloodControl(
                bot_settings.chat_messages_per_second,
                bot_settings.max_retries,
                bot_settings.retry_backoff_s,
                bot_settings.messages_per_second,
            )
        )
        .concurrent_updates(64)
        .connection_pool_size(64)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .connect_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .post_init(hooks.post_init)
        .post_stop(hooks.post_stop)
        .post_shutdown(hooks.post_shutdown)
        .build()
    )
    register(app, bot_settings)
    app.bot_data["usru"] = state
    return app


def polling_options(bot_settings: BotSettings) -> dict[str, Any]:
    """Arguments for Application.run_polling / Updater.start_polling."""
    return {
        "poll_interval": 0.0,
        "timeout": bot_settings.poll_timeout_s,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
        "bootstrap_retries": -1,  # an outage while starting is waited out (bot/outage.py)
    }


def webhook_options(bot_settings: BotSettings) -> dict[str, Any]:
    """Arguments for PTB's own Updater.start_webhook (which confirms an update before handling it; run_bot
    uses bot/telegram/webhook.py instead)."""
    secret = bot_settings.webhook_secret.get_secret_value() if bot_settings.webhook_secret else None
    return {
        "listen": bot_settings.webhook_listen,
        "port": bot_settings.webhook_port,
        "url_path": bot_settings.url_path(),
        "webhook_url": bot_settings.webhook_url,
        "secret_token": secret or secrets.token_urlsafe(32),
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
        "bootstrap_retries": -1,
    }


def run_bot(settings: Settings, bot_settings: BotSettings) -> int:
    """Run the bot until SIGINT/SIGTERM; return the process exit code."""
    try:
        token = bot_settings.token()
    except BotSettingsError as exc:
        print(f"usru: {exc}", file=sys.stderr)
        return exc.exit_code
    configure_logging(token)
    install_one_line_network_errors()
    from retrieval.service import build_service

    try:
        service = build_service(settings)
    except UsruError as exc:
        print(f"usru: {exc}", file=sys.stderr)
        return exc.exit_code
    service.prefetch()
    app = build_application(service, settings, bot_settings)
    try:
        wait_for_telegram(app, bot_settings.retry_backoff_s)
        if bot_settings.webhook_url:
            from bot.telegram.webhook import serve_webhook

            log.info("Starting the webhook on %s:%s", bot_settings.webhook_listen, bot_settings.webhook_port)
            # On the loop wait_for_telegram initialised the application on; 200 only once handled.
            asyncio.get_event_loop().run_until_complete(
                serve_webhook(cast(OnceApplication, app), bot_settings)
            )
        else:
            log.info("Starting long polling at %s", bot_settings.api_base_url)
            app.run_polling(**polling_options(bot_settings))
    except InvalidToken:
        print("usru: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather.", file=sys.stderr)
        return 2
    except BotSettingsError as exc:  # the webhook port cannot be opened
        print(f"usru: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
