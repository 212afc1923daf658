"""Updates claimed in PostgreSQL (USRU_DATABASE_URL): an update delivered twice, to any worker, is handled once."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram import access
from bot.telegram.state import state_of
from retrieval.errors import UsruError

log = logging.getLogger(__name__)

# Telegram redelivers an unconfirmed update for at most a day; claims older than that are dropped.
KEEP = "2 days"
PRUNE_EVERY = 1000


class UpdateClaims:
    """Which update ids some worker has taken, in the bot_updates table."""

    def __init__(self, url: str) -> None:
        from retrieval.postgres import connect

        self.url = url
        self._lock = threading.Lock()
        self._conn = connect(url)
        self._claims = 0

    def claim(self, update_id: int) -> bool:
        """True for the first worker to take this update; False for every later delivery of it.

        A claim is taken on arrival: a worker killed after claiming loses that one update rather than
        letting two workers answer it. When the database is away every update is handled (True).
        """
        import psycopg

        from retrieval.postgres import connect

        try:
            with self._lock:
                if self._conn.closed:
                    self._conn = connect(self.url)
                row = self._conn.execute(
                    "INSERT INTO bot_updates (update_id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING 1",
                    (update_id,),
                ).fetchone()
                self._claims += 1
                if self._claims % PRUNE_EVERY == 0:
                    self._conn.execute(
                        f"DELETE FROM bot_updates WHERE claimed_at < now() - interval '{KEEP}'"
                    )
        except (psycopg.Error, UsruError) as exc:
            log.warning("Could not claim update %s, handling it anyway: %s", update_id, exc)
            return True
        return row is not None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def open_claims(url: str) -> UpdateClaims | None:
    """The claims table, or None (duplicates not detected) when it cannot be opened."""
    try:
        return UpdateClaims(url)
    except UsruError as exc:
        log.warning("An update delivered twice may be answered twice: %s", exc)
        return None


async def claim_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop an update another delivery already took, before any handler answers it."""
    claims: Any = state_of(context).claims
    if claims is None:
        return
    if not await asyncio.to_thread(claims.claim, update.update_id):
        await access.note_update(update, context)  # still confirmed to Telegram on stop
        log.info("Update %s was already handled; dropped", update.update_id)
        raise ApplicationHandlerStop
