"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot.

It speaks HTTP like api.telegram.org (form-encoded POSTs to /bot<TOKEN>/<method>), validates what
Telegram validates, records every request, lets tests inject updates and script faults. Use it as a
pytest plugin: ``pytest_plugins = ["bench.fakebotapi"]`` and ask for the ``fake_bot_api`` fixture.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import socket
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "usru_test_bot"
TOKEN = "7000001:AAFakeTokenForTestsOnly_abcdefghijklmnop"

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_PHOTO_BYTES = 10_000_000
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_CHARS = 200
# Long polls return [] after at most this long, so PTB neither spins nor makes tests wait.
LONG_POLL_CAP_S = 0.5

ALLOWED_TAGS: dict[str, set[str]] = {
    "b": set(),
    "i": set(),
    "u": set(),
    "s": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-spoiler": set(),
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# Sends that put something in a chat, which Telegram throttles per chat and in all.
MESSAGE_METHODS = frozenset({"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"})
# Sends counted against the global limit (PTB's limiter counts every request that names a chat).
FLOOD_METHODS = MESSAGE_METHODS | {"sendChatAction"}
JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "reply_parameters",
    "link_preview_options",
    "entities",
    "commands",
    "scope",
}

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")
_BOT_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class TelegramHTMLError(ValueError):
    """The text is not HTML that Telegram's parser accepts."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "&":
            m = _ENTITY_RE.match(raw, i)
            if not m:
                raise TelegramHTMLError(f"can't parse entities: unsupported entity at byte offset {i}")
            if m.group(1):
                out.append(NAMED_ENTITIES[m.group(1)])
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise TelegramHTMLError(f"can't parse entities: invalid character reference {m.group(0)}")
                out.append(chr(code))
            i = m.end()
        elif ch in "<>":
            raise TelegramHTMLError(f"can't parse entities: unescaped {ch!r} at offset {i}")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities with UTF-16 offsets); raise TelegramHTMLError."""
    plain: list[str] = []
    plain_len16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    while i < len(html):
        lt = html.find("<", i)
        end = len(html) if lt < 0 else lt
        if end > i:
            piece = _decode_entities(html[i:end])
            plain.append(piece)
            plain_len16 += utf16_len(piece)
            i = end
            continue
        m = _TAG_RE.match(html, i)
        if not m:
            raise TelegramHTMLError(f"can't parse entities: unexpected '<' at offset {i}")
        closing, name, attr_text = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in ALLOWED_TAGS:
            raise TelegramHTMLError(f'can\'t parse entities: unsupported start tag "{name}" at offset {i}')
        if closing:
            if attr_text.strip():
                raise TelegramHTMLError(f"can't parse entities: end tag with attributes at offset {i}")
            if not stack or stack[-1][0] != name:
                raise TelegramHTMLError(f'can\'t parse entities: unmatched end tag "{name}" at offset {i}')
            open_name, start16, attrs = stack.pop()
            entity: dict[str, Any] = {"type": open_name, "offset": start16, "length": plain_len16 - start16}
            entity.update(attrs)
            entities.append(entity)
        else:
            attrs = {}
            for am in _ATTR_RE.finditer(attr_text):
                key, value = am.group(1).lower(), am.group(2)
                if key not in ALLOWED_TAGS[name]:
                    raise TelegramHTMLError(
                        f"can't parse entities: unsupported attribute {key!r} of <{name}>"
                    )
                if value is not None and value[:1] in "\"'":
                    value = value[1:-1]
                attrs[key] = _decode_entities(value) if value is not None else ""
            open_names = [s[0] for s in stack]
            if name == "blockquote" and "blockquote" in open_names:
                raise TelegramHTMLError("can't parse entities: nested blockquote")
            if ("pre" in open_names and name != "code") or "code" in open_names:
                raise TelegramHTMLError(f"can't parse entities: <{name}> inside pre/code")
            if name == "a" and not attrs.get("href"):
                raise TelegramHTMLError("can't parse entities: <a> without href")
            stack.append((name, plain_len16, attrs))
        i = m.end()
    if stack:
        raise TelegramHTMLError(f'can\'t parse entities: unclosed start tag "{stack[-1][0]}"')
    return "".join(plain), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram attaches to an incoming text: a leading bot command and @mentions."""
    found: list[dict[str, Any]] = []
    m = _COMMAND_RE.match(text)
    if m:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
    for m in _MENTION_RE.finditer(text):
        if m.start() == 0 and found:
            continue
        found.append(
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        )
    return found


@dataclass
class Recorded:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    # None while the request is still being handled; 0 when the client went away first.
    status: int | None = None
    error: str | None = None
    # The first path segment when the bot's base URL is http://…/<via>/bot: which worker sent it.
    via: str = ""
    # When the successful response left the handler (time.monotonic()).
    answered_at: float | None = None


@dataclass
class Fault:
    """A scripted misbehaviour for one call of one method.

    `status` answers with that HTTP error (429 carries `retry_after`); `delay_s` holds the request
    first (dropped if the client gives up meanwhile); `reset` closes the socket halfway through the
    response; `garbled` answers 200 with a body that is not JSON. A reset or garbled call never
    reached "Telegram": like a proxy failing in between, nothing is applied.
    """

    status: int = 0
    retry_after: int | None = None
    delay_s: float = 0.0
    reset: bool = False
    garbled: bool = False

    @classmethod
    def http(cls, status: int, retry_after: int | None = None) -> Fault:
        """An HTTP error such as 500, 502 or 429."""
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """A response held back for `seconds`, longer than the client waits."""
        return cls(delay_s=seconds)

    @classmethod
    def connection_reset(cls) -> Fault:
        """The server resets the TCP connection after sending half a response."""
        return cls(reset=True)

    @classmethod
    def malformed_json(cls) -> Fault:
        """A 200 whose body is an HTML error page instead of JSON."""
        return cls(garbled=True)


@dataclass
class FloodLimits:
    """Telegram's flood control as token buckets: about one message a second per chat, 30 in all.

    Buckets hold `*_burst` sends, so a client keeping to the rates with some network jitter is never
    refused; one that ignores them gets 429 with retry_after, as from Telegram.
    """

    chat_per_s: float = 1.0
    chat_burst: float = 2.0
    global_per_s: float = 30.0
    global_burst: float = 40.0


@dataclass
class SentMessage:
    """A message the bot delivered, as the fake server stored it."""

    message_id: int
    chat_id: int
    text: str
    html: str
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    at: float
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        """Every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def blockquotes(self) -> list[str]:
        """The text inside each blockquote entity."""
        units = self.text.encode("utf-16-le")
        return [
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] == "blockquote"
        ]


