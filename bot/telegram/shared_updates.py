"""Updates handled once across bot workers (USRU_DATABASE_URL): a claim dies with its worker, a mark with the answer.

Why this shape (README, "Several workers behind one port"): a worker answers Telegram's webhook request
only after the update is handled (bot/telegram/webhook.py), so an update a killed worker never finished is
delivered again by Telegram, to a live worker. For that redelivery to be answered, and to be answered
once, two facts live in PostgreSQL:

- *taken*: a session advisory lock on the update id, held on the worker's one claims connection. It
  needs no row and no cleanup: when the worker dies its connection closes and PostgreSQL releases every
  lock it held, so a redelivery takes the update over at once, and never while the taker is alive.
- *done*: a row in bot_updates, written after the handler returns (after the reply was sent). A delivery
  that finds the row is confirmed without being handled again.

The window that cannot be closed: a worker killed after Telegram accepted its reply and before the row is
written leaves an update that was answered but is not marked done; its redelivery answers it again. It
is a few milliseconds per update (bench/bot_workers.py measures it) and errs towards a duplicate, never a
lost answer.
"""

from __future__ import annotations

import enum
import logging
import threading
from typing import Any

from retrieval.errors import UsruError

log = logging.getLogger(__name__)

# Telegram redelivers an unconfirmed update for at most a day; marks older than that are dropped.
KEEP = "2 days"
PRUNE_EVERY = 1000
# The first key of pg_advisory_lock(int, int) for update claims ("usrU"); the rate limiter uses "usru".
UPDATE_LOCK_CLASS = 0x75737255
# bot_updates.update_id is a bigint. Telegram's ids are positive and far below this, but a webhook body is
# untrusted: a larger id failed the done mark after its lock was taken, leaving the lock held for good.
MIN_UPDATE_ID, MAX_UPDATE_ID = -(2**63), 2**63 - 1


class Claim(enum.Enum):
    """What a worker may do with an update it received."""

    MINE = "mine"  # handle it, then finish() it
    DONE = "done"  # some worker handled it already: confirm it, do nothing
    BUSY = "busy"  # a live worker is handling it now: wait, or ask Telegram to send it again later


def lock_key(update_id: int) -> tuple[int, int]:
    """The two int4 keys of an update's advisory lock (ids are below 2**32 in practice)."""
    low = update_id & 0xFFFFFFFF
    return UPDATE_LOCK_CLASS, low - 2**32 if low >= 2**31 else low


class UpdateClaims:
    """The claims (advisory locks) and done marks (bot_updates rows) of one worker, on one connection."""

    def __init__(self, url: str) -> None:
        from retrieval.postgres import connect

        self.url = url
        self._lock = threading.Lock()
        self._conn = connect(url)
        self._finished = 0

    def _connection(self) -> Any:
        if self._conn.closed:
            from retrieval.postgres import connect

            # The old session's locks are gone with it: an update this worker was handling may be
            # taken over meanwhile (a duplicate answer is possible, a lost one is not).
            log.warning("The claims connection was lost; reconnecting")
            self._conn = connect(self.url)
        return self._conn

    def take(self, update_id: int) -> Claim:
        """Try to take an update: MINE (now locked by this worker), DONE, or BUSY with another worker.

        Raises psycopg.Error or UsruError when the database is away (the caller decides).
        """
        key = lock_key(_storable(update_id))
        with self._lock:
            conn = self._connection()
            got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()[0]
            if not got:
                return Claim.BUSY
            # A statement of its own, after the lock: one statement's snapshot predates its own lock, and
            # a worker finishing meanwhile would be missed.
            done = conn.execute("SELECT 1 FROM bot_updates WHERE update_id = %s", (update_id,)).fetchone()
            if done is not None:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
                return Claim.DONE
            return Claim.MINE

    def finish(self, update_id: int) -> None:
        """Mark a taken update done and let go of it."""
        _storable(update_id)
        with self._lock:
            conn = self._connection()
            conn.execute(
                "INSERT INTO bot_updates (update_id, claimed_at) VALUES (%s, clock_timestamp())"
                " ON CONFLICT DO NOTHING",
                (update_id,),
            )
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", lock_key(update_id))
            self._finished += 1
            if self._finished % PRUNE_EVERY == 0:
                conn.execute(f"DELETE FROM bot_updates WHERE claimed_at < now() - interval '{KEEP}'")

    def release(self, update_id: int) -> None:
        """Let go of a taken update without marking it done (its handling was cut short)."""
        _storable(update_id)
        with self._lock:
            self._connection().execute("SELECT pg_advisory_unlock(%s, %s)", lock_key(update_id))

    def close(self) -> None:
        """Close the connection (which releases whatever it still holds)."""
        with self._lock:
            self._conn.close()


def _storable(update_id: int) -> int:
    """The id, if PostgreSQL can store it; UsruError (the caller handles the update unclaimed) if not."""
    if not MIN_UPDATE_ID <= update_id <= MAX_UPDATE_ID:
        raise UsruError(
            f"Update id {update_id} does not fit in PostgreSQL's bigint, so it cannot be claimed."
        )
    return update_id


def open_claims(url: str) -> UpdateClaims | None:
    """The claims, or None (duplicates not detected) when they cannot be opened."""
    try:
        return UpdateClaims(url)
    except UsruError as exc:
        log.warning("An update delivered twice may be answered twice: %s", exc)
        return None
