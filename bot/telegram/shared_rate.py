"""The per-user question limit counted in PostgreSQL (USRU_DATABASE_URL), across every bot worker."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.telegram.state import QuestionRateLimiter
from retrieval.errors import UsruError

log = logging.getLogger(__name__)

# The first key of pg_advisory_xact_lock(int, int) for per-user rate locks ("usru" as a number).
RATE_LOCK_CLASS = 0x75737275 & 0x7FFFFFFF


class PostgresRateLimiter(QuestionRateLimiter):
    """QuestionRateLimiter's sliding minute, with the questions and notices kept in the database."""

    def __init__(self, url: str, per_minute: int) -> None:
        from retrieval.postgres import connect

        self.url = url
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._conn = connect(url)

    def _run(self, user_id: int, step: Any, fallback: Any) -> Any:
        """Run `step(conn)` in a transaction holding this user's lock; `fallback` if the database is away."""
        import psycopg

        from retrieval.postgres import connect

        try:
            with self._lock:
                if self._conn.closed:
                    self._conn = connect(self.url)
                with self._conn.transaction():
                    # Two workers checking one user at once would both see room for one more question.
                    self._conn.execute(
                        "SELECT pg_advisory_xact_lock(%s::int, %s::int)", (RATE_LOCK_CLASS, user_id % 2**31)
                    )
                    return step(self._conn)
        except (psycopg.Error, UsruError) as exc:
            log.warning("Could not check the rate limit of user %s, allowing the question: %s", user_id, exc)
            return fallback

    def check(self, user_id: int) -> float:
        """Record a question and return 0, or return the seconds until the user may ask again."""

        def step(conn: Any) -> float:
            conn.execute(
                "DELETE FROM bot_rate WHERE user_id = %s AND asked_at < clock_timestamp() - interval '60 seconds'",
                (user_id,),
            )
            count, age = conn.execute(
                "SELECT count(*), EXTRACT(EPOCH FROM clock_timestamp() - min(asked_at)) FROM bot_rate"
                " WHERE user_id = %s",
                (user_id,),
            ).fetchone()
            if count >= self.per_minute:
                return max(0.0, 60.0 - float(age))
            conn.execute("INSERT INTO bot_rate (user_id) VALUES (%s)", (user_id,))
            conn.execute("DELETE FROM bot_rate_warned WHERE user_id = %s", (user_id,))
            return 0.0

        wait: float = self._run(user_id, step, 0.0)
        return wait

    def first_warning(self, user_id: int) -> bool:
        """True the first time a user is held back in a burst, by any worker."""

        def step(conn: Any) -> bool:
            row = conn.execute(
                "INSERT INTO bot_rate_warned VALUES (%s) ON CONFLICT DO NOTHING RETURNING 1", (user_id,)
            ).fetchone()
            return row is not None

        first: bool = self._run(user_id, step, True)
        return first

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def open_rate_limiter(url: str, per_minute: int) -> QuestionRateLimiter:
    """The shared limiter, or this worker's own when the database cannot be opened."""
    try:
        return PostgresRateLimiter(url, per_minute)
    except UsruError as exc:
        log.warning("The rate limit is counted per worker: %s", exc)
        return QuestionRateLimiter(per_minute)
