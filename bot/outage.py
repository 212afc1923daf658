"""Surviving a Telegram outage: wait for the Bot API at start, retry while running, one log line per failure.

When Telegram cannot be reached (no network, a proxy in the way, a wrong TELEGRAM_API_BASE_URL) the bot
keeps trying with a growing pause and answers again once it can; each failed attempt is one log line,
never a traceback. A token Telegram rejects (401) is not an outage: InvalidToken is raised for the
caller to report in one sentence (exit 2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import InvalidToken, NetworkError, TelegramError

log = logging.getLogger("bot.outage")

MAX_BACKOFF_S = 60.0


def describe(exc: BaseException) -> str:
    """An error as one short line: its type and message, and the root cause when that says more."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 4:
        text = " ".join(str(seen).split())[:200]
        if not any(text and text in p for p in parts):
            parts.append(f"{type(seen).__name__}: {text}" if text else type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(parts)


async def initialize_when_reachable(
    initialize: Callable[[], Awaitable[Any]],
    first_delay_s: float = 1.0,
    max_delay_s: float = MAX_BACKOFF_S,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> int:
    """Call `initialize` (PTB's Application.initialize, which asks Telegram getMe) until it succeeds.

    Network and server errors are retried after a pause that doubles up to `max_delay_s`, each logged as
    one line; InvalidToken is raised at once. Returns how many attempts failed.
    """
    delay = max(first_delay_s, 0.05)
    failures = 0
    while True:
        try:
            await initialize()
            if failures:
                log.warning("Telegram is reachable again after %d failed attempts; starting", failures)
            return failures
        except InvalidToken:
            raise
        except TelegramError as exc:
            failures += 1
            log.warning("Cannot reach Telegram at start (%s); retrying in %.1f s", describe(exc), delay)
        await sleep(delay)
        delay = min(delay * 2, max_delay_s)


def wait_for_telegram(app: Any, first_delay_s: float = 1.0, max_delay_s: float = MAX_BACKOFF_S) -> int:
    """Initialise the application on the event loop PTB's run_polling/run_webhook will then use."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
    if loop.is_closed():
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop.run_until_complete(initialize_when_reachable(app.initialize, first_delay_s, max_delay_s))


def log_polling_error(exc: TelegramError) -> None:
    """PTB's error_callback for polling: one line per failed getUpdates (PTB retries with backoff)."""
    if isinstance(exc, NetworkError):
        log.warning("Cannot reach Telegram while polling (%s); retrying", describe(exc))
    else:
        log.warning("Telegram answered getUpdates with an error (%s); retrying", describe(exc))


def install_one_line_network_errors() -> Callable[[], None]:
    """Log network errors without their tracebacks (from PTB or our handlers); return an undo function.

    A traceback says nothing about an outage that its one line does not, and six of them bury the line
    that matters. Other exceptions keep their tracebacks.
    """
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        info = record.exc_info
        if info and isinstance(info[1], NetworkError) and not isinstance(info[1], InvalidToken):
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: leave the record as it is
                return record
            record.msg, record.args = f"{message} ({describe(info[1])})", None
            record.exc_info, record.exc_text = None, None
        return record

    logging.setLogRecordFactory(make_record)

    def undo() -> None:
        logging.setLogRecordFactory(previous)

    return undo
