"""The index on disk: one folder per version, switched atomically, never pickled.

Layout of `index_dir`:
  CURRENT               the name of the live version (replaced with os.replace)
  versions/v000042/     manifest.json, articles.sqlite, chunks.faiss, chunk_vecs.npy,
                        sentence_vecs.npy, chunks.npy, sentences.npy, bm25_*.npy, bm25_vocab.json
  .lock                 held by the one indexer allowed at a time
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.article import ARTICLE_SUFFIXES, Article, read_article
from retrieval.chunking import CHUNKER_VERSION, chunk_article, chunk_text
from retrieval.embedding import Embedder, Vectors
from retrieval.errors import ArticleError, IndexError_, IndexLockedError, SourcesError
from retrieval.lexical import Bm25, tokenize

FORMAT_VERSION = 1
KEEP_VERSIONS = 3
Progress = Callable[[str, int, int], None]


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
    text: str


class Index:
    """One loaded, immutable index version."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        import faiss

        self.folder = folder
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.articles = _read_articles(folder / "articles.sqlite")
        # chunks: article, start, end, first sentence, end sentence; sentences: article, start, end, quotable
        self.chunks = _load_array(folder / "chunks.npy", np.int64, 5)
        self.sentences = _load_array(folder / "sentences.npy", np.int64, 4)
        self.sentence_vecs: Vectors = _load_array(
            folder / "sentence_vecs.npy", np.float32, int(manifest["dim"])
        )
        # Only read when the next update reuses vectors, but a missing one must fail now, not then.
        chunk_vecs = np.load(folder / "chunk_vecs.npy", mmap_mode="r", allow_pickle=False)
        self.bm25 = Bm25.load(folder)
        self.faiss = faiss.read_index(str(folder / "chunks.faiss"))
        if (
            self.faiss.ntotal != len(self.chunks)
            or chunk_vecs.shape != (len(self.chunks), int(manifest["dim"]))
            or len(self.sentence_vecs) != len(self.sentences)
            or self.bm25.n_docs != len(self.chunks)
            or len(self.chunks) != manifest["chunks"]
            or len(self.articles) != manifest["articles"]
        ):
            raise ValueError("its parts disagree in size")
        self._by_source = {a.source: a for a in self.articles}

    def article(self, article_id: int) -> StoredArticle:
        """The article with this row id."""
        return self.articles[article_id]

    def article_by_source(self, source: str) -> StoredArticle | None:
        """The article indexed from this file name, if any."""
        return self._by_source.get(source)

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article with its chunk count."""
        counts: Any = np.bincount(self.chunks[:, 0], minlength=len(self.articles)) if len(self.chunks) else []
        return [
            ArticleInfo(
                a.source,
                a.title,
                a.publisher,
                a.date,
                a.url,
                int(counts[a.id]) if len(counts) else 0,
                a.content_hash,
            )
            for a in self.articles
        ]

    def stats(self) -> IndexStats:
        """Counts, outlets and the span of dates."""
        dates = sorted(a.date for a in self.articles if a.date)
        publishers = sorted({a.publisher for a in self.articles if a.publisher})
        return IndexStats(
            version=self.version,
            articles=len(self.articles),
            chunks=len(self.chunks),
            built_at=self.manifest["built_at"],
            publishers=publishers,
            date_range=(dates[0], dates[-1]) if dates else (None, None),
        )


def _load_array(path: Path, dtype: type[np.generic], width: int) -> Any:
    arr = np.load(path, allow_pickle=False)
    if arr.ndim != 2 or (len(arr) and arr.shape[1] != width):
        raise ValueError(f"{path.name} has the wrong shape")
    return arr.astype(dtype, copy=False)


def _read_articles(path: Path) -> list[StoredArticle]:
    if not path.is_file():
        raise FileNotFoundError(path)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT id, source, title, publisher, date, url, content_hash, text FROM articles ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    articles = [StoredArticle(*row) for row in rows]
    if any(a.id != i for i, a in enumerate(articles)):
        raise ValueError("article ids are not contiguous")
    return articles


# ---------------------------------------------------------------------------- versions and locking


def current_version(index_dir: Path) -> str | None:
    """The name of the live version, or None if there is no index."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexError_(f"Cannot read the index at {index_dir} ({exc.strerror}).") from exc
    return name or None


