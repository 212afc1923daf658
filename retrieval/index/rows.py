"""Sentence vectors read where they lie: the segments' files mapped into memory, never copied whole.

A large index holds far more sentence vectors than chunk vectors (the whole AllSides corpus: about 1.2
million, 1.9 GB as float32), and an answer reads only the few hundred of its candidate sentences. So a
loaded version maps each segment's sentence_vecs.npy (numpy's memmap) and reads rows by id across the
segments, skipping deleted articles' rows: resident memory then grows with the rows answers read, which
the kernel can drop again, not with the corpus (issue 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors

IntArray = npt.NDArray[np.int64]


class RowStack:
    """Rows of several arrays as one, each array seen through the rows it keeps; read-only."""

    def __init__(self, parts: Sequence[tuple[Vectors, IntArray | None]], dim: int) -> None:
        """`parts`: (array, kept row numbers or None for all), in order."""
        self.dim = dim
        self._arrays = [a for a, _ in parts]
        self._kept = [k for _, k in parts]
        sizes = [len(a) if k is None else len(k) for a, k in parts]
        self._starts: IntArray = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self.shape = (int(self._starts[-1]), dim)
        self.dtype = np.dtype(np.float32)
        self.ndim = 2

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
        for p in np.unique(part).tolist():
            mine = np.flatnonzero(part == p)
            out[mine] = self._arrays[p][local[mine]]
        return out

    def dot(self, vector: Vectors) -> npt.NDArray[np.float32]:
        """Every row's dot product with one vector, computed where each part lies (no rows copied)."""
        out = []
        for array, kept in zip(self._arrays, self._kept, strict=True):
            scores = np.asarray(array @ vector, dtype=np.float32)
            out.append(scores if kept is None else scores[kept])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | np.integer):
            row = int(key) + len(self) if int(key) < 0 else int(key)
            return self.take(np.array([row], dtype=np.int64))[0]
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
