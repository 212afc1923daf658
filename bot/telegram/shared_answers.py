"""The answers behind buttons in PostgreSQL (USRU_DATABASE_URL): shared by every bot worker, kept across restarts."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.telegram.answers import AnswerStore, CachedAnswer, from_json, to_json
from retrieval.errors import UsruError

log = logging.getLogger(__name__)


class PostgresAnswerStore(AnswerStore):
    """The SQLite AnswerStore's rows and bounds, in the bot_answers table of the index database."""

    def __init__(self, url: str, per_chat: int, max_chats: int) -> None:
        from retrieval.postgres import connect

        self.url = url
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._lock = threading.Lock()
        self._conn = connect(url)

    def _connection(self) -> Any:
        """The connection (with the lock held), opened again if the server dropped it."""
        if self._conn.closed:
            from retrieval.postgres import connect

            self._conn = connect(self.url)
        return self._conn

    def put(self, chat_id: int, key: str, entry: CachedAnswer) -> None:
        """Store an answer, forgetting the oldest beyond the bounds, in one transaction."""
        import psycopg

        try:
            with self._lock:
                conn = self._connection()
                with conn.transaction():
                    # Delete and insert, not upsert: a replaced answer becomes the chat's newest, as in SQLite.
                    conn.execute("DELETE FROM bot_answers WHERE chat_id = %s AND key = %s", (chat_id, key))
                    conn.execute(
                        "INSERT INTO bot_answers (chat_id, key, entry) VALUES (%s, %s, %s)",
                        (chat_id, key, to_json(entry)),
                    )
                    conn.execute(
                        "DELETE FROM bot_answers WHERE chat_id = %s AND seq NOT IN"
                        " (SELECT seq FROM bot_answers WHERE chat_id = %s ORDER BY seq DESC LIMIT %s)",
                        (chat_id, chat_id, self.per_chat),
                    )
                    conn.execute(
                        "DELETE FROM bot_answers WHERE chat_id NOT IN (SELECT chat_id FROM bot_answers"
                        " GROUP BY chat_id ORDER BY MAX(seq) DESC LIMIT %s)",
                        (self.max_chats,),
                    )
        except (psycopg.Error, UsruError) as exc:  # the buttons are lost, not the answer
            log.warning("Could not store the answer behind the buttons in chat %s: %s", chat_id, exc)

    def get(self, chat_id: int, key: str) -> CachedAnswer | None:
        """The stored answer, or None when there is none, it cannot be read back, or the database is away."""
        import psycopg

        try:
            with self._lock:
                row = (
                    self._connection()
                    .execute("SELECT entry FROM bot_answers WHERE chat_id = %s AND key = %s", (chat_id, key))
                    .fetchone()
                )
        except (psycopg.Error, UsruError) as exc:
            log.warning("Could not read the answer behind a button in chat %s: %s", chat_id, exc)
            return None
        if row is None:
            return None
        try:
            return from_json(row[0])
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("Ignoring an unreadable stored answer in chat %s: %s", chat_id, exc)
            return None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def open_shared_store(url: str, per_chat: int, max_chats: int) -> PostgresAnswerStore | None:
    """The shared store, or None (answers kept in this worker's memory only) when it cannot be opened."""
    try:
        return PostgresAnswerStore(url, per_chat, max_chats)
    except UsruError as exc:
        log.warning("Buttons will work on this worker only, until it restarts: %s", exc)
        return None
