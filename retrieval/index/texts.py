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

from retrieval.index.records import StoredArticle

RECENT = 256  # texts kept per segment (about 14 KB each on AllSides)

_COLUMNS = "id, source, title, publisher, date, url, content_hash, body_hash"


class SegmentTexts:
    """One segment's article texts, read by row id from its SQLite file; safe across threads."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(path)
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._recent: OrderedDict[int, str] = OrderedDict()

    def read(self, article_id: int) -> str:
        """The text of the segment's article with this row id."""
        with self._lock:
            text = self._recent.get(article_id)
            if text is not None:
                self._recent.move_to_end(article_id)
                return text
            row = self._con.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None or not isinstance(row[0], str):
                raise ValueError("an article's text is missing")
            text = row[0]
            self._recent[article_id] = text
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
            return text

    def articles(self) -> tuple[list[StoredArticle], list[int]]:
        """Every article with its text left in the file, and each text's length in characters."""
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
        for aid, source, title, publisher, date, url, content_hash, body_hash, lean, length in rows:
            articles.append(
                StoredArticle(
                    aid,
                    source,
                    title,
                    publisher,
                    date,
                    url,
                    content_hash,
                    ArticleText(self, aid),
                    body_hash,
                    lean,
                )
            )
            lengths.append(int(length) if length is not None and length >= 0 else len(self.read(aid)))
        return articles, lengths


class ArticleText:
    """Where one article's text lies: its segment and row id there."""

    __slots__ = ("_id", "_segment")

    def __init__(self, segment: SegmentTexts, article_id: int) -> None:
        self._segment = segment
        self._id = article_id

    def read(self) -> str:
        """The text, from the segment's file (or its recent texts)."""
        return self._segment.read(self._id)
