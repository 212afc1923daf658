"""What the fake Bot API records and serves: its limits, requests, scripted faults, sent messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


def moved(message: SentMessage, chat_id: int) -> SentMessage:
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


def peak_count(times: Iterable[float], window_s: float) -> int:
    """The most events in any window of `window_s` seconds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
