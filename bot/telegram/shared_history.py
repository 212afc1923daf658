"""Chat histories in PostgreSQL (USRU_DATABASE_URL): a follow-up reaching any bot worker sees the turns before it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any

from retrieval.conversation import Conversation, Conversations, QuestionAnswerer
from retrieval.errors import UsruError
from retrieval.followup import ChatHistory, Turn

log = logging.getLogger(__name__)


class _Database:
    """One connection shared by every chat's history, used by one thread at a time."""

    def __init__(self, url: str) -> None:
        from retrieval.postgres import connect

        self.url = url
        self.lock = threading.Lock()
        self.conn = connect(url)

    def run(self, what: str, step: Callable[[Any], Any], fallback: Any) -> Any:
        """`step(conn)` in one transaction, or `fallback` (with a warning) when the database is away."""
        import psycopg

        from retrieval.postgres import connect

        try:
            with self.lock:
                if self.conn.closed:
                    self.conn = connect(self.url)
                with self.conn.transaction():
                    return step(self.conn)
        except (psycopg.Error, UsruError) as exc:
            log.warning("Could not %s: %s", what, exc)
            return fallback


class PostgresChatHistory(ChatHistory):
    """ChatHistory's last few turns of one chat, kept in the bot_history table."""

    def __init__(self, db: _Database, chat_id: int, max_turns: int) -> None:
        self._db = db
        self._chat = chat_id
        self._max = max_turns

    def add(self, question: str, answer: str) -> None:
        """Remember a turn, forgetting the oldest beyond the bound."""
        if self._max <= 0:
            return

        def step(conn: Any) -> None:
            conn.execute(
                "INSERT INTO bot_history (chat_id, question, answer) VALUES (%s, %s, %s)",
                (self._chat, question, answer[:1000]),
            )
            conn.execute(
                "DELETE FROM bot_history WHERE chat_id = %s AND seq NOT IN"
                " (SELECT seq FROM bot_history WHERE chat_id = %s ORDER BY seq DESC LIMIT %s)",
                (self._chat, self._chat, self._max),
            )

        self._db.run(f"remember a turn of chat {self._chat}", step, None)

    def turns(self) -> list[Turn]:
        """The remembered turns, oldest first (none when the database is away)."""
        rows = self._db.run(
            f"read the history of chat {self._chat}",
            lambda conn: conn.execute(
                "SELECT question, answer FROM bot_history WHERE chat_id = %s ORDER BY seq DESC LIMIT %s",
                (self._chat, max(self._max, 0)),
            ).fetchall(),
            [],
        )
        return [Turn(q, a) for q, a in reversed(rows)]

    def clear(self) -> None:
        """Forget everything, on every worker."""
        self._db.run(
            f"forget the history of chat {self._chat}",
            lambda conn: conn.execute("DELETE FROM bot_history WHERE chat_id = %s", (self._chat,)),
            None,
        )

    def __len__(self) -> int:
        return len(self.turns())


class SharedConversations(Conversations):
    """Conversations whose histories live in the database instead of this worker's memory."""

    def __init__(self, url: str, service: QuestionAnswerer, max_question_chars: int, max_turns: int) -> None:
        super().__init__(service, max_question_chars, max_turns)
        self._db = _Database(url)

    def get(self, chat_id: Hashable) -> Conversation:
        """The chat's conversation, its history read from the database."""
        conversation = super().get(chat_id)
        if not isinstance(conversation.history, PostgresChatHistory) and isinstance(chat_id, int):
            conversation.history = PostgresChatHistory(self._db, chat_id, self.max_turns)
        return conversation

    def close(self) -> None:
        """Close the connection."""
        with self._db.lock:
            self._db.conn.close()


def open_conversations(
    url: str, service: QuestionAnswerer, max_question_chars: int, max_turns: int
) -> Conversations:
    """Shared conversations, or this worker's own when the database cannot be opened."""
    try:
        return SharedConversations(url, service, max_question_chars, max_turns)
    except UsruError as exc:
        log.warning("Chat histories are kept per worker: %s", exc)
        return Conversations(service, max_question_chars, max_turns)
