"""Vectors read where they lie: the segments' files mapped into memory, read by row, never copied whole.

A large index holds far more sentence vectors than chunk vectors (the whole AllSides corpus: about 1.2
million, 1.9 GB as float32), and an answer reads only the few hundred of its candidate sentences. So a
loaded version maps each segment's sentence_vecs.npy (and, for exact chunk scores, the rows of its
chunks.faiss) and reads rows by id across the segments, skipping deleted articles' rows.

A row read through a map stays in the process's resident memory: on this kernel each row brought about
200 KB of the file with it (the page cache's large folios are mapped whole), so three answers on the
whole AllSides corpus added about 100 MiB, and a long-running bot would in time hold the whole files.
So every RELEASE_ROWS rows read, the maps' pages are let go (madvise DONTNEED: the pages stay in the
page cache, the next read maps them again). Reading rows by pread instead keeps nothing either, but a
batch of 200 rows took 7 ms instead of 1 (issue 13).
"""

from __future__ import annotations

import mmap
import threading
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.arrays import distinct
from retrieval.embedding import Vectors

IntArray = npt.NDArray[np.int64]

RELEASE_ROWS = 64  # rows read between two releases of the mapped pages (about 16 MB of them stay mapped)


def _map_of(arr: Any) -> mmap.mmap | None:
    """The memory map under a numpy memmap (None for an array in memory)."""
    found = getattr(arr, "_mmap", None)
    return found if isinstance(found, mmap.mmap) else None


class RowStack:
    """Rows of several arrays as one, each array seen through the rows it keeps; read-only."""

    def __init__(self, parts: Sequence[tuple[Vectors, IntArray | None]], dim: int) -> None:
        """`parts`: (array, often a memmap; kept row numbers or None for all), in order."""
        self.dim = dim
        self._maps = [_map_of(a) for a, _ in parts]
        # Plain arrays over the same mapped pages: np.memmap's Python-level indexing tripled the cost of
        # reading one row (4.3 µs against 1.4), and an answer reads about 100 rows one by one (issue 13).
        self._arrays = [np.asarray(a) for a, _ in parts]
        self._kept = [k for _, k in parts]
        sizes = [len(a) if k is None else len(k) for a, k in parts]
        self._starts: IntArray = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self._start_list: list[int] = self._starts.tolist()
        self.shape = (int(self._starts[-1]), dim)
        self.dtype = np.dtype(np.float32)
        self.ndim = 2
        self._read = 0
        self._touched: set[int] = set()
        self._lock = threading.Lock()

    def _release(self, parts: Any, rows: int) -> None:
        """Count rows read from these parts; past RELEASE_ROWS, unmap the mapped pages read so far."""
        with self._lock:
            self._touched.update(p for p in parts if self._maps[p] is not None)
            self._read += rows
            if self._read < RELEASE_ROWS:
                return
            touched, self._touched, self._read = self._touched, set(), 0
        for p in touched:
            m = self._maps[p]
            if m is not None:
                m.madvise(mmap.MADV_DONTNEED)

    def __len__(self) -> int:
        return self.shape[0]

    def _locate(self, rows: IntArray) -> tuple[IntArray, IntArray]:
        """(part, row within that part's array) of each global row."""
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError("row out of range")
        part = np.searchsorted(self._starts, rows, side="right") - 1
        local = rows - self._starts[part]
        for p, kept in enumerate(self._kept):
            if kept is not None:
                mine = part == p
                local[mine] = kept[local[mine]]
        return part, local

    def take(self, rows: IntArray) -> Vectors:
        """The given rows, as float32, in the order asked."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out: Vectors = np.empty((len(rows), self.dim), dtype=np.float32)
        part, local = self._locate(rows)
        parts = distinct(part).tolist()
        for p in parts:
            mine = np.flatnonzero(part == p)
            out[mine] = self._arrays[p][local[mine]]
        self._release(parts, len(rows))
        return out

    def row(self, row: int) -> Vectors:
        """One row, as float32 (answering reads single rows in loops: this skips the array work)."""
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError("row out of range")
        p = bisect_right(self._start_list, row) - 1
        local = row - self._start_list[p]
        kept = self._kept[p]
        out: Vectors = np.array(
            self._arrays[p][local if kept is None else int(kept[local])], dtype=np.float32
        )
        self._release((p,), 1)
        return out

    def dot(self, vector: Vectors) -> npt.NDArray[np.float32]:
        """Every row's dot product with one vector, computed where each part lies (no rows copied)."""
        out = []
        for array, kept, m in zip(self._arrays, self._kept, self._maps, strict=True):
            scores = np.asarray(array @ vector, dtype=np.float32)
            out.append(scores if kept is None else scores[kept])
            if m is not None:
                # A scan touches every page of the part: let them go at once, as reads do every RELEASE_ROWS.
                m.madvise(mmap.MADV_DONTNEED)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | np.integer):
            return self.row(int(key))
        if isinstance(key, slice):
            return self.take(np.arange(len(self), dtype=np.int64)[key])
        arr = np.asarray(key)
        if arr.dtype == bool:
            if arr.shape != (len(self),):
                raise IndexError("a boolean mask must have one entry per row")
            return self.take(np.flatnonzero(arr))
        return self.take(arr.astype(np.int64)).reshape(*arr.shape, self.dim)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Vectors:
        whole = self.take(np.arange(len(self), dtype=np.int64))
        return whole if dtype is None else whole.astype(dtype)
