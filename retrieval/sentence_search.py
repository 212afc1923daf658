"""The sentence channel of hybrid search: chunks ranked by their single best sentence's vector.

A chunk's vector averages a thousand characters, so the one sentence holding a detail ("more than 250,000
people dead", "over his 17 years dominating Russia") moves it little: on the archive's dev split the chunk
holding the answer ranked 77th and out of reach, while the sentence itself ranked 6th and 2nd among every
sentence of the index. Every quotable sentence already has a vector (the answer scores them), so searching
them directly costs one scan and no new index.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors
from retrieval.index.records import ChunkCol

IntArray = npt.NDArray[np.int64]

# Sentence vectors are scanned, not searched through an index: past this many sentences the scan costs
# more than the rest of an answer, and the channel is left out (the chunk channels still rank alone).
MAX_SCANNED = 400_000
_OWNERS: weakref.WeakKeyDictionary[Any, IntArray] = weakref.WeakKeyDictionary()


def sentence_chunks(index: Any) -> IntArray:
    """The first chunk holding each sentence (-1 for none), computed once per loaded index."""
    try:
        cached = _OWNERS.get(index)
    except TypeError:  # an index that cannot be weakly referenced is simply not cached
        cached = None
    if cached is not None:
        return cached
    owner: IntArray = np.full(len(index.sentences), -1, dtype=np.int64)
    first = index.chunks.column(ChunkCol.FIRST_SENTENCE)
    end = index.chunks.column(ChunkCol.END_SENTENCE)
    # Later chunks first, so that where chunks overlap a sentence keeps the first chunk that holds it.
    for cid in range(len(first) - 1, -1, -1):
        owner[int(first[cid]) : int(end[cid])] = cid
    with contextlib.suppress(TypeError):
        _OWNERS[index] = owner
    return owner


def sentence_scores(index: Any, qvec: Vectors) -> npt.NDArray[np.float32]:
    """The question's cosine with every sentence, computed where the vectors lie (a mapped file is not copied)."""
    # Both stores' sentence vectors have dot(): a numpy array's, or the file store's rows over its
    # memory-mapped segments (retrieval/index/rows.py), which reading rows would copy.
    return np.asarray(index.sentence_vecs.dot(qvec), dtype=np.float32)


def search_sentence_chunks(
    index: Any, qvec: Vectors, depth: int, allowed: IntArray | None = None
) -> list[int]:
    """The `depth` chunks whose best quotable sentence is nearest the question, best first.

    With `allowed`, only those chunks count. Empty for an index past MAX_SCANNED sentences.
    """
    n = len(index.sentences)
    if n == 0 or n > MAX_SCANNED or depth <= 0:
        return []
    scores = sentence_scores(index, np.asarray(qvec, dtype=np.float32).reshape(-1))
    owner = sentence_chunks(index)
    keep = (np.asarray(index.sentences.quotable) > 0) & (owner >= 0)
    if allowed is not None:
        admitted = np.zeros(len(index.chunks), dtype=bool)
        admitted[allowed] = True
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