def load_index(index_dir: Path) -> Index:
    """Load the live version; a damaged one raises IndexError_ naming the fix."""
    version = current_version(index_dir)
    if version is None:
        raise IndexError_(f"There is no index at {index_dir}; build it with `usru index`.")
    folder = index_dir / "versions" / version
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError("it was written by another version of usru")
        return Index(folder, manifest)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ValueError) and str(exc) else type(exc).__name__
        if isinstance(exc, FileNotFoundError | OSError):
            reason = "a file is missing or unreadable"
        raise IndexError_(
            f"The index at {index_dir} is damaged ({reason}); rebuild it with `usru index --rebuild`."
        ) from exc


@contextlib.contextmanager
def index_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the indexer lock; a second indexer fails fast unless it waits."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = (index_dir / ".lock").open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"Another `usru index` is updating {index_dir}; wait for it (or pass --wait)."
            ) from exc
        yield
    finally:
        fh.close()


def _checkpoint(step: str) -> None:
    """Test-only crash hook for tests/test_crash_safety.py: SIGKILL here if USRU_TEST_CRASH_AT names this step."""
    if os.environ.get("USRU_TEST_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish_version(index_dir: Path, tmp: Path, version: str) -> None:
    versions = index_dir / "versions"
    for f in tmp.iterdir():
        _fsync_path(f)
    _checkpoint("fsynced")
    final = versions / version
    os.replace(tmp, final)
    _fsync_path(versions)
    _checkpoint("renamed")
    pointer = index_dir / f".CURRENT.{uuid.uuid4().hex}"
    pointer.write_text(version + "\n", encoding="utf-8")
    _fsync_path(pointer)
    _checkpoint("pointer-written")
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_path(index_dir)
    _checkpoint("replaced")


def _clean_old_versions(index_dir: Path, live: str) -> None:
    versions = index_dir / "versions"
    names = sorted(p.name for p in versions.iterdir() if p.is_dir() and p.name.startswith("v"))
    for name in names[:-KEEP_VERSIONS]:
        if name != live:
            shutil.rmtree(versions / name, ignore_errors=True)
            _checkpoint("cleaning")
    for p in versions.iterdir():
        if p.name.startswith(".tmp-"):
            shutil.rmtree(p, ignore_errors=True)


def _next_version(index_dir: Path) -> str:
    versions = index_dir / "versions"
    numbers = [int(p.name[1:]) for p in versions.glob("v*") if p.name[1:].isdigit()]
    return f"v{max(numbers, default=0) + 1:06d}"


# ---------------------------------------------------------------------------- building


def list_sources(sources: Path) -> list[Path]:
    """The article files under the sources folder, in a stable order."""
    if not sources.exists():
        raise SourcesError(f"The sources folder {sources} does not exist.")
    if not sources.is_dir():
        raise SourcesError(f"The sources path {sources} is not a folder.")
    files = [
        p
        for p in sources.rglob("*")
        if p.suffix.lower() in ARTICLE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(sources).parts)
        and p.is_file()
    ]
    return sorted(files, key=lambda p: p.relative_to(sources).as_posix())


def _previous(index_dir: Path, embedder_name: str, rebuild: bool) -> tuple[Index | None, Index | None]:
    """The live version (to report what changed) and, when its vectors can be reused, the same again."""
    try:
        old = load_index(index_dir)
    except IndexError_:
        return None, None
    same = (
        old.manifest.get("embedding_model") == embedder_name
        and old.manifest.get("chunker") == CHUNKER_VERSION
    )
    return old, (old if same and not rebuild else None)


