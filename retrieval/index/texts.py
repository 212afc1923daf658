"""Article texts read from their segment's articles.sqlite when asked for, not held by a loaded version.

The texts of the whole AllSides corpus take about 310 MiB as Python strings (most hold a curly quote,
so two bytes a character), while an answer reads a few dozen articles. A loaded version keeps each
article's metadata and, in place of its text, where the text lies (issue 13). The connection is opened
when the version is loaded and kept: the file stays readable for it even if a later update deletes the
segment. Recently read texts are kept, since an answer reads the same articles several times.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from retrieval.index.records import StoredArticle

RECENT_CHARS = 8_000_000  # characters of recently read texts a version keeps: ~1,100 AllSides articles

_COLUMNS = "id, source, title, publisher, date, url, content_hash, body_hash"


class RecentTexts:
    """The texts read last across a version's segments, up to a number of characters; thread-safe."""

    def __init__(self, max_chars: int = RECENT_CHARS) -> None:
        self.max_chars = max_chars
        self._texts: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> str | None:
        """The text under this key, if kept (and now the most recent)."""
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
            return text

    def put(self, key: tuple[int, int], text: str) -> None:
        """Keep a text, forgetting the least recent ones past the budget."""
        with self._lock:
            if key in self._texts:
                return
            self._texts[key] = text
            self._chars += len(text)
            while self._chars > self.max_chars and len(self._texts) > 1:
                _, gone = self._texts.popitem(last=False)
                self._chars -= len(gone)


class SegmentTexts:
    """One segment's article texts, read by row id from its SQLite file; safe across threads."""

    def __init__(self, path: Path, recent: RecentTexts | None = None) -> None:
        if not path.is_file():
            raise FileNotFoundError(path)
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._recent = recent if recent is not None else RecentTexts()

    def read(self, article_id: int) -> str:
        """The text of the segment's article with this row id."""
        key = (id(self), article_id)
        text = self._recent.get(key)
        if text is not None:
            return text
        with self._lock:
            row = self._con.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None or not isinstance(row[0], str):
            raise ValueError("an article's text is missing")
        text = row[0]
        self._recent.put(key, text)
        return text

    def articles(self, rows: list[list[Any]] | None = None) -> tuple[list[StoredArticle], list[int]]:
        """Every article with its text left in the file, and each text's length in characters.

        `rows` are the same, as stored with the version (article_table.py): the file is not read.
        """
        if rows is not None:
            return self._from_rows(rows)
        with self._lock:
            columns = {row[1] for row in self._con.execute("PRAGMA table_info(articles)")}
            # Segments written before leanings were stored have no such column: their leanings are unknown.
            leaning = "leaning" if "leaning" in columns else "NULL"
            # SQLite's length() stops at a NUL character; such a text is measured in Python instead.
            rows = self._con.execute(
                f"SELECT {_COLUMNS}, {leaning},"
                " CASE WHEN instr(text, char(0)) THEN -1 ELSE length(text) END FROM articles ORDER BY id"
            ).fetchall()
        articles, lengths = [], []
        for aid, *fields, length in rows:
            articles.append(self._article(aid, fields))
            lengths.append(int(length) if length is not None and length >= 0 else len(self.read(aid)))
        return articles, lengths

    def _article(self, aid: int, fields: list[Any]) -> StoredArticle:
        """An article from its stored fields (source … content hash, body hash, leaning); its text read on demand."""
        source, title, publisher, date, url, content_hash, body_hash, lean = fields
        # Its fields filled as the dataclass's __init__ fills them (`text` is kept in __dict__ by its
        # descriptor), without a frozen setter per field: ~0.15 CPU-s of each load of 22,835 articles.
        out: StoredArticle = object.__new__(StoredArticle)
        out.__dict__.update(
            id=aid,
            source=source,
            title=title,
            publisher=publisher,
            date=date,
            url=url,
            content_hash=content_hash,
            text=ArticleText(self, aid),
            body_hash=body_hash,
            leaning=lean,
        )
        return out

    def _from_rows(self, rows: list[list[Any]]) -> tuple[list[StoredArticle], list[int]]:
        articles, lengths = [], []
        for aid, (*fields, length) in enumerate(rows):
            articles.append(self._article(aid, fields))
            lengths.append(int(length))
        return articles, lengths


def article_row(article: StoredArticle, length: int) -> list[Any]:
    """What the version stores of an article in place of reading its segment's file (article_table.py)."""
    a = article
    return [a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.body_hash, a.leaning, length]


class ArticleText:
    """Where one article's text lies: its segment and row id there."""

    __slots__ = ("_id", "_segment")

    def __init__(self, segment: SegmentTexts, article_id: int) -> None:
        self._segment = segment
        self._id = article_id

    def read(self) -> str:
        """The text, from the segment's file (or its recent texts)."""
        return self._segment.read(self._id)
