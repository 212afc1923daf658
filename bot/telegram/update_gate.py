"""Each update handled once: the claims in PostgreSQL between workers, a future per update within one.

The Application subclass here runs every update through the gate, whether it came by long polling or by
the webhook (bot/telegram/webhook.py, which also needs the outcome to choose its HTTP status).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.telegram.shared_updates import Claim, UpdateClaims

log = logging.getLogger(__name__)

POLL_S = 0.1


class Outcome(enum.Enum):
    """What became of one delivery of an update."""

    HANDLED = "handled"  # handled here, now
    DUPLICATE = "duplicate"  # handled before (here or by another worker): nothing done
    BUSY = "busy"  # another live worker still had it after the wait: Telegram should send it again


class UpdateGate:
    """Lets one delivery of each update through, and holds the others until it is done."""

    def __init__(self, claims: UpdateClaims, busy_wait_s: float) -> None:
        self.claims = claims
        self.busy_wait_s = busy_wait_s
        # Advisory locks are re-entrant within a session, so this worker's own deliveries of one update
        # must be told apart here: the later ones wait for the first.
        self._running: dict[int, asyncio.Future[None]] = {}
        self._marked: set[int] = set()
        # A thread of its own: the done mark must not queue behind other blocking work (the window
        # between a reply sent and its mark is what a kill can turn into a duplicate).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usru-claims")

    async def _take(self, update_id: int) -> Claim:
        import psycopg

        from retrieval.errors import UsruError

        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self.claims.take, update_id)
        except (psycopg.Error, UsruError) as exc:
            # A lost answer is worse than a rare duplicate: handle it unclaimed.
            log.warning("Could not claim update %s, handling it anyway: %s", update_id, exc)
            return Claim.MINE

    async def _settle(self, update_id: int, done: bool) -> None:
        import psycopg

        from retrieval.errors import UsruError

        step = self.claims.finish if done else self.claims.release
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, step, update_id)
        except (psycopg.Error, UsruError) as exc:
            log.warning("Could not mark update %s %s: %s", update_id, "done" if done else "free", exc)

    async def handle_once(self, update_id: int, handle: Callable[[], Awaitable[None]]) -> Outcome:
        """Run `handle` if no worker handled this update yet; wait while another is handling it."""
        deadline = time.monotonic() + self.busy_wait_s
        loop = asyncio.get_running_loop()
        while True:
            running = self._running.get(update_id)
            if running is not None:
                await asyncio.wait([running], timeout=max(0.0, deadline - time.monotonic()))
                if not running.done():
                    return Outcome.BUSY
                continue
            # Reserved before the claim is asked for, so that a second delivery arriving meanwhile waits.
            future = self._running[update_id] = loop.create_future()
            try:
                claim = await self._take(update_id)
            except BaseException:
                del self._running[update_id]
                future.set_result(None)
                raise
            if claim is Claim.MINE:
                break
            del self._running[update_id]
            future.set_result(None)
            if claim is Claim.DONE:
                return Outcome.DUPLICATE
            if time.monotonic() >= deadline:
                return Outcome.BUSY
            await asyncio.sleep(POLL_S)
        done = False
        try:
            await handle()
            done = True
        finally:
            # Shielded: a cancelled delivery must still let go of the update, or no worker could take it.
            if update_id not in self._marked:
                await asyncio.shield(self._settle(update_id, done))
            self._marked.discard(update_id)
            del self._running[update_id]
            future.set_result(None)
        return Outcome.HANDLED

    async def mark_answered(self, update_id: int) -> None:
        """Mark an update done as soon as its answer is out, before the handler's remaining work.

        The handler's later steps (storing the answer behind the buttons) would otherwise widen the
        window in which a killed worker leaves an answered update unmarked.
        """
        if update_id in self._running and update_id not in self._marked:
            self._marked.add(update_id)
            import psycopg

            from retrieval.errors import UsruError

            # Right here on the event loop (one insert and one unlock), not queued for the claims thread:
            # every step between the answer and its mark is a chance for a kill to leave it unmarked.
            try:
                self.claims.finish(update_id)
            except (psycopg.Error, UsruError) as exc:
                log.warning("Could not mark update %s done: %s", update_id, exc)


class OnceApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, with each update going through the gate in bot_data["usru"].gate."""

    async def process_update(self, update: object) -> None:
        """Handle an update unless another delivery of it was (or is being) handled."""
        outcome = await self.process_once(update)
        if outcome is Outcome.BUSY:  # long polling cannot ask for a redelivery; the other worker answers
            log.warning("Update %s is still being handled by another worker; left to it", _id(update))

    async def process_once(self, update: object) -> Outcome:
        """process_update, telling what became of this delivery."""
        state = self.bot_data.get("usru")
        gate: UpdateGate | None = getattr(state, "gate", None)
        if gate is None or not isinstance(update, Update):
            await super().process_update(update)
            return Outcome.HANDLED
        outcome = await gate.handle_once(
            update.update_id, lambda: super(OnceApplication, self).process_update(update)
        )
        if outcome is Outcome.DUPLICATE:
            if state is not None and (state.last_update_id or -1) < update.update_id:
                state.last_update_id = update.update_id  # still confirmed to Telegram on stop
            log.info("Update %s was already handled; dropped", update.update_id)
        return outcome


def _id(update: object) -> Any:
    return getattr(update, "update_id", "?")
