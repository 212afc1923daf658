"""The chunk-vector index: exact search while the corpus is small, an inverted-file index past that.

Exact (flat) search costs about 2 ms per question at 10k chunks but 25 ms at 100k and 240 ms at 1M on
two cores, so past FLAT_MAX chunks usru switches to IVF: k-means cells over the vectors, and a question
scans only the NPROBE cells nearest to it. HNSW was measured too (recall@10 0.98 at 1.9 ms on 1M
vectors), but it takes minutes to build and cannot delete; IVF trains once, places each new segment's
vectors in their cells as they are written, and drops deleted articles by simply not adding them when a
version is loaded. `make bench` measures recall@10 against exact search at 100k and 1M chunks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.arrays import run_starts

FLAT_MAX = 20_000  # chunks; exact search stays under ~5 ms up to here
NPROBE = 32  # cells scanned per question: recall@10 ≥ 0.99 at 100k and 1M in `make bench`
RETRAIN_GROWTH = 8  # cells are retrained once the corpus outgrows the one they were trained on 8-fold
POINTS_PER_CELL = 64  # k-means sample per cell: more adds training time, not recall
MIN_POINTS_PER_CELL = 39  # fewer and faiss's k-means has too little to place a cell

Vectors = npt.NDArray[np.float32]
Lists = npt.NDArray[np.int64]


def count_lists(n_vectors: int) -> int:
    """How many IVF cells suit a corpus of this size: about 2·√n, a power of two."""
    want = int(2 ** round(math.log2(max(1.0, 2 * math.sqrt(n_vectors)))))
    return max(1, min(want, 65_536, n_vectors // MIN_POINTS_PER_CELL))


def train_quantizer(sample: Vectors, n_lists: int, seed: int = 1) -> Any:
    """Spherical k-means over a sample of unit vectors: the cells' centroids as a flat index."""
    import faiss

    dim = sample.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    kmeans = faiss.Clustering(dim, n_lists)
    kmeans.niter = 10
    kmeans.seed = seed
    kmeans.spherical = True
    kmeans.max_points_per_centroid = POINTS_PER_CELL
    kmeans.verbose = False
    kmeans.train(np.ascontiguousarray(sample, dtype=np.float32), quantizer)
    return quantizer


def assign_lists(quantizer: Any, vectors: Vectors) -> Lists:
    """The cell each vector belongs to."""
    if not len(vectors):
        return np.zeros(0, dtype=np.int64)
    _, cells = quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    out: Lists = cells[:, 0].astype(np.int64)
    return out


def build_vector_index(vectors: Vectors, quantizer: Any = None, lists: Lists | None = None) -> Any:
    """A searchable index over the vectors, ids 0..n-1: flat, or IVF over a trained quantizer.

    With a quantizer, `lists` gives each vector's cell (computed when the vector was written), so
    loading a version only copies vectors into cells instead of comparing each to every centroid.
    """
    builder = VectorIndexBuilder(vectors.shape[1], quantizer)
    builder.add(vectors, lists)
    return builder.finish()


class VectorIndexBuilder:
    """A flat or IVF index filled a part at a time, so that a version's vectors are never all copied twice.

    Loading a large version adds each segment's vectors as it is read (view.py): memory holds the
    index and one segment's vectors, not the index and a concatenation of every segment (issue 13).
    """

    def __init__(self, dim: int, quantizer: Any = None, half: bool = False) -> None:
        """With `half`, an IVF index keeps its vectors as float16 (half the memory; see HALF_SLACK)."""
        import faiss

        self.dim = dim
        self.quantizer = quantizer
        self.half = half and quantizer is not None
        self.index: Any
        if quantizer is None:
            self.index = faiss.IndexFlatIP(dim)
            return
        if quantizer.d != dim:
            raise ValueError("the IVF cells have another dimension than the vectors")
        ivf: Any
        if self.half:
            # Not relative to the cell's centroid (by_residual off): a vector's code is the same in any cell.
            ivf = faiss.IndexIVFScalarQuantizer(
                quantizer,
                dim,
                int(quantizer.ntotal),
                faiss.ScalarQuantizer.QT_fp16,
                faiss.METRIC_INNER_PRODUCT,
                False,
            )
        else:
            ivf = faiss.IndexIVFFlat(quantizer, dim, int(quantizer.ntotal), faiss.METRIC_INNER_PRODUCT)
        ivf.is_trained = True
        ivf.nprobe = min(NPROBE, int(quantizer.ntotal))
        self.index = ivf

    def reserve(self, counts: Lists) -> None:
        """Allot each IVF cell room for the vectors it will get (counts[cell]), before adding any.

        Cells otherwise grow by doubling as vectors arrive, and each regrowth briefly holds the cell twice:
        loading the whole AllSides corpus peaked about 200 MiB above what the index finally held.
        """
        if self.quantizer is None:
            return
        invlists: Any = self.index.invlists
        for cell in np.flatnonzero(counts).tolist():
            have = int(invlists.list_size(cell))
            invlists.resize(cell, have + int(counts[cell]))
            invlists.resize(cell, have)  # a vector keeps its capacity when it shrinks

    def add(self, vectors: Vectors, lists: Lists | None = None) -> None:
        """Add vectors (ids following those added before), filed under `lists` when the index is IVF."""
        import faiss

        if not len(vectors):
            return
        if self.quantizer is None:
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            return
        if lists is None or len(lists) != len(vectors):
            lists = assign_lists(self.quantizer, vectors)
        if lists.min() < 0 or lists.max() >= self.quantizer.ntotal:
            raise ValueError("a vector is filed under an IVF cell that does not exist")
        base = int(self.index.ntotal)
        # Grouped by cell, one bulk copy per cell: several times faster than adding vector by vector.
        order = np.argsort(lists, kind="stable")
        if self.half:
            # IEEE half, as faiss's QT_fp16 stores it; converted before the rows are gathered, so that
            # loading a large version copies each block once at half width, not at full width and again.
            sorted_vecs = np.asarray(vectors, dtype=np.float32).astype(np.float16)[order]
        else:
            sorted_vecs = np.ascontiguousarray(vectors[order], dtype=np.float32)
        ids = (order + base).astype(np.int64)
        starts = run_starts(lists[order])
        cells = lists[order][starts]
        ends = [*starts[1:].tolist(), len(order)]
        invlists: Any = self.index.invlists
        for cell, lo, hi in zip(cells.tolist(), starts.tolist(), ends, strict=True):
            invlists.add_entries(
                cell,
                hi - lo,
                faiss.swig_ptr(ids[lo:hi]),
                faiss.swig_ptr(sorted_vecs[lo:hi].view(np.uint8).reshape(-1)),
            )
        self.index.ntotal = base + len(vectors)

    def finish(self, direct_map: bool = True) -> Any:
        """The filled index, ready to search; without `direct_map` it cannot give back a vector by id."""
        if self.quantizer is not None and direct_map:
            self.index.make_direct_map()  # hits found by BM25 alone still need their vector for a dense score
        return self.index


def describe(index: Any) -> str:
    """A short name of the index kind, for stats and benchmarks."""
    import faiss

    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return f"IVF{index.nlist},SQfp16 nprobe={index.nprobe}"
    if isinstance(index, faiss.IndexIVF):
        return f"IVF{index.nlist},Flat nprobe={index.nprobe}"
    return "Flat"
