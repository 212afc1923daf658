"""Telegram's side of a webhook, for the fake Bot API: each update POSTed until a worker answers 2xx.

Like Telegram: the URL and secret are the ones the bot gave setWebhook; the update is the JSON body, the
secret is in X-Telegram-Bot-Api-Secret-Token; up to `connections` requests at once (Telegram's
max_connections, 40 by default); an update whose request fails (connection refused or reset, a timeout,
a non-2xx status) is sent again after a pause, a bounded number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.fakebotapi import FakeBotAPI

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Delivery:
    """One POST of one update to the webhook."""

    update_id: int
    attempt: int
    started: float
    ended: float
    # The HTTP status, or 0 when no response came (refused, reset, timed out).
    status: int
    error: str = ""


@dataclass
class WebhookPusher:
    """Delivers the fake server's updates to its webhook, with retries, over several connections."""

    api: FakeBotAPI
    connections: int = 40
    max_attempts: int = 12
    retry_s: float = 0.2
    timeout_s: float = 60.0
    deliveries: list[Delivery] = field(default_factory=list)
    confirmed: set[int] = field(default_factory=set)
    gave_up: set[int] = field(default_factory=set)
    _queue: asyncio.Queue[tuple[dict[str, Any], int]] = field(default_factory=asyncio.Queue)
    _busy: int = 0
    _waiting: int = 0

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for delivery (FakeBotAPI.on_push)."""
        self._queue.put_nowait((update, 1))

    def deliver_again(self, update: dict[str, Any]) -> None:
        """Send an update once more, as Telegram does when it never saw the 200 of an earlier delivery."""
        self.confirmed.discard(update["update_id"])
        self._queue.put_nowait((update, 1))

    def idle(self) -> bool:
        """Nothing queued, being sent, or waiting for a retry."""
        return self._queue.empty() and self._busy == 0 and self._waiting == 0

    def attempts(self, update_id: int) -> list[Delivery]:
        """Every delivery of one update, in order."""
        return [d for d in self.deliveries if d.update_id == update_id]

    async def _send(self, http: aiohttp.ClientSession, update: dict[str, Any], attempt: int) -> None:
        url = str(self.api.webhook.get("url", ""))
        secret = self.api.webhook.get("secret_token")
        headers = {SECRET_HEADER: str(secret)} if secret else {}
        uid = int(update["update_id"])
        started = time.monotonic()
        self.api.delivered_at.setdefault(uid, started)
        status, error = 0, ""
        try:
            async with http.post(
                url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        self.deliveries.append(Delivery(uid, attempt, started, time.monotonic(), status, error))
        if 200 <= status < 300:
            self.confirmed.add(uid)
        elif attempt < self.max_attempts:
            self._waiting += 1
            await asyncio.sleep(self.retry_s * min(2 ** (attempt - 1), 16))
            self._waiting -= 1
            self._queue.put_nowait((update, attempt + 1))
        else:
            self.gave_up.add(uid)

    async def _connection(self, http: aiohttp.ClientSession) -> None:
        while True:
            update, attempt = await self._queue.get()
            self._busy += 1
            try:
                while not self.api.webhook.get("url"):  # no webhook yet: Telegram keeps the update
                    await asyncio.sleep(0.05)
                await self._send(http, update, attempt)
            finally:
                self._busy -= 1

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WebhookPusher]:
        """Deliver updates while the block runs (updates injected into the fake server are pushed)."""
        self.api.on_push = self.push
        connector = aiohttp.TCPConnector(limit=self.connections, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as http:
            tasks = [asyncio.create_task(self._connection(http)) for _ in range(self.connections)]
            try:
                yield self
            finally:
                self.api.on_push = None
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued update is confirmed or given up; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True
