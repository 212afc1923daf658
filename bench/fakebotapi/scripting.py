"""Scripting the fake Bot API's faults and enforcing Telegram's flood limits (mixed into FakeBotAPI)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from bench.fakebotapi.records import FLOOD_METHODS, MESSAGE_METHODS, Fault, FloodLimits


class Scripting:
    """Faults by method and call number, and flood-control token buckets; uses FakeBotAPI's fields."""

    def fail_next(self, method: str, status: int, retry_after: int | None = None, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail with `status` (429 carries retry_after)."""
        self._faults.setdefault(method, []).extend(
            Fault(status=status, retry_after=retry_after) for _ in range(times)
        )

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next calls of `method` before handling them; dropped if the client gives up."""
        self._faults.setdefault(method, []).extend(Fault(delay_s=seconds) for _ in range(times))

    def plan(self, method: str, faults: Mapping[int, Fault] | Iterable[tuple[int, Fault]]) -> None:
        """Script faults by call number of `method`, counted from now: {1: its next call, 3: the one after}."""
        items = faults.items() if isinstance(faults, Mapping) else faults
        done = self._call_counts[method]
        for number, fault in items:
            if number < 1:
                raise ValueError("call numbers start at 1")
            self._planned[(method, done + number)] = fault

    def call_count(self, method: str) -> int:
        """How many calls of `method` have arrived so far."""
        return self._call_counts[method]

    def planned_left(self) -> list[tuple[str, int]]:
        """Scripted faults whose call has not come yet."""
        return sorted(self._planned)

    def enforce_flood_limits(self, limits: FloodLimits | None = None) -> None:
        """Refuse sends beyond Telegram's flood limits with 429 retry_after, as Telegram does."""
        self.flood = limits or FloodLimits()
        self._buckets.clear()

    def _flood_check(self, method: str, params: dict[str, Any], now: float) -> int | None:
        """Seconds to wait if this send breaks the flood limits (and is refused), else None."""
        limits = self.flood
        if limits is None or method not in FLOOD_METHODS or "chat_id" not in params:
            return None
        keys: list[tuple[Any, float, float]] = [("*", limits.global_per_s, limits.global_burst)]
        if method in MESSAGE_METHODS:
            keys.append((str(params["chat_id"]), limits.chat_per_s, limits.chat_burst))
        levels = []
        for key, rate, burst in keys:
            tokens, at = self._buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens < 1.0:
                return max(1, math.ceil((1.0 - tokens) / rate))
            levels.append((key, tokens))
        for key, tokens in levels:
            self._buckets[key] = (tokens - 1.0, now)
        return None