def build_index(
    sources: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
) -> IndexSummary:
    """Index every article under `sources` into a new version and make it live."""
    started = time.perf_counter()
    files = list_sources(sources)
    with index_lock(index_dir, wait=wait):
        (index_dir / "versions").mkdir(parents=True, exist_ok=True)
        live, old = _previous(index_dir, embedder.name, rebuild)
        old_by_hash = {a.content_hash: a for a in old.articles} if old else {}
        old_by_source = {a.source: a for a in live.articles} if live else {}

        articles: list[Article] = []
        skipped: list[tuple[str, str]] = []
        seen_hashes: dict[str, str] = {}
        for i, path in enumerate(files):
            source = path.relative_to(sources).as_posix()
            if progress:
                progress("read", i, len(files))
            try:
                article = read_article(path, source)
            except ArticleError as exc:
                skipped.append((source, str(exc)))
                continue
            if article.content_hash in seen_hashes:
                skipped.append((source, f"same text as {seen_hashes[article.content_hash]}"))
                continue
            seen_hashes[article.content_hash] = source
            articles.append(article)
        if not articles:
            detail = f" ({len(skipped)} skipped: {skipped[0][1]}…)" if skipped else ""
            raise SourcesError(f"No readable .txt or .md articles in {sources}{detail}.")
        _checkpoint("read")

        chunk_rows: list[tuple[int, int, int, int, int]] = []
        sentence_rows: list[tuple[int, int, int, int]] = []
        chunk_texts: list[str] = []
        to_embed: list[int] = []  # article ids whose vectors are computed now
        reused: dict[int, StoredArticle] = {}
        for aid, article in enumerate(articles):
            first_chunk = len(chunk_rows)
            for chunk in chunk_article(article):
                lo = len(sentence_rows)
                for s in chunk.sentences:
                    sentence_rows.append((aid, s.start, s.end, int(s.quotable)))
                chunk_rows.append((aid, chunk.start, chunk.end, lo, len(sentence_rows)))
                body = chunk_text(article.text, chunk)
                chunk_texts.append(f"{article.title}\n{body}" if article.title else body)
            if first_chunk == len(chunk_rows):
                continue
            prev = old_by_hash.get(article.content_hash)
            if prev is not None:
                reused[aid] = prev
            else:
                to_embed.append(aid)

        chunks = np.asarray(chunk_rows, dtype=np.int64).reshape(-1, 5)
        sentences = np.asarray(sentence_rows, dtype=np.int64).reshape(-1, 4)
        chunk_vecs = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        sentence_vecs = np.zeros((len(sentences), embedder.dim), dtype=np.float32)
        if old is not None:
            _copy_reused_vectors(old, reused, chunks, sentences, chunk_vecs, sentence_vecs)
        _embed_new(
            embedder, articles, to_embed, chunks, sentences, chunk_texts, chunk_vecs, sentence_vecs, progress
        )
        _checkpoint("embedded")

        version = _next_version(index_dir)
        tmp = index_dir / "versions" / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        _write_version(
            tmp, version, embedder, articles, chunks, sentences, chunk_vecs, sentence_vecs, chunk_texts
        )
        _publish_version(index_dir, tmp, version)
        _clean_old_versions(index_dir, version)

    sources_now = {a.source for a in articles}
    return IndexSummary(
        version=version,
        articles=len(articles),
        chunks=len(chunks),
        sentences=len(sentences),
        seconds=time.perf_counter() - started,
        embedded_articles=len(to_embed),
        reused_articles=len(reused),
        new=[a.source for a in articles if a.source not in old_by_source],
        changed=[
            a.source
            for a in articles
            if a.source in old_by_source and old_by_source[a.source].content_hash != a.content_hash
        ],
        removed=sorted(s for s in old_by_source if s not in sources_now),
        skipped=skipped,
    )


