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
from retrieval.index.durability import current_version, read_manifest
from retrieval.index.ivf import read_lists, read_quantizer
from retrieval.index.records import ArticleInfo, IndexStats, IntArray, StoredArticle, list_article_infos
from retrieval.index.rows import RowStack
from retrieval.index.segments import merge, read_segment
from retrieval.lexical import tokenize
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
        quantizer = read_quantizer(index_dir, manifest.get("quantizer"), dim)
        # Vectors are not merged like the rest: the sentence vectors stay in their files (rows.py) and
        # the chunk vectors go into the search index one segment at a time, so loading a large version
        # never holds two copies of either (issue 13).
        builder = VectorIndexBuilder(dim, quantizer[1] if quantizer else None)
        parts = []
        sentence_parts: list[tuple[Vectors, IntArray | None]] = []
        for s in manifest["segments"]:
            folder = index_dir / "segments" / s["name"]
            data = read_segment(folder, dim, mmap=True)
            deleted = set(s["deleted"])
            keep = np.array([a.id not in deleted for a in data.articles], dtype=bool)
            c_keep = keep[data.chunks.article] if len(data.chunks) else np.zeros(0, bool)
            lists = read_lists(folder, quantizer[0], quantizer[1], data.chunk_vecs) if quantizer else None
            whole = bool(c_keep.all())
            builder.add(
                data.chunk_vecs if whole else data.chunk_vecs[c_keep],
                None if lists is None else lists if whole else lists[c_keep],
            )
            s_keep = None if keep.all() else np.flatnonzero(keep[data.sentences.article])
            sentence_parts.append((data.sentence_vecs, s_keep))
            data.chunk_vecs = data.sentence_vecs = np.zeros((0, dim), np.float32)
            parts.append((data, deleted))
        data = merge(parts, dim, vectors=False)
        self.articles = data.articles
        self.chunks = data.chunks
        self.sentences = data.sentences
        self.sentence_vecs = RowStack(sentence_parts, dim)
        self.bm25 = data.bm25
        self.faiss = builder.finish()
        if len(self.sentence_vecs) != len(self.sentences) or self.faiss.ntotal != len(self.chunks):
            raise ValueError("its parts disagree in size")
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
            scores, ids = self.faiss.search(qvecs, depth)
            return scores, ids
        if len(allowed) <= EXACT_FILTERED:
            # Few chunks pass the filters: scoring each exactly is cheap and misses none.
            sims = qvecs @ self.faiss.reconstruct_batch(allowed).T
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
        scores, ids = self.faiss.search(qvecs, depth, params=params)
        return scores, ids

    def chunk_vector(self, chunk_id: int) -> Vectors:
        """The stored vector of one chunk."""
        vec: Vectors = self.faiss.reconstruct(chunk_id)
        return vec

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
            s = self.sentences.row(sentence_id)
            terms = frozenset(tokenize(self.articles[s.article].text[s.start : s.end]))
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
