"""The sentence channel of hybrid search: chunks ranked by their single best sentence's vector.

A chunk's vector averages a thousand characters, so the one sentence holding a detail ("more than 250,000
people dead", "over his 17 years dominating Russia") moves it little: on the archive's dev split the chunk
holding the answer ranked 77th and out of reach, while the sentence itself ranked 6th and 2nd among every
sentence of the index. Every quotable sentence already has a vector (the answer scores them), so searching
them directly costs one scan and no new index while the index is small. Past MAX_SCANNED sentences the
scan costs more than the rest of an answer: a folder index then searches its sentence cells instead
(retrieval/index/sentence_ann.py); a store without them (PostgreSQL) leaves the channel out there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.arrays import distinct
from retrieval.embedding import Vectors
from retrieval.index.records import ChunkCol
from retrieval.index.sentence_ann import NPROBE
from retrieval.index.sentence_cells import SCAN_MAX
from retrieval.per_version import PerVersion

IntArray = npt.NDArray[np.int64]

# Up to this many sentences are scanned exactly; past it, the sentence cells are searched.
MAX_SCANNED = SCAN_MAX
# A filtered search past MAX_SCANNED scores the admitted chunks' sentences exactly up to this many.
EXACT_FILTERED = 50_000
BLOCK_ROWS = 16_384
_OWNERS: PerVersion[IntArray] = PerVersion(per_version=1)
_SPANS: PerVersion[tuple[IntArray, IntArray] | None] = PerVersion(per_version=1)


def sentence_chunks(index: Any) -> IntArray:
    """The first chunk holding each sentence (-1 for none), computed once per loaded index."""
    return _OWNERS.get(index, "owners", lambda: _map_owners(index))


def _map_owners(index: Any) -> IntArray:
    owner: IntArray = np.full(len(index.sentences), -1, dtype=np.int64)
    spans = _chunk_spans(index)
    first, end = spans
    if _in_order(spans):
        owner = _owners_in_order(spans, np.arange(len(owner), dtype=np.int64))
    else:
        # Later chunks first, so that where chunks overlap a sentence keeps the first chunk that holds it.
        for c in range(len(first) - 1, -1, -1):
            owner[int(first[c]) : int(end[c])] = c
    return owner


def _chunk_spans(index: Any) -> tuple[IntArray, IntArray]:
    """Each chunk's first sentence and the sentence past its last."""
    first = np.asarray(index.chunks.column(ChunkCol.FIRST_SENTENCE), dtype=np.int64)
    end = np.asarray(index.chunks.column(ChunkCol.END_SENTENCE), dtype=np.int64)
    return first, end


def _in_order(spans: tuple[IntArray, IntArray]) -> bool:
    first, end = spans
    return bool(len(first) and (np.diff(first) >= 0).all() and (np.diff(end) >= 0).all())


def _owners_in_order(spans: tuple[IntArray, IntArray], sids: IntArray) -> IntArray:
    """The first chunk holding each of these sentences (-1 for none), chunks being in sentence order."""
    # Chunks in sentence order (as every store writes them): the first chunk holding a sentence is
    # the first whose span ends past it, if it starts at or before it. A loop took 0.3 s at 338k chunks.
    first, end = spans
    owner: IntArray = np.full(len(sids), -1, dtype=np.int64)
    cid = np.searchsorted(end, sids, side="right")
    inside = cid < len(end)
    inside[inside] &= first[cid[inside]] <= sids[inside]
    owner[inside] = cid[inside]
    return owner


def owners_of(index: Any, sids: IntArray) -> IntArray:
    """The first chunk holding each of these sentences (-1 for none), as sentence_chunks gives it.

    Past the scan only a few hundred sentences' chunks are asked per question: they are looked up
    alone, not mapped for all 1.2 million sentences first (0.2 s on a cold `usru ask`).
    """
    spans = _SPANS.get(index, "spans", lambda: _ordered_spans(index))
    if spans is None:
        return sentence_chunks(index)[sids]
    return _owners_in_order(spans, sids)


def _ordered_spans(index: Any) -> tuple[IntArray, IntArray] | None:
    spans = _chunk_spans(index)
    return spans if _in_order(spans) else None


def sentence_scores(index: Any, qvec: Vectors) -> npt.NDArray[np.float32]:
    """The question's cosine with every sentence, computed where the vectors lie (a mapped file is not copied)."""
    # Both stores' sentence vectors have dot(): a numpy array's, or the file store's rows over its
    # memory-mapped segments (retrieval/index/rows.py), which reading rows would copy.
    return np.asarray(index.sentence_vecs.dot(qvec), dtype=np.float32)


