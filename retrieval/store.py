"""The index on disk: immutable segments, versions that list them, switched atomically; never pickled.

Layout of `index_dir`:
  CURRENT                    the name of the live version (replaced with os.replace)
  versions/v000042/manifest.json
                             the segments of that version, the articles deleted from each, the
                             duplicate file names (aliases) and the totals
  segments/s000007/          segment.json, articles.sqlite, chunks.faiss, chunks.npy, sentences.npy,
                             sentence_vecs.npy, bm25_*.npy, bm25_vocab.json; never changed once written
  quantizers/q000003.faiss   IVF cells, once the corpus outgrows exact search (see vector_index.py);
                             each segment then also holds lists-q000003.npy, its chunks' cells
  filecache.sqlite           size and mtime of each indexed file, so unchanged files are not re-read
  .lock                      held by the one indexer allowed at a time

Adding an article writes one small segment and a new manifest, so its cost does not grow with the
corpus; deleting one only lists it in the manifest. When segments pile up, the small ones are merged.
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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.answer import one_line
from retrieval.article import ARTICLE_SUFFIXES, Article, read_article, stored_content_hash
from retrieval.chunking import CHUNKER_VERSION, chunk_article, indexed_text
from retrieval.embedding import Embedder, Vectors
from retrieval.errors import ArticleError, IndexError_, IndexLockedError, OutsideLinkError, SourcesError
from retrieval.lexical import Bm25, tokenize
from retrieval.vector_index import (
    FLAT_MAX,
    POINTS_PER_CELL,
    RETRAIN_GROWTH,
    assign_lists,
    build_vector_index,
    count_lists,
    train_quantizer,
)

FORMAT_VERSION = 2
KEEP_VERSIONS = 3
MAX_SEGMENTS = 8
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
    body_hash: str = ""


def _checkpoint(step: str) -> None:
    """Test-only crash hook for tests/test_crash_safety.py: SIGKILL here if USRU_TEST_CRASH_AT names this step."""
    if os.environ.get("USRU_TEST_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------------- segments


@dataclass
class _Data:
    """Articles, chunks, sentences, vectors and BM25 of one segment or of several merged."""

    articles: list[StoredArticle]
    chunks: IntArray  # article, start, end, first sentence, end sentence
    sentences: IntArray  # article, start, end, quotable
    chunk_vecs: Vectors
    sentence_vecs: Vectors
    bm25: Bm25
    chunk_lists: IntArray | None = None  # each chunk's IVF cell, once the corpus is big enough for IVF


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
            "SELECT id, source, title, publisher, date, url, content_hash, text, body_hash"
            " FROM articles ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    articles = [StoredArticle(*row) for row in rows]
    if any(a.id != i for i, a in enumerate(articles)):
        raise ValueError("article ids are not contiguous")
    return articles


def _check_segment_files(folder: Path) -> dict[str, Any]:
    """The segment's metadata, once every file it lists is there at its recorded size."""
    meta: dict[str, Any] = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError("it was written by another version of usru")
    for name, size in meta["files"].items():
        if (folder / name).stat().st_size != size:
            raise ValueError(f"{name} is truncated or was changed")
    return meta


def _lists_file(folder: Path, quantizer_name: str) -> Path:
    return folder / f"lists-{quantizer_name}.npy"


def _read_chunk_vectors(folder: Path, dim: int) -> Vectors:
    import faiss

    index = faiss.read_index(str(folder / "chunks.faiss"))
    if index.d != dim:
        raise ValueError("its parts disagree in size")
    vecs: Vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), np.float32)
    return vecs


def _read_lists(folder: Path, quantizer_name: str, quantizer: Any, chunk_vecs: Vectors) -> IntArray:
    """The IVF cells of a segment's chunks, as written beside it, or worked out again if missing."""
    try:
        lists: IntArray = np.load(_lists_file(folder, quantizer_name), allow_pickle=False).astype(np.int64)
        if lists.shape == (len(chunk_vecs),) and (
            not len(lists) or (lists.min() >= 0 and lists.max() < quantizer.ntotal)
        ):
            return lists
    except (OSError, ValueError):
        pass
    return assign_lists(quantizer, chunk_vecs)


def _read_quantizer(index_dir: Path, info: dict[str, Any] | None, dim: int) -> tuple[str, Any] | None:
    """The trained IVF cells a version names, or None while it is small enough for exact search."""
    if not info:
        return None
    import faiss

    quantizer = faiss.read_index(str(index_dir / "quantizers" / f"{info['name']}.faiss"))
    if quantizer.d != dim or quantizer.ntotal != int(info["lists"]):
        raise ValueError("its IVF cells do not match it")
    return str(info["name"]), quantizer


def _sample_chunk_vectors(index_dir: Path, segments: list[dict[str, Any]], dim: int, size: int) -> Vectors:
    """A uniform sample of chunk vectors across segments, read one segment at a time to bound memory."""
    rng = np.random.default_rng(0)
    counts = [
        int(json.loads((index_dir / "segments" / s["name"] / "segment.json").read_text("utf-8"))["chunks"])
        for s in segments
    ]
    total = max(1, sum(counts))
    picked: list[Vectors] = []
    for seg, n in zip(segments, counts, strict=True):
        take = min(n, round(size * n / total))
        if take:
            vecs = _read_chunk_vectors(index_dir / "segments" / seg["name"], dim)
            picked.append(vecs[np.sort(rng.choice(len(vecs), take, replace=False))])
    return np.concatenate(picked) if picked else np.zeros((0, dim), np.float32)


