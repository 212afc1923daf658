"""What the handlers share: the service, settings, conversations, answers behind buttons and limits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from cachetools import LRUCache
from telegram.ext import Application, ContextTypes

from bot.bot_settings import BotSettings
from bot.telegram.answers import AnswerCache, open_store
from bot.telegram_format import ArticleLike, StatsLike
from retrieval.answer import Answer
from retrieval.conversation import Conversations
from retrieval.filters import Filters
from retrieval.index import IndexSummary
from retrieval.settings import Settings

BotApp = Application[Any, Any, Any, Any, Any, Any]
T = TypeVar("T")
MAX_EXAMPLES = 3
STATE_FILE = "telegram-answers.sqlite3"
BUSY_MARGIN_S = 10.0


class AnswerSource(Protocol):
    """What the bot needs from the answering service."""

    def answer(self, question: str, *, filters: Filters | None = None) -> Answer: ...
    def list_articles(self) -> Sequence[ArticleLike]: ...
    def stats(self) -> StatsLike: ...
    def passage_in_context(
        self, source: str, start: int, end: int, radius: int = 300
    ) -> tuple[str, str, str]: ...
    def reindex(self, paths: list[Path] | None = None, *, wait: bool = False) -> IndexSummary: ...


@dataclass
class _Window:
    times: deque[float]
    warned: bool = False


class QuestionRateLimiter:
    """Sliding one-minute window of questions per user, with one slow-down notice per burst."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_users: int = 10_000):
        self.per_minute = per_minute
        self._clock = clock
        # The least recently seen users are forgotten, their notice with them.
        self._users: LRUCache[int, _Window] = LRUCache(maxsize=max_users)

    def check(self, user_id: int) -> float:
        """Record a question and return 0, or return the seconds until the user may ask again."""
        now = self._clock()
        window = self._users.get(user_id)
        if window is None:
            window = self._users[user_id] = _Window(deque(maxlen=self.per_minute))
        times = window.times
        if len(times) >= self.per_minute and now - times[0] < 60.0:
            return 60.0 - (now - times[0])
        times.append(now)
        window.warned = False
        return 0.0

    def first_warning(self, user_id: int) -> bool:
        """True the first time a user is held back in a burst, so a flood gets one reply, not many."""
        window = self._users.get(user_id)
        if window is None:
            window = self._users[user_id] = _Window(deque(maxlen=self.per_minute))
        if window.warned:
            return False
        window.warned = True
        return True


@dataclass
class BotState:
    """The bot's shared state, kept in `application.bot_data` for the handlers."""

    service: AnswerSource
    settings: Settings
    bs: BotSettings
    cache: AnswerCache
    limiter: QuestionRateLimiter
    conversations: Conversations
    # A pool of our own bounds concurrent answering and keeps it off the event loop.
    executor: ThreadPoolExecutor
    examples: list[str]
    # Users refused once already, so that a flood from outside the allowlist gets one reply.
    refused: LRUCache[int, bool] = field(default_factory=lambda: LRUCache(maxsize=10_000))
    watcher: tuple[threading.Thread, threading.Event] | None = None
    # The newest update fetched, so that stopping can confirm it to Telegram (see lifecycle.post_stop).
    last_update_id: int | None = None
    # With USRU_DATABASE_URL: update ids claimed by any worker (bot/telegram/shared_updates.py), and the
    # gate every update passes through (bot/telegram/update_gate.py).
    claims: Any = None
    gate: Any = None

    # One thread for the answers behind buttons and the rate limit: with USRU_DATABASE_URL each call is a
    # few database round trips, which on the event loop held up every update's next step (the done mark
    # after an answer among them, measured at ~1 s under load); one thread keeps their caches single-threaded.
    state_thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="usru-state")
    )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call on the answering threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def on_state_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a call on the answers cache or the rate limiter off the event loop, one at a time."""
        return await asyncio.get_running_loop().run_in_executor(self.state_thread, fn, *args)

    def first_refusal(self, user_id: int) -> bool:
        """True the first time a user outside the allowlist is refused."""
        if user_id in self.refused:
            return False
        self.refused[user_id] = True
        return True


def new_state(service: AnswerSource, settings: Settings, bot_settings: BotSettings) -> BotState:
    """The state for one application; answers behind buttons are kept in TELEGRAM_STATE_FILE or the database."""
    path = bot_settings.state_file or settings.index_dir / STATE_FILE
    cache = AnswerCache()
    if settings.database_url is not None:
        # In the index database: every worker behind one webhook finds the answer behind any button.
        from bot.telegram.shared_answers import open_shared_store

        cache.store = open_shared_store(
            settings.database_url.get_secret_value(), cache.per_chat, cache.max_chats
        )
    else:
        cache.store = open_store(path, cache.per_chat, cache.max_chats)
    claims = None
    limiter = QuestionRateLimiter(bot_settings.rate_limit_per_minute)
    conversations = Conversations(service, settings.max_question_chars, settings.history_turns)
    if settings.database_url is not None:
        from bot.telegram.shared_history import open_conversations
        from bot.telegram.shared_rate import open_rate_limiter
        from bot.telegram.shared_updates import open_claims

        url = settings.database_url.get_secret_value()
        claims = open_claims(url)
        limiter = open_rate_limiter(url, bot_settings.rate_limit_per_minute)
        conversations = open_conversations(url, service, settings.max_question_chars, settings.history_turns)
    gate = None
    if claims is not None:
        from bot.telegram.update_gate import UpdateGate

        # A redelivery waits this long for a live worker that has the update; then Telegram retries it.
        gate = UpdateGate(claims, busy_wait_s=bot_settings.answer_timeout_s + BUSY_MARGIN_S)
    return BotState(
        claims=claims,
        gate=gate,
        service=service,
        settings=settings,
        bs=bot_settings,
        cache=cache,
        limiter=limiter,
        conversations=conversations,
        executor=ThreadPoolExecutor(
            max_workers=bot_settings.answer_workers, thread_name_prefix="usru-answer"
        ),
        examples=bot_settings.example_questions[:MAX_EXAMPLES],
    )


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The state of the application handling this update."""
    return cast(BotState, context.bot_data["usru"])