def search_sentence_chunks(
    index: Any, qvec: Vectors, depth: int, allowed: IntArray | None = None
) -> list[int]:
    """The `depth` chunks whose best quotable sentence is nearest the question, best first.

    With `allowed`, only those chunks count. Past MAX_SCANNED sentences the index's sentence cells are
    searched (approximately) where it has them; without them the channel is left out ([]).
    """
    n = len(index.sentences)
    if n == 0 or depth <= 0:
        return []
    q = np.asarray(qvec, dtype=np.float32).reshape(-1)
    admitted: npt.NDArray[np.bool_] | None = None
    if allowed is not None:
        admitted = np.zeros(len(index.chunks), dtype=bool)
        admitted[allowed] = True
    if n <= MAX_SCANNED:
        return _scan(index, q, depth, sentence_chunks(index), admitted)
    ann = getattr(index, "sentence_ann", None)
    if ann is None:
        return []
    if allowed is not None:
        rows = _admitted_sentences(index, allowed)
        if len(rows) <= EXACT_FILTERED:
            return _score_rows(index, q, depth, sentence_chunks(index), rows)
    return _search_cells(index, ann, q, depth, admitted)


def _collect(ids: IntArray, owner: IntArray, depth: int, admitted: npt.NDArray[np.bool_] | None) -> list[int]:
    """The first `depth` distinct chunks of these sentences (best first), admitted ones only."""
    return _collect_owned(owner[ids], depth, admitted)


def _collect_owned(owners: IntArray, depth: int, admitted: npt.NDArray[np.bool_] | None) -> list[int]:
    """The first `depth` distinct chunks of this list (each sentence's owner, best first), admitted ones only."""
    chunks: list[int] = []
    seen: set[int] = set()
    for cid in owners.tolist():
        if cid < 0 or cid in seen or (admitted is not None and not admitted[cid]):
            continue
        seen.add(cid)
        chunks.append(cid)
        if len(chunks) == depth:
            break
    return chunks


def _search_cells(
    index: Any, ann: Any, q: Vectors, depth: int, admitted: npt.NDArray[np.bool_] | None
) -> list[int]:
    """The channel through the sentence cells: more sentences, then more cells, until `depth` chunks."""
    # A chunk's few sentences come one after another near the top: 2 per chunk asked for usually suffice.
    want, nprobe = depth * 2, NPROBE
    while True:
        ids, _, exhausted = ann.search(q, want, nprobe)
        chunks = _collect_owned(owners_of(index, ids), depth, admitted)
        if len(chunks) == depth:
            return chunks
        if not exhausted:
            want *= 4
        elif nprobe < ann.cells.count:
            nprobe *= 4
        else:
            return chunks


def _admitted_sentences(index: Any, allowed: IntArray) -> IntArray:
    """The sentences of the admitted chunks, in order."""
    first = np.asarray(index.chunks.column(ChunkCol.FIRST_SENTENCE), dtype=np.int64)[allowed]
    end = np.asarray(index.chunks.column(ChunkCol.END_SENTENCE), dtype=np.int64)[allowed]
    if not len(first):
        return np.zeros(0, dtype=np.int64)
    spans = [np.arange(a, b) for a, b in zip(first.tolist(), end.tolist(), strict=True)]
    rows: IntArray = distinct(np.concatenate(spans)).astype(np.int64)
    return rows


def _score_rows(index: Any, q: Vectors, depth: int, owner: IntArray, rows: IntArray) -> list[int]:
    """The channel over these sentences only, each scored exactly (a filter admits few chunks)."""
    quotable = np.asarray(index.sentences.quotable)[rows] > 0
    rows = rows[quotable & (owner[rows] >= 0)]
    scores = np.concatenate(
        [index.sentence_vecs[rows[i : i + BLOCK_ROWS]] @ q for i in range(0, len(rows), BLOCK_ROWS)]
        or [np.zeros(0, np.float32)]
    )
    order = np.lexsort((rows, -scores))
    return _collect(rows[order], owner, depth, None)


def _scan(
    index: Any, q: Vectors, depth: int, owner: IntArray, admitted: npt.NDArray[np.bool_] | None
) -> list[int]:
    """The channel by the exact scan of every sentence vector."""
    n = len(index.sentences)
    scores = sentence_scores(index, q)
    keep = (np.asarray(index.sentences.quotable) > 0) & (owner >= 0)
    if admitted is not None:
        keep &= admitted[np.where(owner >= 0, owner, 0)]
    scores = np.where(keep, scores, -np.inf)
    chunks: list[int] = []
    seen: set[int] = set()
    # A chunk is ranked by its best sentence; a few sentences per chunk are read before `depth` are found.
    pool = min(n, depth * 8)
    while True:
        top = np.argpartition(-scores, pool - 1)[:pool] if pool < n else np.arange(n)
        top = top[np.argsort(-scores[top], kind="stable")]
        chunks, seen = [], set()
        for sid in top.tolist():
            if not np.isfinite(scores[sid]):
                break
            cid = int(owner[sid])
            if cid not in seen:
                seen.add(cid)
                chunks.append(cid)
                if len(chunks) == depth:
                    return chunks
        if pool >= n or not np.isfinite(scores[top[-1]]):
            return chunks
        pool = min(n, pool * 4)
