"""Talking to Telegram: flood control, retries of transient failures, and sending HTML replies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from aiolimiter import AsyncLimiter
from cachetools import LRUCache
from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, ContextTypes

log = logging.getLogger(__name__)

# Endpoints that put a message in a chat, which Telegram throttles per chat.
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
        "sendPhoto",
        "sendDocument",
    }
)
# What PTB's TelegramError says when Telegram's reply is not JSON.
INVALID_RESPONSE = "Invalid server response"
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for five seconds per sendChatAction.
MAX_CHAT_LIMITERS = 4096


def is_transient(exc: TelegramError) -> bool:
    """Whether a failed request is worth retrying: a network failure, or a body that is not JSON.

    PTB raises a bare TelegramError for the latter, which is what a proxy's error page looks like.
    """
    if isinstance(exc, BadRequest):
        return False
    return isinstance(exc, NetworkError) or (type(exc) is TelegramError and exc.message == INVALID_RESPONSE)


class FloodControl(AIORateLimiter):
    """PTB's flood control plus a per-chat message rate and retries of transient network failures."""

    def __init__(
        self,
        chat_messages_per_second: float,
        max_retries: int,
        backoff_s: float,
        messages_per_second: float = 30.0,
    ) -> None:
        super().__init__(overall_max_rate=messages_per_second, max_retries=max_retries)
        self._chat_period = 1.0 / chat_messages_per_second
        # The least recently used chats are forgotten; a forgotten chat just starts with a fresh bucket.
        self._chat_limiters: LRUCache[str, AsyncLimiter] = LRUCache(maxsize=MAX_CHAT_LIMITERS)
        self._network_retries = max_retries
        self._backoff_s = backoff_s

    def _chat_limiter(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        limiter = self._chat_limiters.get(key)
        if limiter is None:
            limiter = self._chat_limiters[key] = AsyncLimiter(1, self._chat_period)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Throttle per chat, let AIORateLimiter honour RetryAfter, retry timeouts and 5xx with backoff."""
        chat_id = data.get("chat_id")
        limiter = (
            self._chat_limiter(chat_id) if chat_id is not None and endpoint in MESSAGE_ENDPOINTS else None
        )
        delay = self._backoff_s
        for attempt in range(self._network_retries + 1):
            try:
                if limiter is not None:
                    await limiter.acquire()
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise
            except TelegramError as exc:
                # TimedOut may mean Telegram got the message anyway; a rare duplicate beats silence.
                if not is_transient(exc) or attempt >= self._network_retries:
                    raise
                kind = "timed out" if isinstance(exc, TimedOut) else f"failed ({exc.message})"
                log.warning("Telegram %s %s; retry %d in %.2fs", endpoint, kind, attempt + 1, delay)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


async def send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    html: str,
    *,
    reply_to: Message | int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send one HTML message, as a reply when asked (still sent if the original is gone)."""
    reply_id = reply_to.message_id if isinstance(reply_to, Message) else reply_to
    return await context.bot.send_message(
        chat_id,
        html,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        reply_parameters=ReplyParameters(reply_id, allow_sending_without_reply=True) if reply_id else None,
    )


async def send_all(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    messages: Sequence[str],
    *,
    reply_to: Message | int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send parts in order, the keyboard under the last; return the last message."""
    last = None
    for i, part in enumerate(messages):
        is_last = i == len(messages) - 1
        last = await send(
            context,
            chat_id,
            part,
            reply_to=reply_to if i == 0 else None,
            markup=markup if is_last else None,
        )
    return last


async def keep_typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int, for_s: float) -> None:
    """Show "typing…" in the chat for about `for_s` seconds (until cancelled)."""
    for _ in range(int(for_s / TYPING_EVERY_S) + 1):
        try:
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("Could not show typing in chat %s: %s", chat_id, exc)
        await asyncio.sleep(TYPING_EVERY_S)
