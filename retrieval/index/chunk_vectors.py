"""A segment's chunk vectors read where they lie in its chunks.faiss, not copied by FAISS.

`faiss.read_index` reads the file into memory and `reconstruct_n` copies it again: two copies of each
segment while a version loads, and a third as the search index fills. chunks.faiss is a flat
inner-product index whose float32 rows are the file's tail, so a loaded version reads them a block at
a time while it fills the search index and maps them for the few rows an answer scores exactly
(issue 13). A file laid out otherwise is read through FAISS as before.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding import Vectors

# faiss's write_index for IndexFlatIP: fourcc, d, ntotal, two unused int64, is_trained, metric type,
# then the rows as a vector of floats (its length, then the data).
_HEADER = struct.Struct("<4siqqq?iQ")
_FLAT_IP = b"IxFI"
_INNER_PRODUCT = 0
_UNUSED = 1 << 20  # what faiss writes in the two unused header fields

BLOCK_ROWS = 16_384  # rows read at once while loading: 24 MiB at 384 floats


def write_chunk_vectors(path: Path, vectors: Vectors, dim: int) -> None:
    """Write chunks.faiss as faiss.write_index writes a flat inner-product index, byte for byte.

    Straight from the array: FAISS would copy the vectors into an index and serialize that into a
    third buffer first (merging 4,000 AllSides articles held 75 MB of chunk vectors three times).
    """
    rows = np.ascontiguousarray(vectors, dtype="<f4")
    if len(rows) == 0:
        rows = rows.reshape(0, dim)
    if rows.ndim != 2 or rows.shape[1] != dim:
        raise ValueError(f"chunk vectors of shape {rows.shape} are not {dim} wide")
    n, d = rows.shape
    with path.open("wb") as fh:
        fh.write(_HEADER.pack(_FLAT_IP, d, n, _UNUSED, _UNUSED, True, _INNER_PRODUCT, n * d))
        if n:
            fh.write(rows.data.cast("B"))


class ChunkVectorFile:
    """The chunk vectors of one segment: how many, read a block at a time, or mapped whole."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._offset: int | None = None
        self._loaded: Vectors | None = None
        with path.open("rb") as fh:
            head = fh.read(_HEADER.size)
            size = fh.seek(0, 2)
        if len(head) == _HEADER.size:
            fourcc, d, ntotal, _, _, _, metric, floats = _HEADER.unpack(head)
            if (
                fourcc == _FLAT_IP
                and d == dim
                and metric == _INNER_PRODUCT
                and ntotal >= 0
                and floats == ntotal * d
                and size == _HEADER.size + 4 * floats
            ):
                self._offset = _HEADER.size
                self.rows = int(ntotal)
                return
        # Not the layout above (another FAISS version's writer): FAISS reads it, into memory.
        from retrieval.index.segments import read_chunk_vectors

        self._loaded = read_chunk_vectors(path.parent, dim)
        self.rows = len(self._loaded)

    def block(self, lo: int, hi: int) -> Vectors:
        """Rows lo..hi-1, read from the file into a new array (the file's pages are not mapped)."""
        if self._loaded is not None:
            return self._loaded[lo:hi]
        assert self._offset is not None
        hi = min(hi, self.rows)
        if hi <= lo:
            return np.zeros((0, self.dim), np.float32)
        count = (hi - lo) * self.dim
        arr = np.fromfile(self.path, dtype="<f4", count=count, offset=self._offset + 4 * lo * self.dim)
        if arr.size != count:
            raise ValueError("chunks.faiss is truncated")
        out: Vectors = arr.reshape(hi - lo, self.dim)
        return out

    def blocks(self, rows: int = BLOCK_ROWS) -> Iterator[tuple[int, Vectors]]:
        """(first row, rows) a block at a time, in order."""
        for lo in range(0, self.rows, rows):
            yield lo, self.block(lo, lo + rows)

    def by_row(self) -> Any:
        """Every row, mapped read-only from the file (rows.py reads them by id and lets the pages go)."""
        if self._loaded is not None:
            return self._loaded
        if not self.rows:
            return np.zeros((0, self.dim), np.float32)
        return np.memmap(
            self.path, dtype="<f4", mode="r", offset=self._offset or 0, shape=(self.rows, self.dim)
        )
