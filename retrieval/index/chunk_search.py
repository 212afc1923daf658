"""Nearest chunks by vector: FAISS scans, and where it holds float16 copies, float32 ranks what it found.

Past FLAT_MAX chunks a loaded version keeps its chunk vectors in the IVF cells as float16 (the whole
AllSides corpus: 248 MiB instead of 496), while the float32 vectors stay in the segments' files
(chunk_vectors.py). FAISS finds candidates from the float16 copies, more than asked, and each candidate
is scored again exactly from the files. A float16 score is off by at most HALF_ERROR·|q|·|x|, so once
the last candidate's float16 score plus that error is below the exact score of the last one kept, no
vector left out could have been kept: the results are those of the same IVF search over float32
vectors. Where that does not hold yet, FAISS is asked for more (issue 13).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors
from retrieval.index.rows import RowStack

IntArray = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]

# float16's unit roundoff is 2^-11; twice that also covers float32 sums of 384 products.
HALF_ERROR = 2.0**-10
MIN_EXTRA = 32  # candidates asked beyond the depth: at least this many, and at least the depth again
MISSING = np.float32(-np.finfo(np.float32).max)  # FAISS's score where there is no result


class ChunkSearch:
    """A version's chunk vectors: searched through FAISS, read back exactly from their files."""

    def __init__(self, index: Any, exact: RowStack, half: bool = False, max_norm: float = 1.0) -> None:
        """`exact`: the float32 vectors by chunk id; `half`: FAISS holds float16 copies of them."""
        self.index = index
        self.exact = exact
        self.half = half
        self.max_norm = max_norm

    @property
    def ntotal(self) -> int:
        """How many vectors are searched."""
        return int(self.index.ntotal)

    def vectors(self, ids: IntArray) -> Vectors:
        """The float32 vectors of these chunks, in order."""
        return self.exact.take(ids)

    def search(self, qvecs: Vectors, depth: int, params: Any = None) -> tuple[Scores, IntArray]:
        """The `depth` best chunks for each query: (scores, ids), best first, -1 where there are none."""
        if not self.half:
            scores, ids = self.index.search(qvecs, depth, params=params)
            return scores, ids
        n = self.ntotal
        out_scores = np.full((len(qvecs), depth), MISSING, dtype=np.float32)
        out_ids = np.full((len(qvecs), depth), -1, dtype=np.int64)
        for row, q in enumerate(np.asarray(qvecs, dtype=np.float32)):
            slack = HALF_ERROR * float(np.linalg.norm(q)) * self.max_norm + 1e-6
            want = min(n, depth + max(depth, MIN_EXTRA))
            while True:
                found, ids = self.index.search(q.reshape(1, -1), want, params=params)
                keep = ids[0] >= 0
                cand, rough = ids[0][keep], found[0][keep]
                exact = self.exact.take(cand) @ q
                # Best first; equal scores (duplicate chunks) larger id first, as FAISS mostly orders
                # them. Which of several duplicates FAISS keeps at the cut depends on its scan, so
                # there the two may keep different copies of the same vector (bench/half_vectors.py).
                order = np.lexsort((-cand, -exact))[:depth]
                complete = len(cand) < want or want >= n
                if complete or (len(order) == depth and exact[order[-1]] > rough[-1] + slack):
                    break
                want = min(n, want * 4)
            out_scores[row, : len(order)] = exact[order]
            out_ids[row, : len(order)] = cand[order]
        return out_scores, out_ids
