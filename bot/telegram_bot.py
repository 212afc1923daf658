"""The Telegram front end: relays questions to the answering service and replies with cited quotes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Protocol, TypeVar

from aiolimiter import AsyncLimiter
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.bot_settings import BotSettings, BotSettingsError
from bot.outage import install_one_line_network_errors, log_polling_error, wait_for_telegram
from bot.telegram_format import (
    ArticleLike,
    StatsLike,
    button_label,
    escape,
    format_about,
    format_answer,
    format_context,
    format_help,
    format_more,
    format_sources,
    format_start,
    pack,
)
from bot.telegram_stream import ChatAnswerSource, DraftMessage
from retrieval.answer import Answer, Citation
from retrieval.errors import UsruError
from retrieval.followup import ChatMemory
from retrieval.settings import Settings
from retrieval.store import IndexSummary

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]
T = TypeVar("T")

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = [
    ("start", "What I do and which articles I know"),
    ("help", "How to ask questions"),
    ("sources", "The articles I answer from"),
    ("about", "Version and index details"),
    ("ask", "Ask a question (in group chats)"),
]
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
# Confirming handled updates on stop: attempts, and the first pause between them (doubling).
CONFIRM_ATTEMPTS = 4
CONFIRM_BACKOFF_S = 0.25
TYPING_EVERY_S = 4.5  # Telegram shows "typing…" for five seconds per sendChatAction.
CONTEXT_RADIUS = 300
MAX_EXAMPLES = 3

REFUSAL = "Sorry, this bot only answers its approved users."
NOT_TEXT = "I can only read text. Please type your question as a message."
EDITED = "I answer new messages only, not edits: please send the corrected question as a new message."
EMPTY = "Please type a question, for example: <i>What did Putin say about relations with the US?</i>"
ASK_USAGE = "Put the question after the command, for example: <code>/ask Is Russia ready for dialogue?</code>"
STALE = "That answer is no longer in my memory; please ask the question again."
UNKNOWN_BUTTON = "That button is not one of mine; please ask your question as a message."
WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a moment."
TOO_SLOW = "Sorry, that took too long to answer. Please try again, perhaps with a shorter question."


# The callback data of our buttons: "ex:N", "ctx:KEY:N", "ctm:KEY:N", "more:KEY" (KEY from AnswerCache).
_BUTTON_RE = re.compile(
    r"(ex):([0-9]{1,2})|(ctx|ctm):([A-Za-z0-9_-]{8}):([0-9]{1,2})|(more):([A-Za-z0-9_-]{8})"
)


def parse_button(data: str) -> tuple[str, str, int] | None:
    """(kind, cache key, number) of one of our buttons' callback data, or None for anything else."""
    m = _BUTTON_RE.fullmatch(data)
    if m is None:
        return None
    if m.group(1):
        return "ex", "", int(m.group(2))
    if m.group(3):
        return m.group(3), m.group(4), int(m.group(5))
    return "more", m.group(7), 0


class AnswerSource(Protocol):
    """What the bot needs from the answering service."""

    def answer(self, question: str) -> Answer: ...
    def list_articles(self) -> Sequence[ArticleLike]: ...
    def stats(self) -> StatsLike: ...
    def passage_in_context(
        self, source: str, start: int, end: int, radius: int = 300
    ) -> tuple[str, str, str]: ...
    def reindex(self, paths: list[Path] | None = None, *, wait: bool = False) -> IndexSummary: ...


def app_version() -> str:
    """The installed usru version."""
    try:
        return package_version("usru")
    except PackageNotFoundError:
        return "(development checkout)"


def is_transient(exc: TelegramError) -> bool:
    """Whether a failed request is worth retrying: a network failure, or a body that is not JSON.

    PTB raises a bare TelegramError for the latter, which is what a proxy's error page looks like.
    """
    if isinstance(exc, BadRequest):
        return False
    return isinstance(exc, NetworkError) or (type(exc) is TelegramError and exc.message == INVALID_RESPONSE)


