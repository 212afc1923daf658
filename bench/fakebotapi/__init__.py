"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot.

It speaks HTTP like api.telegram.org (form-encoded POSTs to /bot<TOKEN>/<method>), validates what
Telegram validates, records every request, lets tests inject updates and script faults. Use it as a
pytest plugin: ``pytest_plugins = ["bench.fakebotapi"]`` and ask for the ``fake_bot_api`` fixture.

Its parts: telegram_html (the HTML parse mode), records (limits and what is recorded), scripting
(faults, flood limits), updates (injecting updates), methods (the Bot API methods), server (the state,
the HTTP front and the server's lifetime).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.fakebotapi.records import (
    BOT_ID,
    BOT_USERNAME,
    CHAT_ACTIONS,
    FLOOD_METHODS,
    JSON_PARAMS,
    LONG_POLL_CAP_S,
    MAX_CALLBACK_ANSWER_CHARS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_UTF16,
    MAX_PHOTO_BYTES,
    MAX_TEXT_UTF16,
    MESSAGE_METHODS,
    TOKEN,
    Fault,
    FloodLimits,
    Recorded,
    SentMessage,
    SentPhoto,
    peak_count,
)
from bench.fakebotapi.server import FakeBotAPI, serve_fake_bot_api, started_application
from bench.fakebotapi.telegram_html import (
    ALLOWED_TAGS,
    NAMED_ENTITIES,
    TelegramHTMLError,
    parse_html,
    utf16_len,
)

__all__ = [
    "ALLOWED_TAGS",
    "BOT_ID",
    "BOT_USERNAME",
    "CHAT_ACTIONS",
    "FLOOD_METHODS",
    "JSON_PARAMS",
    "LONG_POLL_CAP_S",
    "MAX_CALLBACK_ANSWER_CHARS",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_UTF16",
    "MAX_PHOTO_BYTES",
    "MAX_TEXT_UTF16",
    "MESSAGE_METHODS",
    "NAMED_ENTITIES",
    "TOKEN",
    "FakeBotAPI",
    "Fault",
    "FloodLimits",
    "Recorded",
    "SentMessage",
    "SentPhoto",
    "TelegramHTMLError",
    "fake_bot_api",
    "parse_html",
    "peak_count",
    "serve_fake_bot_api",
    "started_application",
    "utf16_len",
]


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotAPI]:
    """A running fake Bot API server; point the bot's base_url at fake_bot_api.base_url."""
    async with serve_fake_bot_api() as api:
        yield api
