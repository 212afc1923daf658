"""The segment format: one immutable folder of articles, chunks, sentences, vectors and BM25.

A segment holds segment.json (format, counts, file sizes), articles.sqlite, chunks.faiss, chunks.npy,
sentences.npy, sentence_vecs.npy and the BM25 files. Arrays are read with allow_pickle=False only.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.chunking import CHUNKER_VERSION
from retrieval.embedding import Vectors
from retrieval.index import durability
from retrieval.index.chunk_vectors import ChunkVectorFile, write_chunk_vectors
from retrieval.index.digest import sampled_digest
from retrieval.index.durability import FORMAT_VERSION
from retrieval.index.records import (
    ChunkCol,
    ChunkTable,
    IntArray,
    SentenceCol,
    SentenceTable,
    StoredArticle,
    renumbered,
)
from retrieval.index.rows import RowStack
from retrieval.index.texts import RecentTexts, SegmentTexts
from retrieval.lexical import Bm25

GATHER_ROWS = 16_384  # vectors copied at a time while merging segments (24 MiB at 384 floats)


@dataclass
class SegmentData:
    """Articles, chunks, sentences, vectors and BM25 of one segment or of several merged."""

    articles: list[StoredArticle]
    chunks: ChunkTable
    sentences: SentenceTable
    chunk_vecs: Vectors
    sentence_vecs: Vectors
    bm25: Bm25
    chunk_lists: IntArray | None = None  # each chunk's IVF cell, once the corpus is big enough for IVF


def _load_array(path: Path, dtype: type[np.generic], width: int, mmap: bool = False) -> Any:
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        # numpy's own message advises loading the file "unsafely"; a user must only ever rebuild.
        raise ValueError(f"{path.name} is not an array file usru wrote") from exc
    if arr.ndim != 2 or (len(arr) and arr.shape[1] != width):
        raise ValueError(f"{path.name} has the wrong shape")
    return arr.astype(dtype, copy=False)


def _read_articles(path: Path) -> list[StoredArticle]:
    if not path.is_file():
        raise FileNotFoundError(path)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in con.execute("PRAGMA table_info(articles)")}
        # Segments written before leanings were stored have no such column: their leanings are unknown.
        leaning = "leaning" if "leaning" in columns else "NULL"
        rows = con.execute(
            "SELECT id, source, title, publisher, date, url, content_hash, text, body_hash,"
            f" {leaning} FROM articles ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    articles = [StoredArticle(*row) for row in rows]
    if any(a.id != i for i, a in enumerate(articles)):
        raise ValueError("article ids are not contiguous")
    return articles


def check_segment_files(folder: Path, contents: bool = False) -> dict[str, Any]:
    """The segment's metadata, once every file it lists is there at its recorded size.

    With `contents`, each file's sampled digest is checked too (digest.py; segments written before they
    were recorded have none): a same-size garbage file passes the size check. `usru index` asks for it
    before it reuses a segment.
    """
    if folder.is_symlink():
        raise ValueError(f"segments/{folder.name} is a link, not a folder usru wrote")
    meta: dict[str, Any] = json.loads((folder / "segment.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError("it was written by another version of usru")
    for name, size in meta["files"].items():
        if (folder / name).stat().st_size != size:
            raise ValueError(f"{name} is truncated or was changed")
    if contents:
        for name, digest in meta.get("sampled_sha256", {}).items():
            if sampled_digest(folder / name) != digest:
                raise ValueError(f"{name} was changed")
    return meta


def read_chunk_vectors(folder: Path, dim: int) -> Vectors:
    """The chunk vectors of a segment, as stored in its chunks.faiss."""
    import faiss

    index = faiss.read_index(str(folder / "chunks.faiss"))
    if index.d != dim:
        raise ValueError("its parts disagree in size")
    vecs: Vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), np.float32)
    return vecs


def read_segment(
    folder: Path,
    dim: int,
    mmap: bool = False,
    lazy: bool = False,
    recent: RecentTexts | None = None,
    article_rows: list[list[Any]] | None = None,
    postings: bool = True,
) -> SegmentData:
    """One segment, checked: every part agrees with the others and with segment.json.

    With `mmap`, the sentence and chunk vectors are mapped from their files (read-only), not read into
    memory.
    With `lazy`, the texts are read from articles.sqlite when asked for (texts.py; `recent` keeps
    those last read, shared by a version's segments) and the chunk vectors are left out (empty), for
    the caller to read from chunks.faiss (view.py, chunk_vectors.py); `article_rows`, as the version
    stored them (article_table.py), stand for the articles' metadata and text lengths.
    Without `postings` (the version's merged postings stand for them, merged_bm25.py), its BM25 holds
    only the chunks' lengths, for the checks below: its vocabulary and postings are not read.
    """
    meta = check_segment_files(folder)
    if lazy:
        articles, text_lengths = SegmentTexts(folder / "articles.sqlite", recent).articles(article_rows)
        if any(a.id != i for i, a in enumerate(articles)):
            raise ValueError("article ids are not contiguous")
    else:
        articles = _read_articles(folder / "articles.sqlite")
        text_lengths = [len(a.text) for a in articles]
    chunks = ChunkTable(_load_array(folder / "chunks.npy", np.int64, ChunkTable.WIDTH))
    sentences = SentenceTable(_load_array(folder / "sentences.npy", np.int64, SentenceTable.WIDTH))
    sentence_vecs = _load_array(folder / "sentence_vecs.npy", np.float32, dim, mmap)
    try:
        # Mapped when loading a version: its merged postings are usually stored (merged_bm25.py).
        if postings:
            bm25 = Bm25.load(folder, mmap=lazy)
        else:
            lens = np.load(folder / "bm25_doc_lens.npy", mmap_mode="r", allow_pickle=False)
            none = np.zeros(0, np.int64)
            bm25 = Bm25({}, none, none.astype(np.int32), none.astype(np.float32), lens.astype(np.float32))
    except ValueError as exc:  # the same numpy advice, or a JSON parser's position
        raise ValueError("its word statistics (bm25_*) are not files usru wrote") from exc
    if lazy:
        chunk_vecs: Any = np.zeros((0, dim), np.float32)
    elif mmap:
        chunk_vecs = ChunkVectorFile(folder / "chunks.faiss", dim).by_row()
    else:
        chunk_vecs = read_chunk_vectors(folder, dim)
    lengths = np.array([*text_lengths, 0], dtype=np.int64)
    if (
        len(sentence_vecs) != len(sentences)
        or bm25.n_docs != len(chunks)
        or (not lazy and len(chunk_vecs) != len(chunks))
        or (meta["articles"], meta["chunks"], meta["sentences"])
        != (len(articles), len(chunks), len(sentences))
        or (
            len(chunks)
            and (
                chunks.article.max() >= len(articles)
                or chunks.column(ChunkCol.END_SENTENCE).max() > len(sentences)
            )
        )
        or (len(sentences) and (sentences.article.max() >= len(articles)))
        or (len(sentences) and bool((sentences.end > lengths[sentences.article]).any()))
    ):
        raise ValueError("its parts disagree in size")
    return SegmentData(articles, chunks, sentences, chunk_vecs, sentence_vecs, bm25)


def merge(
    parts: list[tuple[SegmentData, set[int]]], dim: int, vectors: bool = True, bm25: Bm25 | None = None
) -> SegmentData:
    """One view of several segments without their deleted articles, renumbered from 0.

    Without `vectors`, the vectors are left out (empty): a loaded version reads them in place (view.py).
    With `bm25` (their postings merged already, as stored with a version), they are not merged again.
    """
    if len(parts) == 1 and not parts[0][1]:
        if vectors:
            return parts[0][0]
        empty = np.zeros((0, dim), np.float32)
        only = parts[0][0]
        return replace(only, chunk_vecs=empty, sentence_vecs=empty, chunk_lists=None, bm25=bm25 or only.bm25)
    C, S = ChunkCol, SentenceCol
    articles: list[StoredArticle] = []
    chunks: list[IntArray] = []
    sentences: list[IntArray] = []
    cvecs: list[tuple[Vectors, IntArray | None]] = []
    svecs: list[tuple[Vectors, IntArray | None]] = []
    bm25_parts: list[tuple[Bm25, npt.NDArray[np.bool_]]] = []
    lists: list[IntArray] = []
    for data, deleted in parts:
        keep = np.array([a.id not in deleted for a in data.articles], dtype=bool)
        art_map = np.full(len(data.articles), -1, dtype=np.int64)
        art_map[keep] = len(articles) + np.arange(int(keep.sum()))
        for a in data.articles:
            if a.id not in deleted:
                articles.append(renumbered(a, int(art_map[a.id])))
        s_keep = keep[data.sentences.article] if len(data.sentences) else np.zeros(0, bool)
        s_base = sum(len(s) for s in sentences)
        s_map = np.full(len(data.sentences) + 1, -1, dtype=np.int64)
        s_map[:-1][s_keep] = s_base + np.arange(int(s_keep.sum()))
        c_keep = keep[data.chunks.article] if len(data.chunks) else np.zeros(0, bool)
        c = _kept(data.chunks.rows, c_keep)
        if len(c):
            c[:, C.ARTICLE] = art_map[c[:, C.ARTICLE]]
            # A chunk's sentences are contiguous and kept together.
            c[:, C.END_SENTENCE] = s_map[c[:, C.END_SENTENCE] - 1] + 1
            c[:, C.FIRST_SENTENCE] = s_map[c[:, C.FIRST_SENTENCE]]
        s = _kept(data.sentences.rows, s_keep)
        if len(s):
            s[:, S.ARTICLE] = art_map[s[:, S.ARTICLE]]
        chunks.append(c)
        sentences.append(s)
        if vectors:
            cvecs.append((data.chunk_vecs, None if c_keep.all() else np.flatnonzero(c_keep)))
            svecs.append((data.sentence_vecs, None if s_keep.all() else np.flatnonzero(s_keep)))
            if data.chunk_lists is not None:
                lists.append(data.chunk_lists[c_keep])
        bm25_parts.append((data.bm25, c_keep))
    return SegmentData(
        articles,
        ChunkTable(np.concatenate(chunks) if chunks else None),
        SentenceTable(np.concatenate(sentences) if sentences else None),
        _gather(cvecs, dim) if vectors else np.zeros((0, dim), np.float32),
        _gather(svecs, dim) if vectors else np.zeros((0, dim), np.float32),
        bm25 if bm25 is not None else Bm25.merge(bm25_parts),
        np.concatenate(lists) if lists and len(lists) == len(parts) else None,
    )


def _kept(rows: IntArray, keep: npt.NDArray[np.bool_]) -> IntArray:
    """A copy of the kept rows (a mask copies already; all kept, a plain copy is ~10 times faster)."""
    out: IntArray = rows.copy() if keep.all() else rows[keep]
    return out


def _gather(parts: list[tuple[Vectors, IntArray | None]], dim: int) -> Vectors:
    """The kept rows of each part, in order, in one new array filled a block at a time.

    Compaction reads its segments' vectors mapped (the sentence vectors of 4,000 AllSides articles:
    about 280 MiB): the rows are copied once into the result and each block's pages let go (rows.py),
    instead of a copy of each part and then their concatenation (issue 13).
    """
    stack = RowStack(parts, dim)
    out: Vectors = np.empty((len(stack), dim), dtype=np.float32)
    for lo in range(0, len(stack), GATHER_ROWS):
        hi = min(lo + GATHER_ROWS, len(stack))
        out[lo:hi] = stack.take(np.arange(lo, hi, dtype=np.int64))
    return out


def write_segment(folder: Path, name: str, embedder_name: str, dim: int, data: SegmentData) -> None:
    """Write every file of a segment into `folder` (a temporary one, renamed once complete)."""
    for fname, arr in (
        ("chunks.npy", data.chunks.rows),
        ("sentences.npy", data.sentences.rows),
        ("sentence_vecs.npy", data.sentence_vecs),
    ):
        with (folder / fname).open("wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        durability.checkpoint(f"wrote:{fname}")
    write_chunk_vectors(folder / "chunks.faiss", data.chunk_vecs, dim)
    durability.checkpoint("wrote:chunks.faiss")
    data.bm25.save(folder)
    durability.checkpoint("wrote:bm25")
    _write_articles(folder / "articles.sqlite", data)
    durability.checkpoint("wrote:articles.sqlite")
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
        # Contents, for an update to notice a file changed at the same size before reusing it.
        "sampled_sha256": {f.name: sampled_digest(f) for f in sorted(folder.iterdir())},
    }
    (folder / "segment.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    durability.checkpoint("wrote:segment.json")


def _write_articles(path: Path, data: SegmentData) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT,"
            " publisher TEXT, date TEXT, url TEXT, content_hash TEXT NOT NULL, text TEXT NOT NULL,"
            " body_hash TEXT NOT NULL, n_chunks INTEGER NOT NULL, n_sentences INTEGER NOT NULL, leaning TEXT)"
        )
        # Looked up by an update to find a duplicate without reading every article.
        con.execute("CREATE INDEX articles_body ON articles (body_hash)")
        n = len(data.articles)
        n_chunks = (
            np.bincount(data.chunks.article, minlength=n) if len(data.chunks) else np.zeros(n, np.int64)
        )
        n_sents = (
            np.bincount(data.sentences.article, minlength=n) if len(data.sentences) else np.zeros(n, np.int64)
        )
        con.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    a.leaning,
                )
                for i, a in enumerate(data.articles)
            ],
        )
        con.commit()
    finally:
        con.close()