class FloodControl(AIORateLimiter):
    """PTB's flood control plus a per-chat message rate and retries of transient network failures."""

    def __init__(self, chat_messages_per_second: float, max_retries: int, backoff_s: float) -> None:
        super().__init__(max_retries=max_retries)
        self._chat_period = 1.0 / chat_messages_per_second
        self._chat_limiters: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._network_retries = max_retries
        self._backoff_s = backoff_s

    def _chat_limiter(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        limiter = self._chat_limiters.get(key)
        if limiter is None:
            limiter = self._chat_limiters[key] = AsyncLimiter(1, self._chat_period)
            # Forget the least recently used chats; a forgotten chat just starts with a fresh bucket.
            while len(self._chat_limiters) > 4096:
                self._chat_limiters.popitem(last=False)
        else:
            self._chat_limiters.move_to_end(key)
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


class QuestionRateLimiter:
    """Sliding one-minute window of questions per user, with one slow-down notice per burst."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_users: int = 10_000):
        self.per_minute = per_minute
        self._clock = clock
        self._max_users = max_users
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, user_id: int) -> float:
        """Record a question and return 0, or return the seconds until the user may ask again."""
        now = self._clock()
        times = self._seen.get(user_id)
        if times is None:
            times = self._seen[user_id] = deque(maxlen=self.per_minute)
            while len(self._seen) > self._max_users:
                evicted, _ = self._seen.popitem(last=False)
                self._warned.discard(evicted)
        self._seen.move_to_end(user_id)
        if len(times) >= self.per_minute and now - times[0] < 60.0:
            return 60.0 - (now - times[0])
        times.append(now)
        self._warned.discard(user_id)
        return 0.0

    def first_warning(self, user_id: int) -> bool:
        """True the first time a user is held back in a burst, so a flood gets one reply, not many."""
        if user_id in self._warned:
            return False
        self._warned.add(user_id)
        return True


@dataclass(frozen=True)
class CachedAnswer:
    """An answer kept so its buttons can show passages and more quotes."""

    answer: Answer
    shown: tuple[tuple[Citation, ...], ...]
    more: tuple[tuple[Citation, ...], ...]
    message_id: int | None = None


def by_article(citations: Sequence[Citation]) -> tuple[tuple[Citation, ...], ...]:
    """Citations grouped by source article, in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.source, []).append(c)
    return tuple(tuple(g) for g in groups.values())


class AnswerCache:
    """The last few answers per chat, keyed by a short random id that fits in callback data."""

    def __init__(self, per_chat: int = 32, max_chats: int = 2000) -> None:
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._chats: OrderedDict[int, OrderedDict[str, CachedAnswer]] = OrderedDict()

    def put(self, chat_id: int, entry: CachedAnswer) -> str:
        """Store an answer; return its key."""
        chat = self._chats.setdefault(chat_id, OrderedDict())
        self._chats.move_to_end(chat_id)
        key = secrets.token_urlsafe(6)
        chat[key] = entry
        while len(chat) > self.per_chat:
            chat.popitem(last=False)
        while len(self._chats) > self.max_chats:
            self._chats.popitem(last=False)
        return key

    def get(self, chat_id: int, key: str) -> CachedAnswer | None:
        """The stored answer, or None once it has been forgotten."""
        chat = self._chats.get(chat_id)
        return chat.get(key) if chat is not None else None

    def replace(self, chat_id: int, key: str, entry: CachedAnswer) -> None:
        """Update a stored answer in place, if it is still there."""
        chat = self._chats.get(chat_id)
        if chat is not None and key in chat:
            chat[key] = entry


class _BoundedSet:
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, item: int) -> bool:
        """Add item; False if it was already there."""
        if item in self._items:
            return False
        self._items[item] = None
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return True


