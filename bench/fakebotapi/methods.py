"""The Bot API methods the fake server implements, validating what Telegram validates (mixed into FakeBotAPI)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from typing import Any

from bench.fakebotapi.records import (
    CHAT_ACTIONS,
    LONG_POLL_CAP_S,
    MAX_CALLBACK_ANSWER_CHARS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_UTF16,
    MAX_PHOTO_BYTES,
    MAX_TEXT_UTF16,
    SentMessage,
    SentPhoto,
)
from bench.fakebotapi.telegram_html import TelegramHTMLError, parse_html, utf16_len

BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class BadRequest(Exception):
    """A 400 the fake server answers, as Telegram would."""


class Conflict(Exception):
    """A 409: getUpdates while a webhook is set."""


class BotMethods:
    """One `_api_<method>` coroutine per Bot API method; uses FakeBotAPI's fields."""

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {
            **self.me(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._confirmed = self._next_update_id
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url", ""))
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise BadRequest("bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise BadRequest("bad webhook: secret token contains unallowed characters")
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            raise Conflict("can't use getUpdates method while webhook is active; use deleteWebhook first")
        offset = int(params.get("offset", 0) or 0)
        if offset > self._confirmed:
            # Telegram forgets confirmed updates for good: they are never sent again.
            self._confirmed = offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit", 100) or 100)
        if self.batch_limit is not None:
            limit = min(limit, self.batch_limit)
        timeout = min(float(params.get("timeout", 0) or 0), LONG_POLL_CAP_S)
        deadline = time.monotonic() + timeout
        assert self._changed is not None
        while True:
            pending = self.pending_updates()[:limit]
            remaining = deadline - time.monotonic()
            if pending or remaining <= 0 or self._closing:
                now = time.monotonic()
                for u in pending:
                    self.delivered_at.setdefault(u["update_id"], now)
                return pending
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands or len(commands) > 100:
            raise BadRequest("commands must be a non-empty list of at most 100 commands")
        for c in commands:
            if not BOT_COMMAND_NAME_RE.match(str(c.get("command", ""))):
                raise BadRequest(f"BOT_COMMAND_INVALID: {c.get('command')!r}")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise BadRequest("command description must be 1-256 characters")
        self.commands = commands
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.commands

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.commands = []
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        _require_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise BadRequest("wrong parameter action in request")
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = _require_chat(params)
        text, html, entities = _check_text(params)
        markup = _check_markup(params.get("reply_markup"))
        reply_to = None
        rp = params.get("reply_parameters")
        if isinstance(rp, dict):
            reply_to = int(rp["message_id"])
        elif params.get("reply_to_message_id") is not None:
            reply_to = int(params["reply_to_message_id"])
        counter = self._msg_ids.setdefault(chat_id, itertools.count(1))
        msg = SentMessage(next(counter), chat_id, text, html, entities, markup, reply_to, time.monotonic())
        self.messages.append(msg)
        return self.bot_message_json(msg)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = _require_chat(params)
        photo = params.get("photo")
        if not isinstance(photo, bytes):
            # A file id or URL would name a photo Telegram already has; the bot always uploads its charts.
            raise BadRequest("wrong file identifier/HTTP URL specified")
        if not photo or len(photo) > MAX_PHOTO_BYTES:
            raise BadRequest("PHOTO_INVALID_DIMENSIONS" if photo else "file must be non-empty")
        caption_html = str(params.get("caption", ""))
        caption, entities = caption_html, []
        if params.get("parse_mode") == "HTML":
            try:
                caption, entities = parse_html(caption_html)
            except TelegramHTMLError as exc:
                raise BadRequest(str(exc)) from exc
        if utf16_len(caption) > MAX_CAPTION_UTF16:
            raise BadRequest("message caption is too long")
        rp = params.get("reply_parameters")
        reply_to = int(rp["message_id"]) if isinstance(rp, dict) else None
        if reply_to is None and params.get("reply_to_message_id") is not None:
            reply_to = int(params["reply_to_message_id"])
        counter = self._msg_ids.setdefault(chat_id, itertools.count(1))
        sent = SentPhoto(
            next(counter), chat_id, photo, caption, caption_html, entities, reply_to, time.monotonic()
        )
        self.photos.append(sent)
        ctype = "private" if chat_id > 0 else "supergroup"
        return {
            "message_id": sent.message_id,
            "date": int(sent.at),
            "chat": self.chat(chat_id, ctype),
            "from": self.me(),
            "photo": [
                {
                    "file_id": f"photo-{sent.message_id}",
                    "file_unique_id": f"u{sent.message_id}",
                    "width": 600,
                    "height": 400,
                }
            ],
            "caption": caption,
        }

    def _find(self, params: dict[str, Any]) -> SentMessage:
        chat_id = _require_chat(params)
        mid = int(params.get("message_id", 0))
        for m in self.messages:
            if m.chat_id == chat_id and m.message_id == mid:
                return m
        raise BadRequest("message to edit not found")

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        msg = self._find(params)
        text, html, entities = _check_text(params)
        markup = _check_markup(params.get("reply_markup"))
        if html == msg.html and markup == msg.reply_markup:
            raise BadRequest("message is not modified")
        msg.text, msg.html, msg.entities, msg.reply_markup = text, html, entities, markup
        msg.edits += 1
        return self.bot_message_json(msg)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        msg = self._find(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise BadRequest("message is not modified")
        msg.reply_markup = markup
        msg.edits += 1
        return self.bot_message_json(msg)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        qid = str(params.get("callback_query_id", ""))
        if qid not in self._open_callbacks:
            raise BadRequest("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER_CHARS:
            raise BadRequest("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(qid)
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True


def _require_chat(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError) as exc:
        raise BadRequest("chat not found") from exc


def _check_text(params: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    html = str(params.get("text", ""))
    if params.get("parse_mode") == "HTML":
        try:
            text, entities = parse_html(html)
        except TelegramHTMLError as exc:
            raise BadRequest(str(exc)) from exc
    else:
        text, entities = html, []
    if not text.strip():
        raise BadRequest("message text is empty")
    if utf16_len(text) > MAX_TEXT_UTF16:
        raise BadRequest("message is too long")
    return text, html, entities


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if rows is None:
        return dict(markup) if isinstance(markup, dict) else None
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise BadRequest("BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise BadRequest("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise BadRequest("BUTTON_URL_INVALID")
            if data is None and url is None:
                raise BadRequest('can\'t find field "callback_data" or "url" in inline keyboard button')
    return dict(markup)
