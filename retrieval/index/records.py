"""What an index holds and reports: article rows, the chunk and sentence tables, summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, NamedTuple, Protocol, overload

import numpy as np
import numpy.typing as npt

Progress = Callable[[str, int, int], None]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article as the front ends list it."""

    source: str
    title: str | None
    publisher: str | None
    date: str | None
    url: str | None
    chunks: int
    content_hash: str
    aliases: tuple[str, ...] = ()
    leaning: str | None = None  # as the article's front matter states it; None: not stated


@dataclass(frozen=True)
class IndexStats:
    """What the live index holds."""

    version: str
    articles: int
    chunks: int
    built_at: str
    publishers: list[str]
    date_range: tuple[str | None, str | None]


@dataclass
class IndexSummary:
    """What one `usru index` run did."""

    version: str
    articles: int
    chunks: int
    sentences: int
    seconds: float
    embedded_articles: int
    reused_articles: int
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file it duplicates)


class TextRef(Protocol):
    """Where an article's text lies, read when asked for (a loaded folder version: its segment's file)."""

    def read(self) -> str:
        """The text."""


class _Text:
    """The `text` field of a stored article: a str, or a TextRef read on each access.

    The whole AllSides corpus's texts take about 310 MiB as Python strings, while an answer quotes
    from a few dozen articles; a loaded version keeps only where each text lies (issue 13).
    """

    @overload
    def __get__(self, obj: None, owner: Any) -> _Text: ...
    @overload
    def __get__(self, obj: object, owner: Any) -> str: ...
    def __get__(self, obj: object | None, owner: Any = None) -> str | _Text:
        if obj is None:
            raise AttributeError("text")  # tells dataclass the field has no default
        value: str | TextRef = obj.__dict__["text"]
        return value if isinstance(value, str) else value.read()

    def __set__(self, obj: object, value: str | TextRef) -> None:
        obj.__dict__["text"] = value


@dataclass(frozen=True)
class StoredArticle:
    """An article row: metadata and the full text that offsets point into."""

    id: int
    source: str
    title: str | None
    publisher: str | None
    date: str | None
    url: str | None
    content_hash: str
    text: _Text = _Text()  # a str; given a TextRef, read only when asked for
    body_hash: str = ""
    leaning: str | None = None  # as the article's front matter states it; None: not stated


def renumbered(article: StoredArticle, article_id: int) -> StoredArticle:
    """The article under another row id, its text left unread if it is read lazily."""
    # Its fields copied as they are, not through replace(): that runs __init__ and every frozen
    # field's setter, ~0.2 CPU-s for each load of the 22,835-article index (issue 13).
    out: StoredArticle = object.__new__(StoredArticle)
    out.__dict__.update(article.__dict__)
    out.__dict__["id"] = article_id
    return out


class ChunkCol(IntEnum):
    """The columns of a chunk row, in the order they are stored."""

    ARTICLE = 0
    START = 1
    END = 2
    FIRST_SENTENCE = 3
    END_SENTENCE = 4  # one past the chunk's last sentence


class SentenceCol(IntEnum):
    """The columns of a sentence row, in the order they are stored."""

    ARTICLE = 0
    START = 1
    END = 2
    QUOTABLE = 3


class ChunkRow(NamedTuple):
    """One chunk: its article, its span in the article's text and its sentences [first, end)."""

    article: int
    start: int
    end: int
    first_sentence: int
    end_sentence: int


class SentenceRow(NamedTuple):
    """One sentence: its article, its span in the article's text, and whether it may be quoted."""

    article: int
    start: int
    end: int
    quotable: bool


class _Table:
    """Rows of int64 columns, stored as one 2-D array (the .npy on disk) and read by column name.

    Indexing, iterating and numpy see the raw rows, so array code (merging, slicing) stays vectorised.
    """

    WIDTH: ClassVar[int]

    def __init__(self, rows: Any = None) -> None:
        arr = np.zeros((0, self.WIDTH), np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        self.rows: IntArray = arr.reshape(-1, self.WIDTH)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: Any) -> Any:
        return self.rows[key]

    def __iter__(self) -> Iterator[IntArray]:
        return iter(self.rows)

    def __array__(self, dtype: Any = None, copy: Any = None) -> IntArray:
        return self.rows if dtype is None else self.rows.astype(dtype)

    def tolist(self) -> list[list[int]]:
        """The rows as lists of ints."""
        rows: list[list[int]] = self.rows.tolist()
        return rows

    def column(self, col: int) -> IntArray:
        """One column of every row (a view, not a copy)."""
        return self.rows[:, col]


class ChunkTable(_Table):
    """Every chunk of an index: what is embedded and searched."""

    WIDTH = len(ChunkCol)

    @property
    def article(self) -> IntArray:
        """The article of each chunk."""
        return self.column(ChunkCol.ARTICLE)

    def row(self, chunk_id: int) -> ChunkRow:
        """One chunk with its columns named."""
        return ChunkRow(*self.rows[chunk_id].tolist())  # tolist: Python ints, ~3x faster than int() each


class SentenceTable(_Table):
    """Every sentence of an index: what is quoted."""

    WIDTH = len(SentenceCol)

    @property
    def article(self) -> IntArray:
        """The article of each sentence."""
        return self.column(SentenceCol.ARTICLE)

    @property
    def start(self) -> IntArray:
        """Where each sentence starts in its article's text."""
        return self.column(SentenceCol.START)

    @property
    def end(self) -> IntArray:
        """Where each sentence ends in its article's text."""
        return self.column(SentenceCol.END)

    @property
    def quotable(self) -> IntArray:
        """1 where the sentence may be quoted, 0 where it is page furniture or too short."""
        return self.column(SentenceCol.QUOTABLE)

    def row(self, sentence_id: int) -> SentenceRow:
        """One sentence with its columns named."""
        aid, start, end, quotable = self.rows[sentence_id].tolist()
        return SentenceRow(aid, start, end, bool(quotable))


def list_article_infos(
    articles: Sequence[StoredArticle], chunks: ChunkTable, aliases: Mapping[str, Sequence[str]]
) -> list[ArticleInfo]:
    """Every article with its chunk count and the other files holding the same article (both stores)."""
    counts = (
        np.bincount(chunks.article, minlength=len(articles))
        if len(chunks)
        else np.zeros(len(articles), np.int64)
    )
    return [
        ArticleInfo(
            a.source,
            a.title,
            a.publisher,
            a.date,
            a.url,
            int(counts[a.id]),
            a.content_hash,
            tuple(aliases.get(a.source, ())),
            a.leaning,
        )
        for a in articles
    ]