@dataclass
class SentPhoto:
    """A photo the bot uploaded (sendPhoto), with its caption as the fake server parsed it."""

    message_id: int
    chat_id: int
    data: bytes
    caption: str
    caption_html: str
    caption_entities: list[dict[str, Any]]
    reply_to_message_id: int | None
    at: float


def _moved(message: SentMessage, chat_id: int) -> SentMessage:
    """The same message as if it were in another chat."""
    return SentMessage(
        message.message_id,
        chat_id,
        message.text,
        message.html,
        message.entities,
        message.reply_markup,
        message.reply_to_message_id,
        message.at,
    )


@dataclass
class FakeBotAPI:
    """State and behaviour of the fake Bot API; tests drive it through the public methods."""

    token: str = TOKEN
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    rejected: list[Recorded] = field(default_factory=list)
    unknown_methods: list[str] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update_id: int = 100
    _confirmed: int = 0
    _msg_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _user_msg_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _open_callbacks: set[str] = field(default_factory=set)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _planned: dict[tuple[str, int], Fault] = field(default_factory=dict)
    _call_counts: Counter[str] = field(default_factory=Counter)
    # At most this many updates per getUpdates, so that a test can stop the bot with some undelivered.
    batch_limit: int | None = None
    flood: FloodLimits | None = None
    flood_refusals: list[Recorded] = field(default_factory=list)
    _buckets: dict[Any, tuple[float, float]] = field(default_factory=dict)
    # When each update was first handed to the bot, by update_id (time.monotonic()).
    delivered_at: dict[int, float] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None
    _wakers: set[asyncio.Task[None]] = field(default_factory=set)
    _closing: bool = False
    # Called with each injected update (bench/fakewebhook.py pushes it to the webhook).
    on_push: Callable[[dict[str, Any]], None] | None = None

    bot_username: str = BOT_USERNAME
    utf16_len = staticmethod(utf16_len)

    @property
    def base_url(self) -> str:
        """What the bot should use as TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ----- scripting -------------------------------------------------------------------------

    def fail_next(self, method: str, status: int, retry_after: int | None = None, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail with `status` (429 carries retry_after)."""
        self._faults.setdefault(method, []).extend(
            Fault(status=status, retry_after=retry_after) for _ in range(times)
        )

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next calls of `method` before handling them; dropped if the client gives up."""
        self._faults.setdefault(method, []).extend(Fault(delay_s=seconds) for _ in range(times))

    def plan(self, method: str, faults: Mapping[int, Fault] | Iterable[tuple[int, Fault]]) -> None:
        """Script faults by call number of `method`, counted from now: {1: its next call, 3: the one after}."""
        items = faults.items() if isinstance(faults, Mapping) else faults
        done = self._call_counts[method]
        for number, fault in items:
            if number < 1:
                raise ValueError("call numbers start at 1")
            self._planned[(method, done + number)] = fault

    def call_count(self, method: str) -> int:
        """How many calls of `method` have arrived so far."""
        return self._call_counts[method]

    def planned_left(self) -> list[tuple[str, int]]:
        """Scripted faults whose call has not come yet."""
        return sorted(self._planned)

    def enforce_flood_limits(self, limits: FloodLimits | None = None) -> None:
        """Refuse sends beyond Telegram's flood limits with 429 retry_after, as Telegram does."""
        self.flood = limits or FloodLimits()
        self._buckets.clear()

    # ----- injecting updates -------------------------------------------------------------------

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
        entities = _auto_entities(text)
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
            entities = _auto_entities(caption)
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
        msg["entities"] = _auto_entities(new_text)
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
        shown = message if chat_id is None else _moved(message, chat_id)
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
        entities = _auto_entities(text)
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

    # ----- reading what happened ---------------------------------------------------------------

    def calls(self, method: str) -> list[Recorded]:
        """Every request of one method, in arrival order (failed ones included)."""
        return [r for r in self.requests if r.method == method]

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages delivered (to one chat), in order."""
        return [m for m in self.messages if chat_id is None or m.chat_id == chat_id]

    def replies_to(self, update: dict[str, Any]) -> list[SentMessage]:
        """Delivered messages that reply to the message in an injected update."""
        mid = update["message"]["message_id"]
        return [m for m in self.messages if m.reply_to_message_id == mid]

    def callback_answers(self, query_id: str) -> list[Recorded]:
        """answerCallbackQuery calls for one query."""
        return [r for r in self.calls("answerCallbackQuery") if r.params.get("callback_query_id") == query_id]

    def send_times(self, chat_id: int | None = None, methods: frozenset[str] | None = None) -> list[float]:
        """When accepted sends (messages and edits, or `methods`) arrived, for one chat or all."""
        wanted = methods or MESSAGE_METHODS
        return [
            r.at
            for r in self.requests
            if r.method in wanted
            and r.status == 200
            and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
        ]

    def _flood_check(self, method: str, params: dict[str, Any], now: float) -> int | None:
        """Seconds to wait if this send breaks the flood limits (and is refused), else None."""
        limits = self.flood
        if limits is None or method not in FLOOD_METHODS or "chat_id" not in params:
            return None
        keys: list[tuple[Any, float, float]] = [("*", limits.global_per_s, limits.global_burst)]
        if method in MESSAGE_METHODS:
            keys.append((str(params["chat_id"]), limits.chat_per_s, limits.chat_burst))
        levels = []
        for key, rate, burst in keys:
            tokens, at = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens < 1.0:
                return max(1, math.ceil((1.0 - tokens) / rate))
            levels.append((key, tokens))
        for key, tokens in levels:
            self._buckets[key] = (tokens - 1.0, now)
        return None

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
    ) -> Any:
        """Poll until predicate() is truthy (returning it) or fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.02)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot through an offset."""
        return [u for u in self._updates if u["update_id"] >= self._confirmed]

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot has confirmed."""
        return self._confirmed

    # ----- HTTP ------------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The bot's own User object."""
        return {"id": BOT_ID, "is_bot": True, "first_name": "Usru", "username": BOT_USERNAME}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            params = await _read_params(request)
        except ConnectionResetError:  # the client gave up while sending (PTB cancels its long poll on stop)
            return web.Response(status=499)
        rec = Recorded(
            method=method, params=params, at=time.monotonic(), via=request.match_info.get("via", "")
        )
        self.requests.append(rec)
        if token != self.token:
            return _error(rec, 401, "Unauthorized")
        self._call_counts[method] += 1
        fault = self._planned.pop((method, self._call_counts[method]), None)
        faults = self._faults.get(method)
        if fault is None and faults:
            fault = faults.pop(0)
        if fault and fault.reset:
            return await _reset_midway(request, rec)
        if fault and fault.garbled:
            rec.status, rec.error = 200, "garbled body"
            return web.Response(
                status=200,
                text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                content_type="text/html",
            )
        if fault and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
            transport = request.transport
            if transport is None or transport.is_closing():
                # The client gave up waiting: like a request that never reached Telegram.
                rec.status, rec.error = 0, "client went away"
                return web.Response(status=499)
        elif fault and fault.status == 429:
            return _error(
                rec,
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        elif fault:
            return _error(rec, fault.status, "Internal Server Error")
        wait = self._flood_check(method, params, rec.at)
        if wait is not None:
            self.flood_refusals.append(rec)
            return _error(rec, 429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.unknown_methods.append(method)
            return _error(rec, 404, "Not Found")
        try:
            result = await handler(params)
        except _Conflict as exc:
            return _error(rec, 409, f"Conflict: {exc}")
        except _BadRequest as exc:
            self.rejected.append(rec)
            return _error(rec, 400, f"Bad Request: {exc}")
        rec.status, rec.answered_at = 200, time.monotonic()
        try:
            return web.json_response({"ok": True, "result": result})
        except (ConnectionResetError, asyncio.CancelledError):  # pragma: no cover - client went away
            return web.Response(status=499)

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
            raise _BadRequest("bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _BadRequest("bad webhook: secret token contains unallowed characters")
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
            raise _Conflict("can't use getUpdates method while webhook is active; use deleteWebhook first")
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
            raise _BadRequest("commands must be a non-empty list of at most 100 commands")
        for c in commands:
            if not _BOT_COMMAND_NAME_RE.match(str(c.get("command", ""))):
                raise _BadRequest(f"BOT_COMMAND_INVALID: {c.get('command')!r}")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _BadRequest("command description must be 1-256 characters")
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
            raise _BadRequest("wrong parameter action in request")
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
            raise _BadRequest("wrong file identifier/HTTP URL specified")
        if not photo or len(photo) > MAX_PHOTO_BYTES:
            raise _BadRequest("PHOTO_INVALID_DIMENSIONS" if photo else "file must be non-empty")
        caption_html = str(params.get("caption", ""))
        caption, entities = caption_html, []
        if params.get("parse_mode") == "HTML":
            try:
                caption, entities = parse_html(caption_html)
            except TelegramHTMLError as exc:
                raise _BadRequest(str(exc)) from exc
        if utf16_len(caption) > MAX_CAPTION_UTF16:
            raise _BadRequest("message caption is too long")
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
        raise _BadRequest("message to edit not found")

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        msg = self._find(params)
        text, html, entities = _check_text(params)
        markup = _check_markup(params.get("reply_markup"))
        if html == msg.html and markup == msg.reply_markup:
            raise _BadRequest("message is not modified")
        msg.text, msg.html, msg.entities, msg.reply_markup = text, html, entities, markup
        msg.edits += 1
        return self.bot_message_json(msg)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        msg = self._find(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise _BadRequest("message is not modified")
        msg.reply_markup = markup
        msg.edits += 1
        return self.bot_message_json(msg)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        qid = str(params.get("callback_query_id", ""))
        if qid not in self._open_callbacks:
            raise _BadRequest("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text", ""))) > MAX_CALLBACK_ANSWER_CHARS:
            raise _BadRequest("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(qid)
        return True

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True


class _BadRequest(Exception):
    """A 400 the fake server answers, as Telegram would."""


class _Conflict(Exception):
    """A 409: getUpdates while a webhook is set."""


def _error(
    rec: Recorded, status: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    rec.status, rec.error = status, description
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _reset_midway(request: web.Request, rec: Recorded) -> web.StreamResponse:
    """Send headers and half a body, then reset the TCP connection (RST, not a clean close)."""
    rec.status, rec.error = 0, "connection reset"
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = 200
    await response.prepare(request)
    await response.write(b'{"ok":true,"result":{"message_id":')
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 makes close() send RST, which the client sees as "connection reset by peer".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return response


def peak_count(times: Iterable[float], window_s: float) -> int:
    """The most events in any window of `window_s` seconds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
    else:
        form = await request.post()
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
        # Uploads (sendPhoto's picture) arrive as file parts: keep their bytes.
        raw.update({k: v.file.read() for k, v in form.items() if isinstance(v, web.FileField)})
        raw.update(request.query)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_PARAMS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{key} is not JSON") from exc
        else:
            params[key] = value
    return params


def _require_chat(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, ValueError) as exc:
        raise _BadRequest("chat not found") from exc


def _check_text(params: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    html = str(params.get("text", ""))
    if params.get("parse_mode") == "HTML":
        try:
            text, entities = parse_html(html)
        except TelegramHTMLError as exc:
            raise _BadRequest(str(exc)) from exc
    else:
        text, entities = html, []
    if not text.strip():
        raise _BadRequest("message text is empty")
    if utf16_len(text) > MAX_TEXT_UTF16:
        raise _BadRequest("message is too long")
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
                raise _BadRequest("BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise _BadRequest("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise _BadRequest("BUTTON_URL_INVALID")
            if data is None and url is None:
                raise _BadRequest('can\'t find field "callback_data" or "url" in inline keyboard button')
    return dict(markup)


@contextlib.asynccontextmanager
async def started_application(service: Any, settings: Any, bot_settings: Any) -> AsyncIterator[Any]:
    """Start the bot's real Application the way run_polling does, and stop it the same way."""
    from bot.telegram.app import build_application, polling_options
    from bot.telegram.lifecycle import stop_application

    app = build_application(service, settings, bot_settings)
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_polling(**polling_options(bot_settings))
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await stop_application(app)


@contextlib.asynccontextmanager
async def serve_fake_bot_api(token: str = TOKEN) -> AsyncIterator[FakeBotAPI]:
    """Run a FakeBotAPI on 127.0.0.1 at a free port for the duration of the block."""
    api = FakeBotAPI(token=token)
    api._changed = asyncio.Condition()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", api._handle)
    app.router.add_route("*", "/{via}/bot{token}/{method}", api._handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    api.port = server.sockets[0].getsockname()[1]
    try:
        yield api
    finally:
        # Long polls abandoned by the bot are still parked here; release them so shutdown is quick.
        api._closing = True
        async with api._changed:
            api._changed.notify_all()
        await runner.cleanup()


@pytest.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotAPI]:
    """A running fake Bot API server; point the bot's base_url at fake_bot_api.base_url."""
    async with serve_fake_bot_api() as api:
        yield api
