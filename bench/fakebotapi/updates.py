"""Injecting updates into the fake Bot API as Telegram would send them (mixed into FakeBotAPI)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.fakebotapi.records import BOT_ID, BOT_USERNAME, SentMessage, moved
from bench.fakebotapi.telegram_html import auto_entities


class UpdateInjection:
    """Hand-made messages, edits, button presses and channel posts; uses FakeBotAPI's fields."""

    def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Inject a hand-made update (an update_id is assigned) and return it."""
        return self._push(update)

    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._notify()
        if self.on_push is not None:
            self.on_push(update)
        return update

    def _notify(self) -> None:
        cond = self._changed
        if cond is None:
            return

        async def wake() -> None:
            async with cond:
                cond.notify_all()

        # Injection is sync test code running inside the loop: schedule the wake-up, keep a reference.
        task = asyncio.get_running_loop().create_task(wake())
        self._wakers.add(task)
        task.add_done_callback(self._wakers.discard)

    @staticmethod
    def user(user_id: int, username: str | None = None, first_name: str = "Tester") -> dict[str, Any]:
        """A Telegram User object for a human."""
        u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        if username:
            u["username"] = username
        return u

    @staticmethod
    def chat(chat_id: int, chat_type: str = "private", title: str = "Test group") -> dict[str, Any]:
        """A Telegram Chat object."""
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Tester"}
        return {"id": chat_id, "type": chat_type, "title": title}

    def _base_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        username: str | None,
        reply_to: SentMessage | None,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._user_msg_id),
            "date": int(time.time()),
            "chat": self.chat(chat_id if chat_id is not None else user_id, chat_type),
            "from": self.user(user_id, username),
        }
        if reply_to is not None:
            msg["reply_to_message"] = self.bot_message_json(reply_to)
        return msg

    def send_text(
        self,
        text: str,
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        chat_type: str = "private",
        username: str | None = "alice",
        reply_to: SentMessage | None = None,
    ) -> dict[str, Any]:
        """Inject a text message (entities computed as Telegram would) and return the update."""
        msg = self._base_message(user_id, chat_id, chat_type, username, reply_to)
        msg["text"] = text
        entities = auto_entities(text)
        if entities:
            msg["entities"] = entities
        return self._push({"message": msg})

    def send_media(
        self,
        kind: str,
        *,
        user_id: int = 111,
        chat_id: int | None = None,
        chat_type: str = "private",
        username: str | None = "alice",
        caption: str | None = None,
        reply_to: SentMessage | None = None,
    ) -> dict[str, Any]:
        """Inject a non-text message: photo, sticker, voice, document or location."""
        msg = self._base_message(user_id, chat_id, chat_type, username, reply_to)
        file = {"file_id": f"F{msg['message_id']}", "file_unique_id": f"U{msg['message_id']}"}
        if kind == "photo":
            msg["photo"] = [{**file, "width": 90, "height": 90}]
        elif kind == "sticker":
            msg["sticker"] = {
                **file,
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        elif kind == "voice":
            msg["voice"] = {**file, "duration": 3}
        elif kind == "document":
            msg["document"] = {**file, "file_name": "notes.pdf"}
        elif kind == "location":
            msg["location"] = {"latitude": 55.75, "longitude": 37.62}
        else:
            raise ValueError(f"unknown media kind {kind!r}")
        if caption is not None:
            msg["caption"] = caption
            entities = auto_entities(caption)
            if entities:
                msg["caption_entities"] = entities
        return self._push({"message": msg})

    def edit_text(
        self, original: dict[str, Any], new_text: str, *, chat_type: str | None = None
    ) -> dict[str, Any]:
        """Inject an edited_message update for a message injected earlier."""
        msg = dict(original["message"])
        if chat_type is not None:
            msg["chat"] = self.chat(msg["chat"]["id"], chat_type)
        msg["text"] = new_text
        msg["edit_date"] = int(time.time())
        msg["entities"] = auto_entities(new_text)
        return self._push({"edited_message": msg})

    def press(
        self,
        message: SentMessage,
        data: str,
        *,
        user_id: int = 111,
        username: str | None = "alice",
        chat_id: int | None = None,
    ) -> str:
        """Inject a callback query for a button under a bot message; return the query id.

        `chat_id` forges the chat the message appears in, as a client replaying data elsewhere would.
        """
        qid = f"cq{next(self._callback_ids)}"
        self._open_callbacks.add(qid)
        shown = message if chat_id is None else moved(message, chat_id)
        chat_type = "private" if shown.chat_id > 0 else "supergroup"
        self._push(
            {
                "callback_query": {
                    "id": qid,
                    "from": self.user(user_id, username),
                    "message": self.bot_message_json(shown, chat_type),
                    "chat_instance": f"ci{shown.chat_id}",
                    "data": data,
                }
            }
        )
        return qid

    def channel_post(self, text: str, *, chat_id: int = -100777, edited: bool = False) -> dict[str, Any]:
        """Inject a channel post (no sender user, as Telegram sends them), or an edit of one."""
        post: dict[str, Any] = {
            "message_id": next(self._user_msg_id),
            "date": int(time.time()),
            "chat": self.chat(chat_id, "channel", "Test channel"),
            "sender_chat": self.chat(chat_id, "channel", "Test channel"),
            "text": text,
        }
        entities = auto_entities(text)
        if entities:
            post["entities"] = entities
        return self._push({"edited_channel_post" if edited else "channel_post": post})

    def bot_message_json(self, m: SentMessage, chat_type: str | None = None) -> dict[str, Any]:
        """The Message object Telegram would send for a message the bot sent."""
        ctype = chat_type or ("private" if m.chat_id > 0 else "supergroup")
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "date": int(m.at),
            "chat": self.chat(m.chat_id, ctype),
            "from": self.me(),
            "text": m.text,
        }
        if m.entities:
            out["entities"] = [
                {k: v for k, v in e.items() if k in ("type", "offset", "length")} for e in m.entities
            ]
        if m.reply_markup:
            out["reply_markup"] = m.reply_markup
        return out

    def me(self) -> dict[str, Any]:
        """The bot's own User object."""
        return {"id": BOT_ID, "is_bot": True, "first_name": "Usru", "username": BOT_USERNAME}
