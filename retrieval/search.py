"""Hybrid search: dense vectors (FAISS) fused with BM25; retriever.py wraps it for LangChain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from langchain_core.documents import Document

from retrieval.arrays import contains
from retrieval.asked_time import WINDOW_DEPTH
from retrieval.chunking import Chunk as _Chunk
from retrieval.chunking import Sentence as _Sentence
from retrieval.chunking import chunk_text
from retrieval.embedding import Embedder
from retrieval.filters import Filters
from retrieval.focus import focus_chunks
from retrieval.index import StoredVersion
from retrieval.lexical import tokenize
from retrieval.pending import run_in_thread
from retrieval.periphrases import named_words
from retrieval.question_vector import QuestionVector, resolve_vector
from retrieval.sentence_search import search_sentence_chunks
from retrieval.stemmed_bm25 import stemmed_scores

RRF_K = 60
CANDIDATES = 30
# The sentence channel (retrieval/sentence_search.py) counts half a chunk channel: one close sentence is
# less evidence than a close chunk. At full weight it brought dev recall@16 from 59 to 61 of 65 but the
# answers lost as many as they gained (55/65 quoted: its close sentences that do not answer outscored the
# answer, d03 and p09); at 0.5 recall@16 is 60, MRR 0.667 -> 0.682, and 56/65 are quoted (0.35, 0.75 alike).
SENTENCE_WEIGHT = 0.5
# Up to this many chunks admitted by filters are scored exactly instead of through the vector index.
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ChunkHit:
    """One retrieved chunk with its scores."""

    chunk_id: int
    fused: float
    dense: float
    lexical: float


# Scores that agree to this many decimals are a tie (cosines differ in the last float32 bits across stores).
TIE_DIGITS = 6


def allowed_chunks(index: StoredVersion, filters: Filters) -> IntArray:
    """The ids of the chunks whose article the filters admit."""
    admitted = [a.id for a in index.articles if filters.admits_article(a)]
    if not admitted or not len(index.chunks):
        return np.zeros(0, dtype=np.int64)
    ids: IntArray = np.flatnonzero(contains(index.chunks[:, 0], admitted)).astype(np.int64)
    return ids


def search_chunks(
    index: StoredVersion,
    embedder: Embedder,
    question: str,
    k: int,
    qvec: QuestionVector | None = None,
    filters: Filters | None = None,
) -> list[ChunkHit]:
    """The k chunks that best match the question by reciprocal-rank fusion of dense, BM25 and sentence ranks.

    `qvec` is the question's vector when the caller has it already (it is embedded once per answer), or a
    callable waiting for it while it is embedded (question_vector.py): called once the lexical ranking is done.
    With filters, only chunks of the articles they admit are candidates, in every ranking.
    """
    n = len(index.chunks)
    if n == 0 or k <= 0:
        return []
    allowed = allowed_chunks(index, filters) if filters else None
    if allowed is not None and not len(allowed):
        return []
    admitted = n if allowed is None else len(allowed)
    depth = min(admitted, max(CANDIDATES, k))
    # The articles the question points at (dated in a time it names, or naming a rare name it names:
    # focus.py) are also taken from deeper.
    inside = focus_chunks(index, question)
    reach = depth if inside is None else min(admitted, max(depth, WINDOW_DEPTH))
    # Each question word counts as its Snowball stem: a paraphrase inflects the article's words its own way.
    # The names of what the question describes ('the Western military alliance': NATO) are searched too.
    lexical_all = stemmed_scores(index.bm25, tokenize(question) + tokenize(named_words(question)))
    if allowed is not None:
        mask = np.zeros(n, dtype=bool)
        mask[allowed] = True
        lexical_all = np.where(mask, lexical_all, 0.0)
    top_lex = np.argpartition(-lexical_all, reach - 1)[:reach] if reach < n else np.arange(n)
    top_lex = top_lex[np.argsort(-lexical_all[top_lex], kind="stable")]
    # The dense ranking comes second: a question's vector being embedded in a thread (question_vector.py) is
    # ready by now on a machine with a free core.
    vector = (embedder.embed_query(question) if qvec is None else resolve_vector(qvec)).reshape(1, -1)
    # FAISS releases the GIL: the chunks' own vectors are searched in a thread while this one scans the
    # sentences' (2 of the 9-10 ms the two take on the whole corpus, fused below in the same order).
    dense_search = run_in_thread(
        lambda: index.search_vectors(vector, reach, allowed=allowed), "usru-dense-search", daemon=False
    )
    # The sentence channel reaches as deep as the answer reads: deeper, its far chunks crowded out the
    # chunks both other channels agree on (dev recall@16 at full weight: 61 of 65 at depth k, 60 at 30, 58 at 50).
    by_sentence = search_sentence_chunks(index, vector[0], k, allowed)
    dense_scores, dense_ids = dense_search.result()
    # Equal scores are ranked by chunk id: FAISS and pgvector order ties each their own way (and differ in
    # the last bits), so the folder index and the database would fuse the same ranks differently.
    dense_hits = [(int(i), float(s)) for i, s in zip(dense_ids[0], dense_scores[0], strict=True) if i >= 0]
    dense = dict(sorted(dense_hits, key=lambda hit: (-round(hit[1], TIE_DIGITS), hit[0])))
    fused: dict[int, float] = {}
    for rank, cid in enumerate(dense):
        if rank < depth or (inside is not None and inside(cid)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, cid in enumerate(int(c) for c in top_lex if lexical_all[c] > 0):
        if rank < depth or (inside is not None and inside(cid)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, cid in enumerate(by_sentence):
        fused[cid] = fused.get(cid, 0.0) + SENTENCE_WEIGHT / (RRF_K + rank + 1)
    if inside is not None:
        # The pointed-at chunks, ranked among themselves by their fused score, count as one more channel.
        focused = sorted((cid for cid in fused if inside(cid)), key=lambda cid: -fused[cid])
        for rank, cid in enumerate(focused):
            fused[cid] += 1.0 / (RRF_K + rank + 1)
    best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
    hits = []
    for cid, score in best:
        d = dense.get(cid)
        if d is None:
            d = float(index.chunk_vector(cid) @ vector[0])
        hits.append(ChunkHit(cid, score, d, float(lexical_all[cid])))
    return hits


def chunk_document(index: StoredVersion, hit: ChunkHit) -> Document:
    """A retrieved chunk as a LangChain Document carrying its article's metadata and offsets."""
    aid, start, end, lo, hi = index.chunks.row(hit.chunk_id)
    article = index.article(aid)
    sentences = tuple(_Sentence(s.start, s.end, s.quotable) for s in map(index.sentences.row, range(lo, hi)))
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
