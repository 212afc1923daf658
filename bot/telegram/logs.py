"""Logging for the bot: to stderr at INFO, with the token redacted from every record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

# httpx logs every request URL at INFO, and the URL contains the token: quiet, and redacted anyway.
_QUIET_LOGGERS = ("httpx", "httpcore")


class RedactToken(logging.Filter):
    """Replace the bot token in log records, tracebacks included."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without the token; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        if self._token in message:
            record.msg, record.args = message.replace(self._token, "<TELEGRAM_BOT_TOKEN>"), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self._token in record.exc_text:
            record.exc_text = record.exc_text.replace(self._token, "<TELEGRAM_BOT_TOKEN>")
        return True


def configure_logging(token: str) -> Callable[[], None]:
    """Log to stderr at INFO, never showing the token; return a function that undoes this."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Redact as each record is made, not in handlers: a handler or level added later cannot leak it.
    redact = RedactToken(token)
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact.filter(record)
        return record

    logging.setLogRecordFactory(make_record)

    def undo() -> None:
        logging.setLogRecordFactory(previous)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    return undo