def _copy_reused_vectors(
    old: Index,
    reused: dict[int, StoredArticle],
    chunks: npt.NDArray[np.int64],
    sentences: npt.NDArray[np.int64],
    chunk_vecs: Vectors,
    sentence_vecs: Vectors,
) -> None:
    """Unchanged articles chunk the same way, so their old vectors line up one to one."""
    old_chunk_vecs = np.load(old.folder / "chunk_vecs.npy", mmap_mode="r", allow_pickle=False)
    for aid, prev in reused.items():
        new_c = np.flatnonzero(chunks[:, 0] == aid)
        old_c = np.flatnonzero(old.chunks[:, 0] == prev.id)
        new_s = np.flatnonzero(sentences[:, 0] == aid)
        old_s = np.flatnonzero(old.sentences[:, 0] == prev.id)
        if len(new_c) != len(old_c) or len(new_s) != len(old_s):
            raise ValueError("reused article chunked differently")
        chunk_vecs[new_c] = old_chunk_vecs[old_c]
        sentence_vecs[new_s] = old.sentence_vecs[old_s]


def _embed_new(
    embedder: Embedder,
    articles: list[Article],
    to_embed: list[int],
    chunks: npt.NDArray[np.int64],
    sentences: npt.NDArray[np.int64],
    chunk_texts: list[str],
    chunk_vecs: Vectors,
    sentence_vecs: Vectors,
    progress: Progress | None,
) -> None:
    wanted = set(to_embed)
    c_rows = [i for i in range(len(chunks)) if int(chunks[i, 0]) in wanted]
    s_rows = [i for i in range(len(sentences)) if int(sentences[i, 0]) in wanted]
    total = len(c_rows) + len(s_rows)
    done = 0
    batch = 64
    sentence_texts = {
        i: articles[int(sentences[i, 0])].text[int(sentences[i, 1]) : int(sentences[i, 2])] for i in s_rows
    }
    for rows, texts, target in (
        (c_rows, {i: chunk_texts[i] for i in c_rows}, chunk_vecs),
        (s_rows, sentence_texts, sentence_vecs),
    ):
        for k in range(0, len(rows), batch):
            part = rows[k : k + batch]
            target[part] = embedder.embed_documents([texts[i] for i in part])
            done += len(part)
            if progress:
                progress("embed", done, total)


def _write_version(
    folder: Path,
    version: str,
    embedder: Embedder,
    articles: list[Article],
    chunks: npt.NDArray[np.int64],
    sentences: npt.NDArray[np.int64],
    chunk_vecs: Vectors,
    sentence_vecs: Vectors,
    chunk_texts: list[str],
) -> None:
    import faiss

    for name, arr in (
        ("chunks.npy", chunks),
        ("sentences.npy", sentences),
        ("chunk_vecs.npy", chunk_vecs),
        ("sentence_vecs.npy", sentence_vecs),
    ):
        with (folder / name).open("wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        _checkpoint(f"wrote:{name}")
    index = faiss.IndexFlatIP(embedder.dim)
    if len(chunk_vecs):
        index.add(chunk_vecs)
    faiss.write_index(index, str(folder / "chunks.faiss"))
    _checkpoint("wrote:chunks.faiss")
    Bm25.build([tokenize(t) for t in chunk_texts]).save(folder)
    _checkpoint("wrote:bm25")
    con = sqlite3.connect(folder / "articles.sqlite")
    try:
        con.execute(
            "CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT,"
            " publisher TEXT, date TEXT, url TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL)"
        )
        con.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.text)
                for i, a in enumerate(articles)
            ],
        )
        con.commit()
    finally:
        con.close()
    _checkpoint("wrote:articles.sqlite")
    manifest = {
        "format": FORMAT_VERSION,
        "version": version,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "embedding_model": embedder.name,
        "dim": embedder.dim,
        "chunker": CHUNKER_VERSION,
        "articles": len(articles),
        "chunks": len(chunks),
        "sentences": len(sentences),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _checkpoint("wrote:manifest.json")