def _update_quantizer(
    index_dir: Path, segments: list[dict[str, Any]], n_chunks: int, info: dict[str, Any] | None, dim: int
) -> dict[str, Any] | None:
    """Train IVF cells when the corpus first outgrows exact search or outgrows its cells 8-fold.

    Retraining reads every segment, but the corpus must grow geometrically between two of them, so
    the cost per added article stays bounded; in between, only new segments' chunks are filed in cells.
    """
    if n_chunks <= FLAT_MAX:
        return None
    quantizer = None
    if info is not None:
        try:
            found = _read_quantizer(index_dir, info, dim)
            quantizer = found[1] if found else None
        except (OSError, RuntimeError, ValueError):
            quantizer = None
    if quantizer is None or info is None or n_chunks > RETRAIN_GROWTH * int(info["trained_on"]):
        n_lists = count_lists(n_chunks)
        quantizer = train_quantizer(
            _sample_chunk_vectors(index_dir, segments, dim, n_lists * POINTS_PER_CELL), n_lists
        )
        folder = index_dir / "quantizers"
        folder.mkdir(exist_ok=True)
        name = _next_name(folder, "q")
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        write_faiss(quantizer, tmp)
        _replace_durably(tmp, folder / f"{name}.faiss")
        _checkpoint("wrote:quantizer")
        info = {"name": name, "lists": n_lists, "trained_on": n_chunks}
    for seg in segments:
        folder = index_dir / "segments" / seg["name"]
        if not _lists_file(folder, info["name"]).is_file():
            _write_lists(folder, info["name"], assign_lists(quantizer, _read_chunk_vectors(folder, dim)))
    _checkpoint("wrote:lists")
    return info


def _write_lists(folder: Path, quantizer_name: str, lists: IntArray) -> None:
    tmp = folder / f".tmp-{uuid.uuid4().hex}.npy"
    with tmp.open("wb") as fh:
        np.save(fh, lists.astype(np.int32), allow_pickle=False)
    _replace_durably(tmp, _lists_file(folder, quantizer_name))


def _read_segment(folder: Path, dim: int, quantizer: tuple[str, Any] | None = None) -> _Data:
    meta = _check_segment_files(folder)
    articles = _read_articles(folder / "articles.sqlite")
    chunks = _load_array(folder / "chunks.npy", np.int64, 5)
    sentences = _load_array(folder / "sentences.npy", np.int64, 4)
    sentence_vecs = _load_array(folder / "sentence_vecs.npy", np.float32, dim)
    bm25 = Bm25.load(folder)
    chunk_vecs = _read_chunk_vectors(folder, dim)
    lengths = np.array([len(a.text) for a in articles] + [0], dtype=np.int64)
    if (
        len(sentence_vecs) != len(sentences)
        or bm25.n_docs != len(chunks)
        or len(chunk_vecs) != len(chunks)
        or (meta["articles"], meta["chunks"], meta["sentences"])
        != (len(articles), len(chunks), len(sentences))
        or (len(chunks) and (chunks[:, 0].max() >= len(articles) or chunks[:, 4].max() > len(sentences)))
        or (len(sentences) and (sentences[:, 0].max() >= len(articles)))
        or (len(sentences) and bool((sentences[:, 2] > lengths[sentences[:, 0]]).any()))
    ):
        raise ValueError("its parts disagree in size")
    lists = _read_lists(folder, quantizer[0], quantizer[1], chunk_vecs) if quantizer else None
    return _Data(articles, chunks, sentences, chunk_vecs, sentence_vecs, bm25, lists)


def _merge(parts: list[tuple[_Data, set[int]]], dim: int) -> _Data:
    """One view of several segments without their deleted articles, renumbered from 0."""
    if len(parts) == 1 and not parts[0][1]:
        return parts[0][0]
    articles: list[StoredArticle] = []
    chunks: list[IntArray] = []
    sentences: list[IntArray] = []
    cvecs: list[Vectors] = []
    svecs: list[Vectors] = []
    bm25_parts: list[tuple[Bm25, npt.NDArray[np.bool_]]] = []
    lists: list[IntArray] = []
    for data, deleted in parts:
        keep = np.array([a.id not in deleted for a in data.articles], dtype=bool)
        art_map = np.full(len(data.articles), -1, dtype=np.int64)
        art_map[keep] = len(articles) + np.arange(int(keep.sum()))
        for a in data.articles:
            if a.id not in deleted:
                articles.append(replace(a, id=int(art_map[a.id])))
        s_keep = keep[data.sentences[:, 0]] if len(data.sentences) else np.zeros(0, bool)
        s_base = sum(len(s) for s in sentences)
        s_map = np.full(len(data.sentences) + 1, -1, dtype=np.int64)
        s_map[:-1][s_keep] = s_base + np.arange(int(s_keep.sum()))
        c_keep = keep[data.chunks[:, 0]] if len(data.chunks) else np.zeros(0, bool)
        c = data.chunks[c_keep].copy()
        if len(c):
            c[:, 0] = art_map[c[:, 0]]
            c[:, 4] = s_map[c[:, 4] - 1] + 1  # a chunk's sentences are contiguous and kept together
            c[:, 3] = s_map[c[:, 3]]
        s = data.sentences[s_keep].copy()
        if len(s):
            s[:, 0] = art_map[s[:, 0]]
        chunks.append(c)
        sentences.append(s)
        cvecs.append(data.chunk_vecs[c_keep])
        svecs.append(data.sentence_vecs[s_keep])
        bm25_parts.append((data.bm25, c_keep))
        if data.chunk_lists is not None:
            lists.append(data.chunk_lists[c_keep])
    return _Data(
        articles,
        np.concatenate(chunks).reshape(-1, 5) if chunks else np.zeros((0, 5), np.int64),
        np.concatenate(sentences).reshape(-1, 4) if sentences else np.zeros((0, 4), np.int64),
        np.concatenate(cvecs).reshape(-1, dim).astype(np.float32),
        np.concatenate(svecs).reshape(-1, dim).astype(np.float32),
        Bm25.merge(bm25_parts),
        np.concatenate(lists) if lists and len(lists) == len(parts) else None,
    )


