"""A model's answer shown in Telegram as it is written: one message, edited about once a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.telegram_format import escape

log = logging.getLogger(__name__)

DRAFT_EVERY_S = 1.0
# Drafts are cut to this many characters (Telegram's limit is 4096); the final answer is split properly.
MAX_DRAFT_CHARS = 3500
DRAFT_MARK = " ✍️"


class DraftMessage:
    """One message that shows the draft answer, edited at most once per `every_s`, then finalised."""

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        reply_to: int | None,
        loop: asyncio.AbstractEventLoop,
        every_s: float = DRAFT_EVERY_S,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.reply_to = reply_to
        self.every_s = every_s
        self.message: Message | None = None
        self.edits = 0
        self._loop = loop
        self._latest = ""
        self._shown = ""
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def update(self, text: str) -> None:
        """Record the draft so far; safe to call from the answering thread."""
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody will see the draft
            self._loop.call_soon_threadsafe(self._set, text)

    def _set(self, text: str) -> None:
        self._latest = text
        self._changed.set()

    def start(self) -> None:
        """Begin showing drafts."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        last = 0.0
        while True:
            await self._changed.wait()
            await asyncio.sleep(max(0.0, last + self.every_s - time.monotonic()))
            self._changed.clear()
            text = self._latest
            if text.strip() and text != self._shown:
                await self._show(text)
                last = time.monotonic()

    async def _show(self, text: str) -> None:
        clipped = text if len(text) <= MAX_DRAFT_CHARS else text[: MAX_DRAFT_CHARS - 1] + "…"
        html = escape(clipped) + DRAFT_MARK
        try:
            if self.message is None:
                self.message = await self.bot.send_message(
                    self.chat_id,
                    html,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=ReplyParameters(self.reply_to, allow_sending_without_reply=True)
                    if self.reply_to
                    else None,
                )
            else:
                await self.bot.edit_message_text(
                    html, chat_id=self.chat_id, message_id=self.message.message_id, parse_mode=ParseMode.HTML
                )
                self.edits += 1
            self._shown = text
        except TelegramError as exc:  # a draft that cannot be shown is no reason to fail the answer
            log.debug("Could not show the draft in chat %s: %s", self.chat_id, exc)

    async def stop(self) -> None:
        """Stop editing the draft (the message, if any, stays until it is finalised)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def finalise(
        self, messages: Sequence[str], markup: InlineKeyboardMarkup | None = None
    ) -> Message | None:
        """Turn the draft into the first part of the final answer and send the rest; return the last.

        Returns None when no draft was shown, so that the caller sends the answer itself.
        """
        await self.stop()
        if self.message is None or not messages:
            return None
        last: Message | None = None
        for i, part in enumerate(messages):
            is_last = i == len(messages) - 1
            kwargs: dict[str, Any] = {
                "parse_mode": ParseMode.HTML,
                "reply_markup": markup if is_last else None,
            }
            if i == 0:
                try:
                    edited = await self.bot.edit_message_text(
                        part, chat_id=self.chat_id, message_id=self.message.message_id, **kwargs
                    )
                    last = edited if isinstance(edited, Message) else self.message
                    continue
                except BadRequest as exc:
                    log.info("Could not finalise the draft in chat %s (%s); sending anew", self.chat_id, exc)
            last = await self.bot.send_message(self.chat_id, part, **kwargs)
        return last