class UsruBot:
    """The bot's handlers and the state they share."""

    def __init__(self, service: AnswerSource, settings: Settings, bot_settings: BotSettings) -> None:
        self.service = service
        self.settings = settings
        self.bs = bot_settings
        self.cache = AnswerCache()
        self.limiter = QuestionRateLimiter(bot_settings.rate_limit_per_minute)
        self.examples = bot_settings.example_questions[:MAX_EXAMPLES]
        self._refused = _BoundedSet(10_000)
        # Recent questions per chat, so that follow-ups ("and what about 2018?") can be understood.
        self.histories = ChatMemory(settings.history_turns)
        # A pool of our own bounds concurrent answering and keeps it off the event loop.
        self.executor = ThreadPoolExecutor(
            max_workers=bot_settings.answer_workers, thread_name_prefix="usru-answer"
        )
        self._watcher: tuple[threading.Thread, threading.Event] | None = None
        # The newest update fetched, so that stopping can confirm it to Telegram (see post_stop).
        self.last_update_id: int | None = None

    def register(self, app: BotApp) -> None:
        """Attach every handler to the application."""
        app.add_handler(TypeHandler(Update, self.gate), group=-1)
        app.add_handler(MessageHandler(filters.UpdateType.EDITED, self.edited))
        app.add_handler(CommandHandler("start", self.start))
        app.add_handler(CommandHandler("help", self.help_command))
        app.add_handler(CommandHandler("sources", self.sources))
        app.add_handler(CommandHandler("about", self.about))
        app.add_handler(CommandHandler("ask", self.ask))
        app.add_handler(CommandHandler("reindex", self.reindex))
        app.add_handler(MessageHandler(filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self.question))
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.not_text
            )
        )
        app.add_error_handler(self.on_error)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # ----- who may talk to the bot ------------------------------------------------------------------

    @staticmethod
    def _is_group(message: Message) -> bool:
        return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)

    @staticmethod
    def _command_target(message: Message) -> str | None:
        """'' for a bare /command, the bot name for /command@name, None when there is no command."""
        for entity in message.entities:
            if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
                return message.parse_entity(entity).partition("@")[2].lower()
        return None

    def _addressed(self, message: Message, bot_id: int, bot_username: str) -> bool:
        """Whether a group message is meant for this bot: a command, a mention or a reply to it."""
        target = self._command_target(message)
        if target is not None:
            return target in ("", bot_username.lower())
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
            return True
        entities = {**message.parse_entities(), **message.parse_caption_entities()}
        for entity, text in entities.items():
            if entity.type == MessageEntity.MENTION and text[1:].lower() == bot_username.lower():
                return True
            if (
                entity.type == MessageEntity.TEXT_MENTION
                and entity.user is not None
                and entity.user.id == bot_id
            ):
                return True
        return False

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Drop what is not for us; refuse, once, users outside the allowlist."""
        self.last_update_id = max(update.update_id, self.last_update_id or 0)
        user = update.effective_user
        if user is None or user.is_bot:
            raise ApplicationHandlerStop
        message = update.effective_message
        if update.callback_query is None:
            if message is None or message.chat.type == ChatType.CHANNEL:
                raise ApplicationHandlerStop
            if self._is_group(message) and not self._addressed(message, context.bot.id, context.bot.username):
                raise ApplicationHandlerStop
        if self.bs.is_allowed(user.id, user.username):
            return
        log.info("Refused user %s", user.id)
        if update.callback_query is not None:
            await update.callback_query.answer(REFUSAL, show_alert=True)
        elif message is not None and self._refused.add(user.id):
            await self._send(context, message.chat_id, escape(REFUSAL), reply_to=message)
        raise ApplicationHandlerStop

    # ----- sending ---------------------------------------------------------------------------------------

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        html: str,
        *,
        reply_to: Message | int | None = None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message:
        reply_id = reply_to.message_id if isinstance(reply_to, Message) else reply_to
        return await context.bot.send_message(
            chat_id,
            html,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            reply_parameters=ReplyParameters(reply_id, allow_sending_without_reply=True)
            if reply_id
            else None,
        )

    async def _send_all(
        self,
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
            last = await self._send(
                context,
                chat_id,
                part,
                reply_to=reply_to if i == 0 else None,
                markup=markup if is_last else None,
            )
        return last

    async def _keep_typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
        rounds = int(self.bs.answer_timeout_s / TYPING_EVERY_S) + 1
        for _ in range(rounds):
            try:
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("Could not show typing in chat %s: %s", chat_id, exc)
            await asyncio.sleep(TYPING_EVERY_S)

    # ----- answering ---------------------------------------------------------------------------------------

    async def _answer(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        question: str,
        *,
        reply_to: Message | None,
        echo: bool = False,
    ) -> None:
        """Rate-limit, answer off the event loop while showing typing, and send the cited reply."""
        chat = update.effective_chat
        user = update.effective_user
        assert chat is not None and user is not None
        question = question.strip()
        if not question:
            await self._send(context, chat.id, EMPTY, reply_to=reply_to)
            return
        if len(question) > self.settings.max_question_chars:
            await self._send(
                context,
                chat.id,
                escape(
                    f"Your question is {len(question)} characters long; please shorten it to "
                    f"{self.settings.max_question_chars} characters or fewer."
                ),
                reply_to=reply_to,
            )
            return
        if not self.bs.is_admin(user.id, user.username):
            wait = self.limiter.check(user.id)
            if wait > 0:
                if self.limiter.first_warning(user.id):
                    await self._send(
                        context,
                        chat.id,
                        escape(
                            f"You're asking faster than I can keep up with "
                            f"({self.limiter.per_minute} questions a minute). "
                            f"Please wait {max(1, round(wait))} seconds and ask again."
                        ),
                        reply_to=reply_to,
                    )
                return
        typing = asyncio.create_task(self._keep_typing(context, chat.id))
        draft = self._draft(context, chat.id, reply_to)
        try:
            answer = await asyncio.wait_for(
                self._run(self._ask, chat.id, question, draft), self.bs.answer_timeout_s
            )
        except UsruError as exc:
            await self._reply(context, chat.id, [escape(str(exc))], reply_to, draft)
            return
        except TimeoutError:
            log.warning("Answering took longer than %.0fs in chat %s", self.bs.answer_timeout_s, chat.id)
            await self._reply(context, chat.id, [escape(TOO_SLOW)], reply_to, draft)
            return
        finally:
            typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await typing
            if draft is not None:
                await draft.stop()
        messages = format_answer(answer, echo_question=echo)
        if answer.status != "answered" or not answer.citations:
            await self._reply(context, chat.id, messages, reply_to, draft)
            return
        entry = CachedAnswer(answer, by_article(answer.citations), by_article(answer.more))
        key = self.cache.put(chat.id, entry)
        last = await self._reply(
            context, chat.id, messages, reply_to, draft, self._answer_keyboard(key, entry, with_more=True)
        )
        if last is not None:
            self.cache.replace(
                chat.id, key, CachedAnswer(entry.answer, entry.shown, entry.more, last.message_id)
            )

    def _draft(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply_to: Message | None
    ) -> DraftMessage | None:
        """A message to stream the model's answer into, when the service writes answers with a model."""
        if not (isinstance(self.service, ChatAnswerSource) and self.service.streams):
            return None
        draft = DraftMessage(
            context.bot, chat_id, reply_to.message_id if reply_to else None, asyncio.get_running_loop()
        )
        draft.start()
        return draft

    def _ask(self, chat_id: int, question: str, draft: DraftMessage | None) -> Answer:
        """Answer in the chat's context (follow-ups), reporting drafts; runs on an answering thread."""
        service = self.service
        if not isinstance(service, ChatAnswerSource):
            return service.answer(question)
        history = self.histories.get(chat_id)
        standalone = service.standalone_question(question, history)
        # Only a streaming service is handed the callback, so wrappers of plain answer() keep working.
        answer = service.answer(standalone, draft.update) if draft is not None else service.answer(standalone)
        service.remember(history, answer)
        return answer

    async def _reply(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        messages: Sequence[str],
        reply_to: Message | None,
        draft: DraftMessage | None,
        markup: InlineKeyboardMarkup | None = None,
    ) -> Message | None:
        """Send the reply, turning a streamed draft into its first message."""
        if draft is not None:
            last = await draft.finalise(messages, markup)
            if last is not None:
                return last
        return await self._send_all(context, chat_id, messages, reply_to=reply_to, markup=markup)

    @staticmethod
    def _answer_keyboard(key: str, entry: CachedAnswer, *, with_more: bool) -> InlineKeyboardMarkup:
        rows = [
            [InlineKeyboardButton("📄 " + button_label(group), callback_data=f"ctx:{key}:{k}")]
            for k, group in enumerate(entry.shown)
        ]
        if with_more and entry.answer.more:
            rows.append(
                [
                    InlineKeyboardButton(
                        f"➕ More quotes ({len(entry.answer.more)})", callback_data=f"more:{key}"
                    )
                ]
            )
        return InlineKeyboardMarkup(rows)

    @staticmethod
    def _strip_mention(text: str, bot_username: str) -> str:
        return re.sub(rf"(?<![\w@])@{re.escape(bot_username)}\b", " ", text, flags=re.IGNORECASE).strip()

    async def question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any text message is a question (in groups the gate has checked it is addressed to us)."""
        message = update.message
        assert message is not None and message.text is not None
        text = message.text
        if self._is_group(message):
            text = self._strip_mention(text, context.bot.username)
        await self._answer(update, context, text, reply_to=message if self._is_group(message) else None)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ask <question>: the way to ask in a group chat."""
        message = update.message
        assert message is not None
        text = message.text or ""
        command = next(
            (e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None
        )
        rest = message.parse_entity(command) if command is not None else ""
        question = text[len(rest) :].strip() if text.startswith(rest) else " ".join(context.args or [])
        if not question:
            await self._send(context, message.chat_id, ASK_USAGE, reply_to=message)
            return
        await self._answer(update, context, question, reply_to=message if self._is_group(message) else None)

    # ----- commands ---------------------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: what the bot does, what it knows, and example questions as buttons."""
        message = update.message
        assert message is not None
        stats = await self._run(self.service.stats)
        buttons = [
            [InlineKeyboardButton(q if len(q) <= 60 else q[:59] + "…", callback_data=f"ex:{i}")]
            for i, q in enumerate(self.examples)
        ]
        await self._send(context, message.chat_id, format_start(stats), markup=InlineKeyboardMarkup(buttons))

    async def help_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help: how to ask."""
        message = update.message
        assert message is not None
        text = format_help(self.settings.max_question_chars)
        if update.effective_user and (update.effective_user.language_code or "").startswith("ru"):
            from retrieval.prompts import render_prompt  # the Russian sentences live in prompts/ru_*.txt

            text = render_prompt("ru_help.txt", max_question_chars=self.settings.max_question_chars)
        await self._send(context, message.chat_id, text)

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/sources: the indexed articles."""
        message = update.message
        assert message is not None
        articles = await self._run(self.service.list_articles)
        await self._send_all(context, message.chat_id, format_sources(articles))

    async def about(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/about: version, index size and last re-index time."""
        message = update.message
        assert message is not None
        stats = await self._run(self.service.stats)
        await self._send(context, message.chat_id, format_about(stats, app_version()))

    async def reindex(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reindex (admins only): bring the index up to date with the sources folder."""
        message, user = update.message, update.effective_user
        assert message is not None and user is not None
        if not self.bs.is_admin(user.id, user.username):
            await self._send(
                context, message.chat_id, escape("Only the bot's admins can re-index the articles.")
            )
            return
        await self._send(context, message.chat_id, escape("Re-indexing the articles…"))
        try:
            # Waits for the watcher or a `usru index` that holds the lock, then catches up after it.
            summary = await self._run(functools.partial(self.service.reindex, wait=True))
        except UsruError as exc:
            await self._send(context, message.chat_id, escape(str(exc)))
            return
        except Exception:
            # The details (paths, library messages) go to the log, not to the chat.
            log.exception("Re-indexing failed")
            await self._send(context, message.chat_id, escape(await self._reindex_failed()))
            return
        await self._send(context, message.chat_id, reindex_report(summary))

    async def _reindex_failed(self) -> str:
        """One sentence for a re-index that failed unexpectedly, naming the version still in use."""
        try:
            version = (await self._run(self.service.stats)).version
        except Exception:
            return "Re-indexing failed because of an unexpected error; the bot's log has the details."
        return (
            f"Re-indexing failed because of an unexpected error (the bot's log has the details); "
            f"version {version} is still the one in use."
        )

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Commands we don't have: point to /help (in groups only when the command names us)."""
        message = update.message
        assert message is not None
        if self._is_group(message) and self._command_target(message) != context.bot.username.lower():
            return
        command = (message.text or "").split()[0].partition("@")[0]
        await self._send(
            context, message.chat_id, f"I don't know {escape(command)}. Send /help to see what I can do."
        )

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, stickers, voice, files, locations: ask for text."""
        message = update.message
        assert message is not None
        await self._send(
            context, message.chat_id, escape(NOT_TEXT), reply_to=message if self._is_group(message) else None
        )

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edited messages are not re-answered: say so."""
        message = update.edited_message
        assert message is not None
        await self._send(context, message.chat_id, escape(EDITED), reply_to=message)

    # ----- buttons ---------------------------------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Inline buttons: example questions, passages in context, more quotes."""
        query = update.callback_query
        assert query is not None
        chat_id = query.message.chat.id if query.message is not None else None
        # Callback data comes from the client and can be anything: only our own three shapes pass.
        parsed = parse_button(query.data or "")
        if chat_id is None or parsed is None:
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
            return
        kind, key, k = parsed
        if kind == "ex":
            if k >= len(self.examples):
                await query.answer(UNKNOWN_BUTTON, show_alert=True)
                return
            await query.answer()
            await self._answer(update, context, self.examples[k], reply_to=None, echo=True)
            return
        # Answers are cached per chat, so data copied from another chat finds nothing here.
        entry = self.cache.get(chat_id, key)
        if entry is None:
            await query.answer(STALE, show_alert=True)
            return
        if kind == "more":
            if not entry.more:
                await query.answer(UNKNOWN_BUTTON, show_alert=True)
                return
            await query.answer()
            await self._show_more(context, chat_id, key, entry)
            return
        groups = entry.shown if kind == "ctx" else entry.more
        if k >= len(groups):
            await query.answer(UNKNOWN_BUTTON, show_alert=True)
            return
        await query.answer()
        await self._show_context(context, chat_id, groups[k], entry.message_id)

    async def _show_context(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        citations: Sequence[Citation],
        reply_to: int | None,
    ) -> None:
        urls = {a.source: a.url for a in await self._run(self.service.list_articles)}
        blocks: list[str] = []
        for c in citations:
            try:
                before, quote, after = await self._run(
                    self.service.passage_in_context, c.source, c.start, c.end, CONTEXT_RADIUS
                )
            except UsruError as exc:
                blocks.append(escape(str(exc)))
                continue
            blocks.extend(format_context(c, before, quote, after, urls.get(c.source)))
        await self._send_all(context, chat_id, pack(blocks), reply_to=reply_to)

    async def _show_more(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, key: str, entry: CachedAnswer
    ) -> None:
        more = entry.answer.more
        markup = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("📄 " + button_label(g), callback_data=f"ctm:{key}:{k}")]
                for k, g in enumerate(entry.more)
            ]
        )
        await self._send_all(context, chat_id, format_more(more), reply_to=entry.message_id, markup=markup)
        if entry.message_id is not None:
            # The extra quotes are out: drop the button so it is not pressed twice.
            with contextlib.suppress(BadRequest):
                await context.bot.edit_message_reply_markup(
                    chat_id, entry.message_id, reply_markup=self._answer_keyboard(key, entry, with_more=False)
                )

    # ----- errors ---------------------------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure (the token is redacted by the log filter) and tell the user."""
        if update is None and isinstance(context.error, TelegramError):
            log_polling_error(context.error)  # getUpdates failed: PTB retries; one line (bot/outage.py)
            return
        log.error("Error while handling an update", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        try:
            await context.bot.send_message(update.effective_chat.id, WENT_WRONG)
        except TelegramError as exc:
            log.warning("Could not tell chat %s about the error: %s", update.effective_chat.id, exc)

    async def post_init(self, app: BotApp) -> None:
        """Register the command menu once the bot is known to Telegram; start the watcher if asked."""
        try:
            await app.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        except TelegramError as exc:
            log.warning("Could not register the command menu: %s", exc)
        if self.bs.watch:
            self.start_watching(app)

    async def post_stop(self, app: BotApp) -> None:
        """Confirm the handled updates once more: PTB tries once, and a failure repeats them after a restart."""
        if self.bs.webhook_url or self.last_update_id is None:
            return
        delay = CONFIRM_BACKOFF_S
        for attempt in range(1, CONFIRM_ATTEMPTS + 1):
            try:
                # Only updates below the offset are confirmed; anything returned stays for the next start.
                await app.bot.get_updates(offset=self.last_update_id + 1, limit=1, timeout=0)
                return
            except TelegramError as exc:
                if attempt == CONFIRM_ATTEMPTS:
                    log.warning("Could not confirm the handled updates to Telegram: %s", exc)
                    return
                await asyncio.sleep(delay)
                delay *= 2

    async def post_shutdown(self, app: BotApp) -> None:
        """Stop the watcher and the answering threads; questions still queued are abandoned."""
        if self._watcher is not None:
            thread, stop = self._watcher
            stop.set()
            await asyncio.to_thread(thread.join, 10)
            self._watcher = None
        self.executor.shutdown(wait=False, cancel_futures=True)

    # ----- watching the sources folder (TELEGRAM_WATCH) -------------------------------------------------

    def start_watching(self, app: BotApp) -> None:
        """Re-index in a thread when articles change; answers use the new version once it is complete."""
        from retrieval.watch import changed_anything, describe_changes, start_watcher

        loop = asyncio.get_running_loop()

        def on_summary(summary: IndexSummary) -> None:
            log.info("Watcher re-indexed: %s", describe_changes(summary))
            if changed_anything(summary):
                self._from_thread(loop, self.notify_admins(app, reindex_report(summary)))

        def on_error(exc: Exception) -> None:
            self._from_thread(loop, self.notify_admins(app, escape(f"Re-indexing failed: {exc}")))

        self._watcher = start_watcher(
            self.settings.sources,
            self.settings.index_dir,
            functools.partial(self.service.reindex, wait=True),
            on_summary=on_summary,
            on_error=on_error,
            debounce_s=self.bs.watch_debounce_s,
        )
        log.info("Watching %s for new, changed and deleted articles", self.settings.sources)

    @staticmethod
    def _from_thread(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]) -> None:
        try:
            asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # the bot is shutting down and its loop is closed
            coro.close()

    async def notify_admins(self, app: BotApp, html: str) -> None:
        """Send a message to every admin listed by numeric id in TELEGRAM_ADMINS."""
        for chat_id in self.bs.admin_chat_ids():
            try:
                await app.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                log.warning("Could not notify admin %s: %s", chat_id, exc)


