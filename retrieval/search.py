"""Hybrid search: dense vectors (FAISS) fused with BM25, as a LangChain retriever."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.chunking import Chunk as _Chunk
from retrieval.chunking import Sentence as _Sentence
from retrieval.chunking import chunk_text
from retrieval.embedding import Embedder
from retrieval.filters import Filters
from retrieval.lexical import tokenize
from retrieval.store import Index

RRF_K = 60
CANDIDATES = 30
# Up to this many chunks admitted by filters are scored exactly instead of through the vector index.
EXACT_FILTERED = 50_000
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk with its scores."""

    chunk_id: int
    fused: float
    dense: float
    lexical: float


def allowed_chunks(index: Index, filters: Filters) -> IntArray:
    """The ids of the chunks whose article the filters admit."""
    admitted = [a.id for a in index.articles if filters.admits(a.publisher, a.date)]
    if not admitted or not len(index.chunks):
        return np.zeros(0, dtype=np.int64)
    ids: IntArray = np.flatnonzero(np.isin(index.chunks[:, 0], admitted)).astype(np.int64)
    return ids


def _dense_search(index: Index, qvec: Any, depth: int, allowed: IntArray | None) -> dict[int, float]:
    """The best `depth` chunks by cosine, among `allowed` ones only when given."""
    if allowed is None:
        scores, ids = index.faiss.search(qvec, depth)
    elif len(allowed) <= EXACT_FILTERED:
        # Few chunks pass the filters: scoring each exactly is cheap and misses none.
        sims = index.faiss.reconstruct_batch(allowed) @ qvec[0]
        top = np.argsort(-sims, kind="stable")[:depth]
        return {int(allowed[i]): float(sims[i]) for i in top}
    else:
        import faiss

        selector = faiss.IDSelectorBatch(allowed)  # kept referenced until the search is done
        params: Any
        if isinstance(index.faiss, faiss.IndexIVF):
            params = faiss.SearchParametersIVF()
            params.nprobe = index.faiss.nprobe
        else:
            params = faiss.SearchParameters()
        params.sel = selector
        scores, ids = index.faiss.search(qvec, depth, params=params)
    return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}


def search_chunks(
    index: Index, embedder: Embedder, question: str, k: int, filters: Filters | None = None
) -> list[ChunkHit]:
    """The k chunks that best match the question by reciprocal-rank fusion of dense and BM25 ranks.

    With filters, only chunks of the articles they admit are candidates, in both rankings.
    """
    n = len(index.chunks)
    if n == 0:
        return []
    allowed = allowed_chunks(index, filters) if filters else None
    if allowed is not None and not len(allowed):
        return []
    depth = min(n if allowed is None else len(allowed), max(CANDIDATES, k))
    qvec = embedder.embed_query(question).reshape(1, -1)
    dense = _dense_search(index, qvec, depth, allowed)
    lexical_all = index.bm25.scores(tokenize(question))
    if allowed is not None:
        mask = np.zeros(n, dtype=bool)
        mask[allowed] = True
        lexical_all = np.where(mask, lexical_all, 0.0)
    top_lex = np.argpartition(-lexical_all, depth - 1)[:depth] if depth < n else np.arange(n)
    top_lex = top_lex[np.argsort(-lexical_all[top_lex], kind="stable")]
    fused: dict[int, float] = {}
    for rank, cid in enumerate(dense):
        fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, cid in enumerate(int(c) for c in top_lex if lexical_all[c] > 0):
        fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    hits = []
    for cid, score in best:
        d = dense.get(cid)
        if d is None:
            d = float(index.faiss.reconstruct(cid) @ qvec[0])
        hits.append(ChunkHit(cid, score, d, float(lexical_all[cid])))
    return hits


def chunk_document(index: Index, hit: ChunkHit) -> Document:
    """A retrieved chunk as a LangChain Document carrying its article's metadata and offsets."""
    aid, start, end, lo, hi = (int(x) for x in index.chunks[hit.chunk_id])
    article = index.article(aid)
    sentences = tuple(_Sentence(int(s[1]), int(s[2]), bool(s[3])) for s in index.sentences[lo:hi])
    return Document(
        page_content=chunk_text(article.text, _Chunk(start, end, sentences)),
        metadata={
            "source": article.source,
            "title": article.title,
            "publisher": article.publisher,
            "date": article.date,
            "chunk_id": hit.chunk_id,
            "start": start,
            "end": end,
            "score": hit.fused,
            "dense": hit.dense,
            "lexical": hit.lexical,
            "index_version": index.version,
        },
    )


class HybridRetriever(BaseRetriever):
    """Retrieves article chunks by dense and lexical similarity together."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    get_index: Callable[[], Index]
    embedder: Embedder
    k: int = 8
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        index = self.get_index()
        hits = search_chunks(index, self.embedder, query, self.k, self.filters)
        return [chunk_document(index, hit) for hit in hits]
