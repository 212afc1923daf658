"""Values computed once per loaded index version and let go with it.

Keyed by the version object, held weakly: a cache keyed by the version's name kept each replaced version's
article list (and through its texts a SQLite connection and up to 8M characters) until 8 or 16 names had
gathered (a25), where the version itself now goes at the swap.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# Values kept per version (a filtered question's span per filter asked: the bot's `/ask since:…`).
PER_VERSION = 16


class PerVersion(Generic[V]):
    """key → value for each live version; computed by `make` when missing."""

    def __init__(self, per_version: int = PER_VERSION) -> None:
        self._kept: weakref.WeakKeyDictionary[object, dict[Hashable, V]] = weakref.WeakKeyDictionary()
        self._per_version = per_version
        self._lock = threading.Lock()

    def get(self, version: object, key: Hashable, make: Callable[[], V]) -> V:
        """The value for this version and key, made now unless kept."""
        try:
            with self._lock:
                found = self._kept.get(version)
                if found is not None and key in found:
                    return found[key]
        except TypeError:  # a version that cannot be weakly referenced is simply not cached
            return make()
        value = make()
        with self._lock:
            kept = self._kept.setdefault(version, {})
            if len(kept) >= self._per_version:
                kept.clear()
            kept[key] = value  # a racing thread makes the same value
        return value