def reindex_report(summary: IndexSummary) -> str:
    """'N new, M changed, K removed articles; index version V', then any skipped files (HTML)."""
    from retrieval.watch import describe_changes

    lines = [escape(describe_changes(summary))]
    if summary.skipped:
        shown = summary.skipped[:10]
        more = f" (and {len(summary.skipped) - len(shown)} more)" if len(summary.skipped) > len(shown) else ""
        listed = "; ".join(f"{source}: {reason}" for source, reason in shown)
        lines.append(escape(f"Skipped {len(summary.skipped)} files{more}: {listed}"))
    return "\n".join(lines)


def build_application(service: AnswerSource, settings: Settings, bot_settings: BotSettings) -> BotApp:
    """The PTB Application wired to the service; raises BotSettingsError for a bad token."""
    usru = UsruBot(service, settings, bot_settings)
    timeout = bot_settings.read_timeout_s
    app = (
        ApplicationBuilder()
        .token(bot_settings.token())
        .base_url(bot_settings.api_base_url)
        .base_file_url(bot_settings.file_url())
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .rate_limiter(
            FloodControl(
                bot_settings.chat_messages_per_second, bot_settings.max_retries, bot_settings.retry_backoff_s
            )
        )
        .concurrent_updates(64)
        .connection_pool_size(64)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .connect_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .post_init(usru.post_init)
        .post_stop(usru.post_stop)
        .post_shutdown(usru.post_shutdown)
        .build()
    )
    usru.register(app)
    app.bot_data["usru"] = usru
    return app


