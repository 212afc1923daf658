"""Webhook mode: Telegram's request is answered 200 only once its update is handled.

PTB's own webhook (Updater.start_webhook) answers 200 as soon as the update is queued, so an update a
killed worker had queued is confirmed to Telegram and never sent again. Here the request waits for the
update's handlers (and the done mark, bot/telegram/update_gate.py): a worker killed mid-answer leaves
the request unanswered, and Telegram (or a reverse proxy retrying on the next worker) delivers the update
again to a live worker. Several workers may listen on one port (TELEGRAM_WEBHOOK_REUSE_PORT, SO_REUSEPORT).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bot.bot_settings import BotSettings, BotSettingsError
from bot.outage import describe
from bot.telegram.lifecycle import stop_application
from bot.telegram.shared_updates import MAX_UPDATE_ID
from bot.telegram.update_gate import OnceApplication, Outcome

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# How long Telegram should wait before sending again an update another worker still holds.
RETRY_AFTER_S = 5
# On SIGTERM: requests being handled get this long (plus the answer timeout) to finish.
DRAIN_MARGIN_S = 5.0
# Far above any update Telegram sends (a message is at most 4096 characters, plus its entities).
MAX_BODY_BYTES = 1024 * 1024


class UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update, answered once handled (200), or 503 when another worker holds it."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, app: OnceApplication, secret: str, inflight: set[int]) -> None:
        """Per request (tornado's interface)."""
        self.app = app
        self.secret = secret
        self.inflight = inflight

    async def post(self) -> None:
        """Check the secret, parse the update, handle it through the gate, then answer."""
        token = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            raise tornado.web.HTTPError(HTTPStatus.FORBIDDEN)
        try:
            data = json.loads(self.request.body)
            # PTB takes any JSON: null or a list crashed it (500, a traceback per request), and a
            # non-integer update_id crashed the claims (its advisory lock key is computed from it).
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("not an object with an integer update_id")
            # Telegram's ids are positive and far below 2**63 (the claims' bigint); others are forged.
            if not 0 <= data["update_id"] <= MAX_UPDATE_ID:
                raise ValueError("an update_id Telegram would never send")
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("Ignoring a webhook request that is not an update: %s", exc)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from exc
        marker = id(self)
        self.inflight.add(marker)
        try:
            outcome = await self._process(update)
        finally:
            self.inflight.discard(marker)
        if outcome is Outcome.BUSY:
            self.set_status(HTTPStatus.SERVICE_UNAVAILABLE)
            self.set_header("Retry-After", str(RETRY_AFTER_S))
        self.set_header("Content-Type", "application/json")
        self.finish(b"{}")

    async def _process(self, update: Update) -> Outcome:
        """The gate's outcome, under PTB's bound on updates handled at once."""
        outcome: list[Outcome] = []

        async def run() -> None:
            outcome.append(await self.app.process_once(update))

        await self.app.update_processor.process_update(update, run())
        return outcome[0] if outcome else Outcome.HANDLED

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """One line, not tornado's traceback (a bad secret or body is the sender's problem)."""
        if not isinstance(value, tornado.web.HTTPError):
            log.error("Webhook request failed", exc_info=(typ, value, tb))


def webhook_app(app: OnceApplication, bot_settings: BotSettings, secret: str, inflight: set[int]) -> Any:
    """The tornado application serving the webhook path."""
    path = "/" + bot_settings.url_path()
    handler_args = {"app": app, "secret": secret, "inflight": inflight}
    return tornado.web.Application(
        [(rf"{path.rstrip('/')}/?", UpdateHandler, handler_args)], log_function=_quiet
    )


def _quiet(handler: Any) -> None:
    """No access log line per update."""


async def set_webhook(
    app: OnceApplication, bot_settings: BotSettings, secret: str, stop: asyncio.Event
) -> bool:
    """Register the webhook with Telegram, retrying an outage until it works or the bot is stopped."""
    from bot.telegram.app import ALLOWED_UPDATES

    delay = max(bot_settings.retry_backoff_s, 0.05)
    while not stop.is_set():
        try:
            # Every worker registers the same URL and secret; pending updates are never dropped.
            await app.bot.set_webhook(
                bot_settings.webhook_url or "",
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
            return True
        except InvalidToken:
            raise
        except TelegramError as exc:
            log.warning("Could not register the webhook (%s); retrying in %.1f s", describe(exc), delay)
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            delay = min(delay * 2, 60.0)
    return False


def webhook_secret(bot_settings: BotSettings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or a random one for this start (fine for a single worker only)."""
    secret = bot_settings.webhook_secret.get_secret_value() if bot_settings.webhook_secret else None
    return secret or secrets.token_urlsafe(32)


@contextlib.asynccontextmanager
async def serving_webhook(
    app: OnceApplication, bot_settings: BotSettings, secret: str, stop: asyncio.Event
) -> AsyncIterator[bool]:
    """Start an initialised application, listen, register the webhook (yields whether it is); then drain and stop."""
    inflight: set[int] = set()
    # The body is read before the secret is checked: without a bound, anyone could make a worker buffer
    # 100 MB (tornado's default) per request. An update is a few KB.
    server = HTTPServer(webhook_app(app, bot_settings, secret, inflight), max_body_size=MAX_BODY_BYTES)
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    try:
        try:
            sockets = bind_sockets(
                bot_settings.webhook_port,
                address=bot_settings.webhook_listen,
                reuse_port=bot_settings.webhook_reuse_port,
            )
        except OSError as exc:
            share = (
                "" if bot_settings.webhook_reuse_port else ", or TELEGRAM_WEBHOOK_REUSE_PORT=true to share it"
            )
            raise BotSettingsError(
                f"cannot listen on {bot_settings.webhook_listen}:{bot_settings.webhook_port} for the webhook "
                f"({exc.strerror or exc}): set TELEGRAM_WEBHOOK_LISTEN / TELEGRAM_WEBHOOK_PORT{share}."
            ) from exc
        server.add_sockets(sockets)
        log.info(
            "Webhook listening on %s:%s%s",
            bot_settings.webhook_listen,
            bot_settings.webhook_port,
            " (port shared with other workers)" if bot_settings.webhook_reuse_port else "",
        )
        try:
            yield await set_webhook(app, bot_settings, secret, stop)
        finally:
            # Stop taking requests, then let those being handled finish: cut short, each would be
            # answered again by another worker (a duplicate if its reply had already gone out).
            server.stop()
            deadline = time.monotonic() + bot_settings.answer_timeout_s + DRAIN_MARGIN_S
            while inflight and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await server.close_all_connections()
    finally:
        await stop_application(app)


async def serve_webhook(app: OnceApplication, bot_settings: BotSettings) -> None:
    """Run an initialised application in webhook mode until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with serving_webhook(app, bot_settings, webhook_secret(bot_settings), stop) as registered:
        if registered:
            await stop.wait()
