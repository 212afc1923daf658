"""The loaded index: one immutable version's segments merged into one view that answering reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.answer import one_line
from retrieval.article import stored_content_hash
from retrieval.embedding import Vectors
from retrieval.errors import IndexError_
from retrieval.index.article_table import read_article_rows
from retrieval.index.chunk_search import ChunkSearch
from retrieval.index.chunk_vectors import ChunkVectorFile
from retrieval.index.durability import current_version, read_manifest
from retrieval.index.ivf import read_lists, read_quantizer
from retrieval.index.merged_bm25 import read_merged_bm25
from retrieval.index.records import ArticleInfo, IndexStats, IntArray, StoredArticle, list_article_infos
from retrieval.index.rows import RowStack
from retrieval.index.segments import merge, read_segment
from retrieval.index.sentence_ann import SentenceAnn
from retrieval.index.sentence_terms import SentenceTerms, weak_text_of
from retrieval.index.stored_ivf import read_stored_ivf
from retrieval.index.texts import RecentTexts
from retrieval.vector_index import VectorIndexBuilder

# Up to this many admitted chunks a filtered search scores each exactly; past it faiss filters by id.
EXACT_FILTERED = 50_000


class Index:
    """One loaded, immutable index version: its segments merged into one view."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any]) -> None:
        self.folder = index_dir / "versions" / manifest["version"]
        self.manifest = manifest
        self.version: str = manifest["version"]
        dim = int(manifest["dim"])
        # The IVF filled when the version was written, mapped from its file (stored_ivf.py), if it was.
        stored_ivf = read_stored_ivf(self.folder, manifest)
        quantizer = None if stored_ivf else read_quantizer(index_dir, manifest.get("quantizer"), dim)
        # Vectors are not merged like the rest: the sentence vectors stay in their files (rows.py), the
        # chunk vectors are read a block at a time into the search index (float16 once it is IVF,
        # chunk_search.py) and stay in their files for exact scores; the texts stay in their SQLite
        # files (texts.py). So loading a large version never holds two copies of anything big (issue 13).
        parts = []
        sentence_parts: list[tuple[Vectors, IntArray | None]] = []
        chunk_parts: list[tuple[Vectors, IntArray | None]] = []
        filling: list[tuple[ChunkVectorFile, npt.NDArray[np.bool_], IntArray | None]] = []
        folders: list[Path] = []
        recent = RecentTexts()
        stored_rows = read_article_rows(self.folder, manifest)  # article_table.py
        # The postings merged when the version was written, if they were (merged_bm25.py).
        stored = read_merged_bm25(self.folder, manifest)
        for s in manifest["segments"]:
            folder = index_dir / "segments" / s["name"]
            folders.append(folder)
            rows = stored_rows.get(s["name"])
            data = read_segment(
                folder, dim, mmap=True, lazy=True, recent=recent, article_rows=rows, postings=stored is None
            )
            vecs = ChunkVectorFile(folder / "chunks.faiss", dim)
            if vecs.rows != len(data.chunks):
                raise ValueError("its parts disagree in size")
            deleted = set(s["deleted"])
            keep = np.array([a.id not in deleted for a in data.articles], dtype=bool)
            c_keep = keep[data.chunks.article] if len(data.chunks) else np.zeros(0, bool)
            rows = vecs.by_row()
            if stored_ivf is None:
                lists = read_lists(folder, quantizer[0], quantizer[1], rows) if quantizer else None
                filling.append((vecs, c_keep, None if lists is None else lists[c_keep]))
            chunk_parts.append((rows, None if c_keep.all() else np.flatnonzero(c_keep)))
            s_keep = None if keep.all() else np.flatnonzero(keep[data.sentences.article])
            sentence_parts.append((data.sentence_vecs, s_keep))
            data.chunk_vecs = data.sentence_vecs = np.zeros((0, dim), np.float32)
            parts.append((data, deleted))
        data = merge(parts, dim, vectors=False, bm25=stored)
        del parts
        self.articles = data.articles
        self.chunks = data.chunks
        self.sentences = data.sentences
        self.sentence_vecs = RowStack(sentence_parts, dim)
        # Past the exact scan, the sentence channel searches cells filed on disk (sentence_ann.py).
        self.sentence_ann = SentenceAnn.of(index_dir, manifest, folders, sentence_parts, self.sentence_vecs)
        self.bm25 = data.bm25
        if self.bm25.n_docs != len(self.chunks):
            raise ValueError("its parts disagree in size")
        del data
        if stored_ivf is not None:
            self.faiss, max_norm = stored_ivf
        else:
            self.faiss, max_norm = _fill(dim, quantizer[1] if quantizer else None, filling)
        self.max_norm = max_norm
        ivf = stored_ivf is not None or quantizer is not None
        self.chunk_vecs = RowStack(chunk_parts, dim)
        self._search = ChunkSearch(self.faiss, self.chunk_vecs, ivf, max_norm)
        if len(self.sentence_vecs) != len(self.sentences) or self.faiss.ntotal != len(self.chunks):
            raise ValueError("its parts disagree in size")
        if (manifest["articles"], manifest["chunks"], manifest["sentences"]) != (
            len(self.articles),
            len(self.chunks),
            len(self.sentences),
        ):
            raise ValueError("its parts disagree in size")
        self._by_source = {a.source: a for a in self.articles}
        self._terms = SentenceTerms(weak_text_of(self))
        self._intact: set[int] = set()
        self.aliases: dict[str, list[str]] = {}
        for alias, (primary, _) in sorted(manifest.get("aliases", {}).items()):
            self.aliases.setdefault(primary, []).append(alias)

    @property
    def embedding_model(self) -> str | None:
        """The name of the model the version's vectors were made with."""
        name = self.manifest.get("embedding_model")
        return str(name) if name is not None else None

    def search_vectors(
        self, qvecs: Vectors, depth: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The `depth` nearest chunks to each query vector: (scores, chunk ids), -1 where none.

        With `allowed`, only those chunk ids are candidates (the articles a filter admits).
        """
        if allowed is None:
            return self._search.search(qvecs, depth)
        if len(allowed) <= EXACT_FILTERED:
            # Few chunks pass the filters: scoring each exactly is cheap and misses none.
            sims = qvecs @ self._search.vectors(allowed).T
            top = np.argsort(-sims, axis=1, kind="stable")[:, :depth]
            return np.take_along_axis(sims, top, axis=1).astype(np.float32), allowed[top]
        import faiss

        selector = faiss.IDSelectorBatch(allowed)  # kept referenced until the search is done
        params: Any
        if isinstance(self.faiss, faiss.IndexIVF):
            params = faiss.SearchParametersIVF()
            params.nprobe = self.faiss.nprobe
        else:
            params = faiss.SearchParameters()
        params.sel = selector
        return self._search.search(qvecs, depth, params=params)

    def chunk_vector(self, chunk_id: int) -> Vectors:
        """The stored vector of one chunk."""
        return self.chunk_vecs.row(chunk_id)

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
        return self._terms.get(sentence_id)

    def article_by_source(self, source: str) -> StoredArticle | None:
        """The article indexed from this file name (or from a duplicate of it), if any."""
        found = self._by_source.get(source)
        if found is None:
            primary = self.manifest.get("aliases", {}).get(source)
            found = self._by_source.get(primary[0]) if primary else None
        return found

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article with its chunk count and the other files holding the same article."""
        return list_article_infos(self.articles, self.chunks, self.aliases)

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


def _fill(
    dim: int, quantizer: Any, parts: list[tuple[ChunkVectorFile, npt.NDArray[np.bool_], IntArray | None]]
) -> tuple[Any, float]:
    """The search index over the kept chunk vectors of each segment, read a block at a time.

    Returns it with the largest vector norm (what bounds a float16 score's error).
    """
    builder = VectorIndexBuilder(dim, quantizer, half=True)
    if quantizer is not None:
        kept = [lists for _, _, lists in parts if lists is not None]
        if kept:
            builder.reserve(np.bincount(np.concatenate(kept), minlength=int(quantizer.ntotal)))
    max_sq = 0.0
    for vecs, c_keep, lists in parts:
        taken = 0
        for lo, block in vecs.blocks():
            mine = c_keep[lo : lo + len(block)]
            if not mine.all():
                block = block[mine]
            if len(block):
                max_sq = max(max_sq, float(np.einsum("ij,ij->i", block, block).max()))
            builder.add(block, None if lists is None else lists[taken : taken + len(block)])
            taken += len(block)
    return builder.finish(direct_map=False), float(np.sqrt(max_sq))


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
        return Index(index_dir, read_manifest(index_dir, version))
    except Exception as exc:
        raise _damaged(index_dir, exc) from exc
