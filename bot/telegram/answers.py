"""The answers behind buttons: the last few per chat in memory, and on disk so a restart keeps them."""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cachetools import FIFOCache, LRUCache

from retrieval.answer import Answer, Citation

log = logging.getLogger(__name__)

Groups = tuple[tuple[Citation, ...], ...]


@dataclass(frozen=True)
class CachedAnswer:
    """An answer kept so its buttons can show passages and more quotes."""

    answer: Answer
    shown: Groups
    more: Groups
    message_id: int | None = None


def by_article(citations: Sequence[Citation]) -> Groups:
    """Citations grouped by source article, in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.source, []).append(c)
    return tuple(tuple(g) for g in groups.values())


def to_json(entry: CachedAnswer) -> str:
    """The entry as JSON (never pickle: a stored file must not be able to run code)."""
    return json.dumps(asdict(entry), ensure_ascii=False)


def _citations(items: Any) -> tuple[Citation, ...]:
    return tuple(Citation(**c) for c in items)


def from_json(text: str) -> CachedAnswer:
    """The entry stored by to_json; raises ValueError, TypeError or KeyError when it is not one."""
    data = json.loads(text)
    a = dict(data["answer"])
    a["citations"] = _citations(a["citations"])
    a["more"] = _citations(a["more"])
    a["groups"] = tuple(tuple(int(n) for n in g) for g in a["groups"])
    message_id = data["message_id"]
    return CachedAnswer(
        Answer(**a),
        tuple(_citations(g) for g in data["shown"]),
        tuple(_citations(g) for g in data["more"]),
        int(message_id) if message_id is not None else None,
    )


class AnswerStore:
    """Answers on disk in SQLite (JSON rows, each write one transaction), bounded like the cache."""

    def __init__(self, path: Path, per_chat: int, max_chats: int) -> None:
        self.path = path
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS answers ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL, key TEXT NOT NULL,"
            " entry TEXT NOT NULL, UNIQUE (chat_id, key))"
        )

    def put(self, chat_id: int, key: str, entry: CachedAnswer) -> None:
        """Store an answer, forgetting the oldest beyond the bounds, in one transaction."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO answers (chat_id, key, entry) VALUES (?, ?, ?)",
                (chat_id, key, to_json(entry)),
            )
            self._db.execute(
                "DELETE FROM answers WHERE chat_id = ? AND seq NOT IN"
                " (SELECT seq FROM answers WHERE chat_id = ? ORDER BY seq DESC LIMIT ?)",
                (chat_id, chat_id, self.per_chat),
            )
            self._db.execute(
                "DELETE FROM answers WHERE chat_id NOT IN (SELECT chat_id FROM answers"
                " GROUP BY chat_id ORDER BY MAX(seq) DESC LIMIT ?)",
                (self.max_chats,),
            )

    def get(self, chat_id: int, key: str) -> CachedAnswer | None:
        """The stored answer, or None when there is none or it cannot be read back."""
        with self._lock:
            row = self._db.execute(
                "SELECT entry FROM answers WHERE chat_id = ? AND key = ?", (chat_id, key)
            ).fetchone()
        if row is None:
            return None
        try:
            return from_json(row[0])
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("Ignoring an unreadable stored answer in chat %s: %s", chat_id, exc)
            return None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def open_store(path: Path, per_chat: int, max_chats: int) -> AnswerStore | None:
    """The store at `path`, or None (answers kept in memory only) when it cannot be opened."""
    try:
        return AnswerStore(path, per_chat, max_chats)
    except (OSError, sqlite3.Error) as exc:
        log.warning("Buttons will not survive a restart: cannot open %s (%s)", path, exc)
        return None


class AnswerCache:
    """The last few answers per chat, keyed by a short random id that fits in callback data."""

    def __init__(self, per_chat: int = 32, max_chats: int = 2000, store: AnswerStore | None = None) -> None:
        self.per_chat = per_chat
        self.max_chats = max_chats
        self.store = store
        self._chats: LRUCache[int, FIFOCache[str, CachedAnswer]] = LRUCache(maxsize=max_chats)

    def _chat(self, chat_id: int) -> FIFOCache[str, CachedAnswer]:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = FIFOCache(maxsize=self.per_chat)
        return chat

    def put(self, chat_id: int, entry: CachedAnswer) -> str:
        """Store an answer; return its key."""
        key = secrets.token_urlsafe(6)
        self._chat(chat_id)[key] = entry
        self._save(chat_id, key, entry)
        return key

    def get(self, chat_id: int, key: str) -> CachedAnswer | None:
        """The stored answer, or None once it has been forgotten."""
        chat = self._chats.get(chat_id)
        entry = chat.get(key) if chat is not None else None
        if entry is None and self.store is not None:
            entry = self.store.get(chat_id, key)
            if entry is not None:
                self._chat(chat_id)[key] = entry
        return entry

    def replace(self, chat_id: int, key: str, entry: CachedAnswer) -> None:
        """Update a stored answer in place, if it is still there."""
        chat = self._chats.get(chat_id)
        if chat is not None and key in chat:
            chat[key] = entry
            self._save(chat_id, key, entry)

    def _save(self, chat_id: int, key: str, entry: CachedAnswer) -> None:
        if self.store is None:
            return
        try:
            self.store.put(chat_id, key, entry)
        except sqlite3.Error as exc:  # a full disk costs the buttons after a restart, not the answer
            log.warning("Could not store the answer behind the buttons in chat %s: %s", chat_id, exc)
