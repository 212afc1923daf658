"""Vectors read where they lie: the segments' files read row by row, never copied whole or mapped.

A large index holds far more sentence vectors than chunk vectors (the whole AllSides corpus: about 1.2
million, 1.9 GB as float32), and an answer reads only the few hundred of its candidate sentences. So a
loaded version reads rows by id across the segments' sentence_vecs.npy (and, for exact chunk scores,
chunks.faiss), skipping deleted articles' rows. The rows are read with pread, not through a memory
map: on this kernel each row touched through a map brought about 200 KB of the file into the process's
resident memory (the page cache's large folios are mapped whole), so three answers on the whole AllSides
corpus added about 100 MiB; read, they add nothing that stays (issue 13).
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors

IntArray = npt.NDArray[np.int64]
_FLOAT32 = np.dtype("<f4")


class FileRows:
    """A float32 matrix stored contiguously in a file from `offset`, read by row with pread."""

    def __init__(self, path: Path, offset: int, rows: int, dim: int) -> None:
        self.dim = dim
        self._rows = rows
        self._offset = offset
        # Kept open: the rows stay readable for this version even if a later update deletes the file.
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, rows: IntArray) -> Vectors:
        """The given rows (an array of row numbers), in the order asked; adjacent rows are read at once."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out: Vectors = np.empty((len(rows), self.dim), dtype=np.float32)
        if not len(rows):
            return out
        if rows.min() < 0 or rows.max() >= self._rows:
            raise IndexError("row out of range")
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        starts = np.flatnonzero(np.diff(wanted, prepend=wanted[0] - 2) != 1)
        ends = [*starts[1:].tolist(), len(wanted)]
        width = 4 * self.dim
        for lo, hi in zip(starts.tolist(), ends, strict=True):
            size = (hi - lo) * width
            data = os.pread(self._fd, size, self._offset + int(wanted[lo]) * width)
            if len(data) != size:
                raise ValueError("a vector file is truncated")
            out[order[lo:hi]] = np.frombuffer(data, dtype=_FLOAT32).reshape(hi - lo, self.dim)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> Vectors:
        whole = self[np.arange(self._rows, dtype=np.int64)]
        return whole if dtype is None else whole.astype(dtype)


def file_rows(arr: Any) -> Any:
    """A memory-mapped float32 .npy as FileRows (its map is never touched); anything else as it is."""
    if (
        isinstance(arr, np.memmap)
        and arr.filename is not None
        and arr.dtype == _FLOAT32
        and arr.ndim == 2
        and arr.flags.c_contiguous
    ):
        return FileRows(Path(arr.filename), int(arr.offset), len(arr), int(arr.shape[1]))
    return arr


class RowStack:
    """Rows of several arrays as one, each array seen through the rows it keeps; read-only."""

    def __init__(self, parts: Sequence[tuple[Vectors | FileRows, IntArray | None]], dim: int) -> None:
        """`parts`: (array or FileRows, kept row numbers or None for all), in order."""
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