def polling_options(bot_settings: BotSettings) -> dict[str, Any]:
    """Arguments for Application.run_polling / Updater.start_polling."""
    return {
        "poll_interval": 0.0,
        "timeout": bot_settings.poll_timeout_s,
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
        "bootstrap_retries": -1,  # an outage while starting is waited out (bot/outage.py)
    }


def webhook_options(bot_settings: BotSettings) -> dict[str, Any]:
    """Arguments for Application.run_webhook / Updater.start_webhook."""
    secret = bot_settings.webhook_secret.get_secret_value() if bot_settings.webhook_secret else None
    return {
        "listen": bot_settings.webhook_listen,
        "port": bot_settings.webhook_port,
        "url_path": bot_settings.url_path(),
        "webhook_url": bot_settings.webhook_url,
        "secret_token": secret or secrets.token_urlsafe(32),
        "allowed_updates": ALLOWED_UPDATES,
        "drop_pending_updates": False,
        "bootstrap_retries": -1,
    }


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


# httpx logs every request URL at INFO, and the URL contains the token: quiet, and redacted anyway.
_QUIET_LOGGERS = ("httpx", "httpcore")


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


def run_bot(settings: Settings, bot_settings: BotSettings) -> int:
    """Run the bot until SIGINT/SIGTERM; return the process exit code."""
    try:
        token = bot_settings.token()
    except BotSettingsError as exc:
        print(f"usru: {exc}", file=sys.stderr)
        return exc.exit_code
    configure_logging(token)
    install_one_line_network_errors()
    from retrieval.service import build_service

    try:
        service = build_service(settings)
    except UsruError as exc:
        print(f"usru: {exc}", file=sys.stderr)
        return exc.exit_code
    app = build_application(service, settings, bot_settings)
    try:
        wait_for_telegram(app, bot_settings.retry_backoff_s)
        if bot_settings.webhook_url:
            log.info("Starting the webhook on %s:%s", bot_settings.webhook_listen, bot_settings.webhook_port)
            app.run_webhook(**webhook_options(bot_settings))
        else:
            log.info("Starting long polling at %s", bot_settings.api_base_url)
            app.run_polling(**polling_options(bot_settings))
    except InvalidToken:
        print("usru: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather.", file=sys.stderr)
        return 2
    return 0