def _write_segment(folder: Path, name: str, embedder_name: str, dim: int, data: _Data) -> None:
    import faiss

    for fname, arr in (
        ("chunks.npy", data.chunks),
        ("sentences.npy", data.sentences),
        ("sentence_vecs.npy", data.sentence_vecs),
    ):
        with (folder / fname).open("wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        _checkpoint(f"wrote:{fname}")
    index = faiss.IndexFlatIP(dim)
    if len(data.chunk_vecs):
        index.add(data.chunk_vecs)
    write_faiss(index, folder / "chunks.faiss")
    _checkpoint("wrote:chunks.faiss")
    data.bm25.save(folder)
    _checkpoint("wrote:bm25")
    con = sqlite3.connect(folder / "articles.sqlite")
    try:
        con.execute(
            "CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT,"
            " publisher TEXT, date TEXT, url TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL,"
            " body_hash TEXT NOT NULL, n_chunks INTEGER NOT NULL, n_sentences INTEGER NOT NULL)"
        )
        # Looked up by an update to find a duplicate without reading every article.
        con.execute("CREATE INDEX articles_body ON articles (body_hash)")
        n = len(data.articles)
        n_chunks = np.bincount(data.chunks[:, 0], minlength=n) if len(data.chunks) else np.zeros(n, np.int64)
        n_sents = (
            np.bincount(data.sentences[:, 0], minlength=n) if len(data.sentences) else np.zeros(n, np.int64)
        )
        con.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    a.source,
                    a.title,
                    a.publisher,
                    a.date,
                    a.url,
                    a.content_hash,
                    a.text,
                    a.body_hash,
                    int(n_chunks[i]),
                    int(n_sents[i]),
                )
                for i, a in enumerate(data.articles)
            ],
        )
        con.commit()
    finally:
        con.close()
    _checkpoint("wrote:articles.sqlite")
    meta = {
        "format": FORMAT_VERSION,
        "segment": name,
        "embedding_model": embedder_name,
        "dim": dim,
        "chunker": CHUNKER_VERSION,
        "articles": len(data.articles),
        "chunks": len(data.chunks),
        "sentences": len(data.sentences),
        # Sizes let a reader notice a missing or truncated file with a stat, before trusting the segment.
        "files": {f.name: f.stat().st_size for f in sorted(folder.iterdir())},
    }
    (folder / "segment.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    _checkpoint("wrote:segment.json")


# ---------------------------------------------------------------------------- the loaded index


class Index:
    """One loaded, immutable index version: its segments merged into one view."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any]) -> None:
        self.folder = index_dir / "versions" / manifest["version"]
        self.manifest = manifest
        self.version: str = manifest["version"]
        dim = int(manifest["dim"])
        quantizer = _read_quantizer(index_dir, manifest.get("quantizer"), dim)
        parts = [
            (_read_segment(index_dir / "segments" / s["name"], dim, quantizer), set(s["deleted"]))
            for s in manifest["segments"]
        ]
        data = _merge(parts, dim)
        self.articles = data.articles
        self.chunks = data.chunks
        self.sentences = data.sentences
        self.sentence_vecs: Vectors = data.sentence_vecs
        self.bm25 = data.bm25
        self.faiss = build_vector_index(
            data.chunk_vecs, quantizer[1] if quantizer else None, data.chunk_lists
        )
        if (manifest["articles"], manifest["chunks"], manifest["sentences"]) != (
            len(self.articles),
            len(self.chunks),
            len(self.sentences),
        ):
            raise ValueError("its parts disagree in size")
        self._by_source = {a.source: a for a in self.articles}
        self._terms: dict[int, frozenset[str]] = {}
        self._intact: set[int] = set()
        self.aliases: dict[str, list[str]] = {}
        for alias, (primary, _) in sorted(manifest.get("aliases", {}).items()):
            self.aliases.setdefault(primary, []).append(alias)

    def article(self, article_id: int) -> StoredArticle:
        """The article with this row id."""
        return self.articles[article_id]

    def intact_article(self, article_id: int) -> StoredArticle:
        """The article, once its stored text matches the hash taken when its file was read.

        Quotes come from the stored text, so text edited after indexing would be quoted as if the article
        said it. The text cannot change within a loaded version, so each article is hashed once.
        """
        article = self.articles[article_id]
        if article_id not in self._intact:
            a = article
            if stored_content_hash(a.source, a.text, a.title, a.publisher, a.date, a.url) != a.content_hash:
                raise IndexError_(
                    f"The index is damaged (the stored text of {one_line(a.source)} was changed); "
                    "rebuild it with `usru index --rebuild`."
                )
            self._intact.add(article_id)  # a racing thread adds the same id
        return article

    def sentence_terms(self, sentence_id: int) -> frozenset[str]:
        """The BM25 terms of one sentence, remembered: every question re-scores the same few."""
        terms = self._terms.get(sentence_id)
        if terms is None:
            aid, start, end, _ = (int(x) for x in self.sentences[sentence_id])
            terms = frozenset(tokenize(self.articles[aid].text[start:end]))
            self._terms[sentence_id] = terms  # a racing thread computes the same value
        return terms

    def article_by_source(self, source: str) -> StoredArticle | None:
        """The article indexed from this file name (or from a duplicate of it), if any."""
        found = self._by_source.get(source)
        if found is None:
            primary = self.manifest.get("aliases", {}).get(source)
            found = self._by_source.get(primary[0]) if primary else None
        return found

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article with its chunk count and the other files holding the same article."""
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
                tuple(self.aliases.get(a.source, ())),
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


def _read_manifest(index_dir: Path, version: str) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(
        (index_dir / "versions" / version / "manifest.json").read_text("utf-8")
    )
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError("it was written by another version of usru")
    return manifest


def _damaged(index_dir: Path, exc: Exception) -> IndexError_:
    reason = str(exc) if isinstance(exc, ValueError) and str(exc) else type(exc).__name__
    if isinstance(exc, FileNotFoundError | OSError):
        reason = "a file is missing or unreadable"
    return IndexError_(
        f"The index at {index_dir} is damaged ({reason}); rebuild it with `usru index --rebuild`."
    )


def load_index(index_dir: Path) -> Index:
    """Load the live version; a damaged one raises IndexError_ naming the fix."""
    version = current_version(index_dir)
    if version is None:
        raise IndexError_(f"There is no index at {index_dir}; build it with `usru index`.")
    try:
        return Index(index_dir, _read_manifest(index_dir, version))
    except Exception as exc:
        raise _damaged(index_dir, exc) from exc


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


def write_faiss(index: Any, path: Path) -> None:
    """Write a FAISS index so that a failed write raises: faiss.write_index only prints a failed close."""
    import faiss

    with path.open("wb") as fh:
        fh.write(faiss.serialize_index(index).data)


def _remove_partial_files(index_dir: Path) -> None:
    """After a failed update, free what it was writing: temporary folders and files, pointer files."""
    for pattern in ("segments/.tmp-*", "segments/*/.tmp-*", "versions/.tmp-*", "quantizers/.tmp-*"):
        for p in index_dir.glob(pattern):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    for p in index_dir.glob(".CURRENT.*"):
        with contextlib.suppress(OSError):
            p.unlink()


def _write_failed(index_dir: Path, exc: OSError | sqlite3.Error) -> IndexError_:
    """What a user reads when the disk is full or the index folder is not writable."""
    if isinstance(exc, OSError) and exc.strerror:
        reason = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        reason = f"a write failed: {exc}"
    try:
        live = current_version(index_dir)
    except IndexError_:
        live = None
    still = f"version {live} is still the one in use" if live else "there is no index yet"
    return IndexError_(f"Could not update the index at {index_dir} ({reason}); {still}.")


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish_folder(tmp: Path, final: Path) -> None:
    """Make a fully written temporary folder appear under its final name, durably."""
    for f in tmp.iterdir():
        _fsync_path(f)
    _replace_durably(tmp, final)


def _replace_durably(tmp: Path, final: Path) -> None:
    """Give a fully written file or folder its final name, so that both survive a power cut."""
    _fsync_path(tmp)
    os.replace(tmp, final)
    _fsync_path(final.parent)


def _publish_version(index_dir: Path, manifest: dict[str, Any]) -> None:
    version = manifest["version"]
    tmp = index_dir / "versions" / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    _checkpoint("wrote:manifest.json")
    _publish_folder(tmp, index_dir / "versions" / version)
    _checkpoint("renamed")
    pointer = index_dir / f".CURRENT.{uuid.uuid4().hex}"
    pointer.write_text(version + "\n", encoding="utf-8")
    _fsync_path(pointer)
    _checkpoint("pointer-written")
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_path(index_dir)
    _checkpoint("replaced")


def _clean_old(index_dir: Path, live: str) -> None:
    """Drop versions beyond the last few, segments no kept version uses, and leftovers of crashes."""
    versions = index_dir / "versions"
    names = sorted(p.name for p in versions.iterdir() if p.is_dir() and p.name.startswith("v"))
    kept = names[-KEEP_VERSIONS:]
    if live not in kept:
        kept.append(live)
    for name in names:
        if name not in kept:
            _checkpoint("cleaning")
            shutil.rmtree(versions / name, ignore_errors=True)
    used: set[str] = set()
    cells: set[str] = set()
    for name in kept:
        try:
            manifest = _read_manifest(index_dir, name)
            used.update(s["name"] for s in manifest["segments"])
            if manifest.get("quantizer"):
                cells.add(manifest["quantizer"]["name"])
        except (OSError, ValueError, KeyError, TypeError):  # an edited manifest: its version is gone anyway
            continue
    for p in (index_dir / "segments").iterdir():
        if p.name.startswith(".tmp-") or (p.name.startswith("s") and p.name not in used):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_dir():
            for f in p.glob("lists-q*.npy"):
                if f.stem.removeprefix("lists-") not in cells:
                    f.unlink(missing_ok=True)
            for f in p.glob(".tmp-*"):
                f.unlink(missing_ok=True)
    if (index_dir / "quantizers").is_dir():
        for f in (index_dir / "quantizers").iterdir():
            if f.name.startswith(".tmp-") or f.stem not in cells:
                f.unlink(missing_ok=True)
    for p in versions.glob(".tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(".CURRENT.*"):
        p.unlink(missing_ok=True)


def _next_name(folder: Path, prefix: str) -> str:
    numbers = [int(p.stem[1:]) for p in folder.glob(f"{prefix}*") if p.stem[1:].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:06d}"


# ---------------------------------------------------------------------------- which files changed


class _FileCache:
    """Size and mtime of each indexed file: a file that kept both is not read again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._con = self._open()
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)  # only a cache: start it again
            self._con = self._open()

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path)
        con.execute(
            "CREATE TABLE IF NOT EXISTS files (source TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,"
            " content_hash TEXT)"
        )
        return con

    def get_many(self, sources: list[str] | None) -> dict[str, tuple[int, int, str]]:
        """Cached entries for these sources (all of them when None), in one query."""
        if sources is None:
            rows = self._con.execute("SELECT source, mtime_ns, size, content_hash FROM files").fetchall()
        else:
            rows = []
            for k in range(0, len(sources), 500):
                part = sources[k : k + 500]
                rows += self._con.execute(
                    f"SELECT source, mtime_ns, size, content_hash FROM files WHERE source IN ({','.join('?' * len(part))})",
                    part,
                ).fetchall()
        return {r[0]: (int(r[1]), int(r[2]), str(r[3])) for r in rows}

    def update(self, seen: dict[str, tuple[int, int, str]], gone: set[str]) -> None:
        with self._con:
            self._con.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", [(s, *v) for s, v in seen.items()]
            )
            self._con.executemany("DELETE FROM files WHERE source = ?", [(s,) for s in gone])

    def close(self) -> None:
        self._con.close()


# One live article as an update sees it: (segment position, local id, content hash, body hash).
_Entry = tuple[int, int, str, str]


class _Live:
    """The live version as an update needs it, read from the segments' small tables on demand."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.manifest: dict[str, Any] | None = None
        self.aliases: dict[str, tuple[str, str]] = {}  # duplicate file -> (file indexed, its content hash)
        self._cons: list[sqlite3.Connection] = []
        try:
            version = current_version(index_dir)
            if version is None:
                return
            manifest = _read_manifest(index_dir, version)
            for seg in manifest["segments"]:
                folder = index_dir / "segments" / seg["name"]
                _check_segment_files(folder)
                self._cons.append(sqlite3.connect(f"file:{folder / 'articles.sqlite'}?mode=ro", uri=True))
                # sqlite only notices a file that is no database at the first query: make that now.
                self._cons[-1].execute("SELECT id, source, content_hash, body_hash FROM articles LIMIT 1")
            self._deleted = [set(seg["deleted"]) for seg in manifest["segments"]]
            self.aliases = {k: (v[0], v[1]) for k, v in manifest.get("aliases", {}).items()}
            self.manifest = manifest
        except Exception:  # any damage at all (edited JSON gives TypeErrors too)
            # A damaged index is rebuilt from the files; nothing in it can be trusted for reuse.
            self.close()
            self.manifest, self.aliases, self._cons = None, {}, []

    def _rows(self, where: str, args: list[str]) -> dict[str, _Entry]:
        out: dict[str, _Entry] = {}
        for pos, con in enumerate(self._cons):
            for aid, source, chash, bhash in con.execute(
                f"SELECT id, source, content_hash, body_hash FROM articles {where}", args
            ):
                if aid not in self._deleted[pos]:
                    out[source] = (pos, aid, chash, bhash)
        return out

    def primaries(self, sources: list[str] | None = None) -> dict[str, _Entry]:
        """Live articles by file name: all of them, or those of the given names."""
        if sources is None:
            return self._rows("", [])
        out: dict[str, _Entry] = {}
        for k in range(0, len(sources), 500):
            part = sources[k : k + 500]
            out |= self._rows(f"WHERE source IN ({','.join('?' * len(part))})", part)
        return out

    def with_body(self, bhash: str) -> dict[str, _Entry]:
        """Live articles whose words hash to this."""
        return self._rows("WHERE body_hash = ?", [bhash])

    def counts(self, pos: int, ids: list[int]) -> tuple[int, int]:
        """Chunks and sentences of these articles of one segment."""
        row = (
            self._cons[pos]
            .execute(
                f"SELECT COALESCE(SUM(n_chunks), 0), COALESCE(SUM(n_sentences), 0) FROM articles"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def close(self) -> None:
        for con in self._cons:
            con.close()


def _scan(sources: Path) -> tuple[dict[str, tuple[Path, os.stat_result]], list[tuple[str, str]]]:
    """Every article file under the folder with its stat, in one pass of os.scandir, and the links skipped.

    A link to a folder is not followed: inside the sources folder its articles are indexed under their
    own names, and outside it nothing is read (it is listed as skipped). No folder is read twice. An article file that cannot be stat'ed
    (a link that loops or points nowhere) is listed with its link's own stat, so that reading it fails
    and the summary says why instead of the whole run failing.
    """
    found: dict[str, tuple[Path, os.stat_result]] = {}
    try:
        top = sources.stat()
        stack = [("", list(os.scandir(sources)))]
    except OSError as exc:
        raise SourcesError(f"Cannot read the sources folder {sources} ({exc.strerror or exc}).") from exc
    inside = os.path.join(os.path.realpath(sources), "")
    seen = {(top.st_dev, top.st_ino)}
    outside: list[tuple[str, str]] = []
    while stack:
        prefix, entries = stack.pop()
        for entry in entries:
            if entry.name.startswith("."):
                continue
            name = prefix + entry.name
            is_article = os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES
            try:
                if entry.is_dir():
                    if entry.is_symlink():
                        target = os.path.join(os.path.realpath(entry.path), "")
                        if not target.startswith(inside):
                            # Never walked: a link to / would read the whole machine.
                            outside.append(
                                (f"{name}/", "it is a link to a folder outside the sources folder")
                            )
                        continue
                    st = entry.stat()
                    if (st.st_dev, st.st_ino) not in seen:
                        seen.add((st.st_dev, st.st_ino))
                        stack.append((f"{name}/", list(os.scandir(entry.path))))
                    continue
                if is_article and entry.is_file():
                    found[name] = (Path(entry.path), entry.stat())
                    continue
            except OSError:
                pass  # a looping link, or a file or folder that vanished or can't be read
            with contextlib.suppress(OSError):
                if is_article and entry.is_symlink():
                    found[name] = (Path(entry.path), entry.stat(follow_symlinks=False))
    return dict(sorted(found.items())), outside


def _check_sources(sources: Path) -> None:
    if not sources.exists():
        raise SourcesError(f"The sources folder {sources} does not exist.")
    if not sources.is_dir():
        raise SourcesError(f"The sources path {sources} is not a folder.")


def list_sources(sources: Path) -> list[Path]:
    """The article files under the sources folder, in a stable order."""
    _check_sources(sources)
    return [path for path, _ in _scan(sources)[0].values()]


def body_hash(article: Article) -> str:
    """A hash of the article's words alone, so a copy that differs only in page furniture matches."""
    import hashlib

    words = " ".join(" ".join(article.text[p.start : p.end].lower().split()) for p in article.paragraphs)
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- building


def build_index(
    sources: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    paths: list[Path] | None = None,
) -> IndexSummary:
    """Bring the index up to date (see _update_index); a failed write raises IndexError_, old version live."""
    try:
        return _update_index(
            sources, index_dir, embedder, rebuild=rebuild, wait=wait, progress=progress, paths=paths
        )
    except (OSError, sqlite3.Error) as exc:  # a full disk, an unwritable folder
        raise _write_failed(index_dir, exc) from exc


def _update_index(
    sources: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    paths: list[Path] | None = None,
) -> IndexSummary:
    """Bring the index up to date with the files under `sources` as a new version and make it live.

    With `paths`, only those files are looked at (a watcher knows what changed); the cost then
    depends on them alone, not on the size of the corpus.
    """
    started = time.perf_counter()
    _check_sources(sources)
    with index_lock(index_dir, wait=wait):
        for sub in ("versions", "segments"):
            (index_dir / sub).mkdir(parents=True, exist_ok=True)
        live = _Live(index_dir)
        cache = _FileCache(index_dir / "filecache.sqlite")
        try:
            m = live.manifest
            reusable = (
                m is not None
                and not rebuild
                and m.get("embedding_model") == embedder.name
                and m.get("chunker") == CHUNKER_VERSION
            )
            targeted = paths is not None and reusable
            if targeted:
                names = sorted({n for p in paths or [] if (n := _source_name(sources, p)) is not None})
                on_disk = {n: (sources / n, (sources / n).stat()) for n in names if (sources / n).is_file()}
            else:
                names, (on_disk, outside) = None, _scan(sources)
            plan = _plan(sources, on_disk, names, live, reusable, cache, progress)
            if not targeted:
                plan.skipped.extend(outside)
            _checkpoint("read")
            # --- h15 (issue 15): a run that changes nothing keeps the live version instead of writing an
            # identical new one (and makes every running bot and REPL reload it for nothing).
            if (
                m is not None
                and reusable
                and not (plan.added or plan.deleted or plan.new or plan.changed or plan.removed)
                and not plan.unaliased
                and all(live.aliases.get(k) == v for k, v in plan.aliases.items())
            ):
                cache.update(plan.stats, plan.removed)
                return IndexSummary(
                    version=str(m["version"]),
                    articles=int(m["articles"]),
                    chunks=int(m["chunks"]),
                    sentences=int(m["sentences"]),
                    seconds=time.perf_counter() - started,
                    embedded_articles=0,
                    reused_articles=int(m["articles"]),
                    skipped=plan.skipped,
                )
            # --- end h15
            if m is not None and reusable:
                segments = [dict(s, deleted=list(s["deleted"])) for s in m["segments"]]
                totals = {k: int(m[k]) for k in ("articles", "chunks", "sentences")}
            else:
                segments, totals = [], {"articles": 0, "chunks": 0, "sentences": 0}
            by_segment: dict[int, list[int]] = {}
            for pos, aid in plan.deleted:
                by_segment.setdefault(pos, []).append(aid)
            for pos, ids in by_segment.items():
                n_chunks, n_sents = live.counts(pos, ids)
                totals["articles"] -= len(ids)
                totals["chunks"] -= n_chunks
                totals["sentences"] -= n_sents
                segments[pos]["deleted"] = sorted({*segments[pos]["deleted"], *ids})
            segments = [s for s in segments if _live_count(index_dir, s) > 0]
            if plan.added:
                data = _embed_articles(plan.added, embedder, progress)
                _checkpoint("embedded")
                segments.append({"name": _write_new_segment(index_dir, embedder, data), "deleted": []})
                totals["articles"] += len(data.articles)
                totals["chunks"] += len(data.chunks)
                totals["sentences"] += len(data.sentences)
            if totals["articles"] <= 0:
                detail = f" ({len(plan.skipped)} skipped: {plan.skipped[0][1]}…)" if plan.skipped else ""
                raise SourcesError(f"No readable .txt or .md articles in {sources}{detail}.")
            segments = _compact(index_dir, segments, embedder)
            quantizer = _update_quantizer(
                index_dir,
                segments,
                totals["chunks"],
                m.get("quantizer") if m and reusable else None,
                embedder.dim,
            )
            aliases = dict(live.aliases) if reusable else {}
            for gone in plan.removed | plan.unaliased:
                aliases.pop(gone, None)
            aliases.update(plan.aliases)
            version = _next_name(index_dir / "versions", "v")
            manifest = {
                "format": FORMAT_VERSION,
                "version": version,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "embedding_model": embedder.name,
                "dim": embedder.dim,
                "chunker": CHUNKER_VERSION,
                "segments": segments,
                "aliases": {k: list(v) for k, v in sorted(aliases.items())},
                **totals,
            }
            if quantizer:
                manifest["quantizer"] = quantizer
            _publish_version(index_dir, manifest)
            _clean_old(index_dir, version)
            cache.update(plan.stats, plan.removed)
        except Exception:
            # Under the lock, so that no other indexer's files are taken for leftovers.
            _remove_partial_files(index_dir)
            raise
        finally:
            cache.close()
            live.close()

    return IndexSummary(
        version=version,
        articles=totals["articles"],
        chunks=totals["chunks"],
        sentences=totals["sentences"],
        seconds=time.perf_counter() - started,
        embedded_articles=len(plan.added),
        reused_articles=totals["articles"] - len(plan.added),
        new=sorted(plan.new),
        changed=sorted(plan.changed),
        removed=sorted(plan.removed),
        skipped=plan.skipped,
        duplicates=sorted((k, v[0]) for k, v in plan.aliases.items() if k in plan.new or k in plan.changed),
    )


def _source_name(sources: Path, path: Path) -> str | None:
    """The file's name relative to the sources folder, or None if it is no article file in it."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(sources))
    except ValueError:
        return None
    if rel.suffix.lower() not in ARTICLE_SUFFIXES or any(part.startswith(".") for part in rel.parts):
        return None
    return rel.as_posix()


@dataclass
class _Plan:
    added: list[Article] = field(default_factory=list)  # articles to embed into a new segment
    deleted: list[tuple[int, int]] = field(default_factory=list)  # (segment position, local id)
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # duplicates found or confirmed now
    unaliased: set[str] = field(default_factory=set)  # files that stopped being duplicates
    new: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, tuple[int, int, str]] = field(default_factory=dict)


def _plan(
    sources: Path,
    on_disk: dict[str, tuple[Path, os.stat_result]],
    names: list[str] | None,
    live: _Live,
    reusable: bool,
    cache: _FileCache,
    progress: Progress | None,
) -> _Plan:
    """Decide, file by file, what stays, what is embedded anew, what is deleted and what duplicates what.

    `names` limits the look to those files (None: every file under the folder).
    """
    plan = _Plan()
    primaries = live.primaries(names)
    aliases = live.aliases if names is None else {n: live.aliases[n] for n in names if n in live.aliases}
    known = {s: v[2] for s, v in primaries.items()} | {s: v[1] for s, v in aliases.items()}
    plan.removed = {s for s in known if s not in on_disk}
    cached = cache.get_many(names)
    leaving = set(plan.removed)  # live articles that will not be in the new version
    fresh: list[tuple[str, Article, str]] = []
    for i, (source, (path, st)) in enumerate(on_disk.items()):
        if progress:
            progress("read", i, len(on_disk))
        # A link is always read again: where it points is checked on every read, not just the first.
        if (
            reusable
            and source in known
            and cached.get(source) == (st.st_mtime_ns, st.st_size, known[source])
            and not path.is_symlink()
        ):
            continue
        try:
            article = read_article(path, source, root=sources)
        except ArticleError as exc:
            # What an outside link pointed to is never kept, even if an older usru indexed it.
            if reusable and source in primaries and not isinstance(exc, OutsideLinkError):
                plan.skipped.append((source, f"{exc}; kept the version indexed before"))
            else:
                plan.skipped.append((source, str(exc)))
                if reusable and source in primaries:
                    plan.removed.add(source)
                    leaving.add(source)
                if source in aliases:
                    plan.unaliased.add(source)
                    plan.removed.add(source)
            continue
        plan.stats[source] = (st.st_mtime_ns, st.st_size, article.content_hash)
        if source not in known:
            plan.new.add(source)
        elif known[source] != article.content_hash:
            plan.changed.add(source)
        elif reusable:
            continue
        if source in primaries:
            leaving.add(source)
        if source in aliases:
            plan.unaliased.add(source)
        fresh.append((source, article, body_hash(article)))
    bodies: dict[str, str] = {}
    for source, article, bhash in fresh:
        owner = bodies.get(bhash)
        if owner is None and reusable:
            owner = next((s for s in live.with_body(bhash) if s not in leaving), None)
        if owner is not None and owner != source:
            plan.aliases[source] = (owner, article.content_hash)
            continue
        bodies[bhash] = source
        plan.added.append(article)
    if reusable:
        plan.deleted = [(primaries[s][0], primaries[s][1]) for s in leaving if s in primaries]
        # A duplicate whose article leaves the index comes back as an article of its own.
        added = {a.source for a in plan.added}
        for alias, (primary, _) in list(live.aliases.items()):
            if primary in leaving and primary not in added and alias not in plan.removed | plan.unaliased:
                if alias in plan.aliases or not (sources / alias).is_file():
                    continue
                plan.unaliased.add(alias)
                plan.added.append(read_article(sources / alias, alias, root=sources))
    return plan


def _live_count(index_dir: Path, seg: dict[str, Any]) -> int:
    meta = json.loads((index_dir / "segments" / seg["name"] / "segment.json").read_text("utf-8"))
    return int(meta["articles"]) - len(seg["deleted"])


def _embed_articles(articles: list[Article], embedder: Embedder, progress: Progress | None) -> _Data:
    """Chunk, embed and word-index articles into the parts of one new segment."""
    chunk_rows: list[tuple[int, int, int, int, int]] = []
    sentence_rows: list[tuple[int, int, int, int]] = []
    chunk_texts: list[str] = []
    for aid, article in enumerate(articles):
        for chunk in chunk_article(article):
            lo = len(sentence_rows)
            for s in chunk.sentences:
                sentence_rows.append((aid, s.start, s.end, int(s.quotable)))
            chunk_rows.append((aid, chunk.start, chunk.end, lo, len(sentence_rows)))
            chunk_texts.append(indexed_text(article, chunk))
    chunks = np.asarray(chunk_rows, dtype=np.int64).reshape(-1, 5)
    sentences = np.asarray(sentence_rows, dtype=np.int64).reshape(-1, 4)
    sentence_texts = [articles[int(r[0])].text[int(r[1]) : int(r[2])] for r in sentences]
    texts = chunk_texts + sentence_texts
    vecs = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    # Shortest first, so each batch pads to a similar length: sentences are a third of a chunk's size.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    block = 256
    for k in range(0, len(texts), block):
        ids = order[k : k + block]
        vecs[ids] = embedder.embed_documents([texts[i] for i in ids])
        if progress:
            progress("embed", min(k + block, len(texts)), len(texts))
    stored = [
        StoredArticle(i, a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.text, body_hash(a))
        for i, a in enumerate(articles)
    ]
    return _Data(
        stored,
        chunks,
        sentences,
        vecs[: len(chunks)],
        vecs[len(chunks) :],
        Bm25.build([tokenize(t) for t in chunk_texts]),
    )


def _write_new_segment(index_dir: Path, embedder: Embedder, data: _Data) -> str:
    segments = index_dir / "segments"
    name = _next_name(segments, "s")
    tmp = segments / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    _write_segment(tmp, name, embedder.name, embedder.dim, data)
    _publish_folder(tmp, segments / name)
    _checkpoint("fsynced")
    return name


def _compact(index_dir: Path, segments: list[dict[str, Any]], embedder: Embedder) -> list[dict[str, Any]]:
    """Merge the small segments once there are too many, leaving a dominant large one alone.

    Each article is merged again only when the small segments together outgrow the large one, so
    the merging work per added article stays bounded as the corpus grows.
    """
    if len(segments) <= MAX_SEGMENTS:
        return segments
    sizes = [_live_count(index_dir, s) for s in segments]
    big = max(range(len(segments)), key=lambda i: sizes[i])
    rest = [i for i in range(len(segments)) if i != big]
    chosen = rest if sizes[big] * 2 >= sum(sizes) else list(range(len(segments)))
    parts = [
        (
            _read_segment(index_dir / "segments" / segments[i]["name"], embedder.dim),
            set(segments[i]["deleted"]),
        )
        for i in chosen
    ]
    merged = _write_new_segment(index_dir, embedder, _merge(parts, embedder.dim))
    kept = [s for i, s in enumerate(segments) if i not in chosen]
    return [*kept, {"name": merged, "deleted": []}]
