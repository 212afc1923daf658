"""Nearest sentences of a large version: a few cells' 8-bit codes scanned, the best re-scored in float32.

A version past sentence_cells.SCAN_MAX sentences names trained cells, and each of its segments holds its
quotable sentences filed in them (sentence_cells.py). A question is compared with the centroids, the
NPROBE nearest cells are read from each segment (one slice of codes per cell and segment, mapped, not
read whole), scored from their codes, and the best RESCORE of those are scored again exactly from the
float32 vectors, which rank what is returned. A segment whose files are missing or do not check is
scanned exactly instead, so a damaged or unfinished filing costs time, never results.

Mapped pages stay in the process's resident memory once read (rows.py): they are let go after each
search, so a long-running bot does not in time hold every segment's codes.

Products are taken with einsum, not `@`: these are small matrix-vector products, and multithreaded
OpenBLAS spent 8 ms of CPU (36 ms wall, on busy cores) on one of 2,200 codes that einsum's own loop does
in 0.2 ms.
"""

from __future__ import annotations

import mmap
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors
from retrieval.index.records import IntArray
from retrieval.index.rows import RowStack
from retrieval.index.sentence_cells import Cells, codes_path, lists_path, read_cells

Scores = npt.NDArray[np.float32]

NPROBE = 16  # cells read per question (bench/sentence_ann.py measures recall against the exact scan)
# Sentences re-scored exactly per sentence asked for (at least MIN_RESCORE): an 8-bit code's score is off
# by about 0.001, far less than the gaps between the best few, so twice as many is plenty.
RESCORE = 2
MIN_RESCORE = 64
RELEASE_BYTES = 8 << 20  # codes read between two releases of the mapped pages


@dataclass
class _Part:
    """One segment's filed sentences, as the version keeps them."""

    start: int  # the version's id of the segment's first kept sentence
    kept: IntArray | None  # the segment's rows the version keeps (None: all)
    folder: Path
    vectors: Any  # the segment's sentence vectors (mapped)
    offsets: IntArray | None = None  # None: not filed, scanned exactly
    rows: Any = None
    codes: Any = None
    position: IntArray | None = None  # with `kept`: each segment row's place among the kept, -1 if deleted
    maps: tuple[mmap.mmap, ...] = ()  # the mapped files behind rows and codes, let go of after searches


def _map_of(arr: Any) -> mmap.mmap | None:
    found = getattr(arr, "_mmap", None)
    return found if isinstance(found, mmap.mmap) else None


def _dot(matrix: Any, vector: Vectors) -> Scores:
    """Each row's dot product with the vector, as float32 (uint8 codes are widened as they are read)."""
    out: Scores = np.einsum("ij,j->i", matrix, vector, dtype=np.float32, casting="unsafe")
    return out


def _spans(lo: IntArray, hi: IntArray) -> IntArray:
    """The positions lo[i]..hi[i]-1 of every span, in order, without a Python loop over the spans."""
    lengths = hi - lo
    total = int(lengths.sum())
    # Each position is its span's start plus its place within the span: the running count less the
    # count before the span.
    before = np.cumsum(lengths) - lengths
    spans: IntArray = np.arange(total, dtype=np.int64) + np.repeat(lo - before, lengths)
    return spans


def _open_lists(part: _Part, cells: Cells) -> None:
    """Map the segment's sentcells/sentcodes files once they check; leave it to the exact scan if not."""
    try:
        lists = np.load(lists_path(part.folder, cells.name), mmap_mode="r", allow_pickle=False)
        codes = np.load(codes_path(part.folder, cells.name), mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return
    n = len(codes)
    if (
        lists.dtype != np.int64
        or lists.ndim != 1
        or len(lists) != cells.count + 1 + n
        or codes.dtype != np.uint8
        or codes.ndim != 2
        or codes.shape[1] != cells.dim
    ):
        return
    offsets = np.array(lists[: cells.count + 1], dtype=np.int64)
    rows = lists[cells.count + 1 :]
    if offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 0).any():
        return
    if n and (int(rows.min()) < 0 or int(rows.max()) >= len(part.vectors)):
        return
    # Plain arrays over the same mapped pages: np.memmap's indexing costs ~0.1 ms a call in Python, and a
    # question indexes each of 20 segments' files twice.
    part.offsets, part.rows, part.codes = offsets, np.asarray(rows), np.asarray(codes)
    part.maps = tuple(m for m in (_map_of(lists), _map_of(codes)) if m is not None)


class SentenceAnn:
    """The version's sentence cells, searched; each segment's files opened on the first search."""

    def __init__(
        self, cells: Cells, folders: list[Path], parts: list[tuple[Vectors, IntArray | None]], exact: RowStack
    ) -> None:
        """`parts`: each segment's mapped sentence vectors and the rows the version keeps, as RowStack got them."""
        self.cells = cells
        self.exact = exact
        sizes = [len(vecs) if kept is None else len(kept) for vecs, kept in parts]
        starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()
        self._parts = [
            _Part(start, kept, folder, vecs)
            for start, folder, (vecs, kept) in zip(starts[:-1], folders, parts, strict=True)
        ]
        self._opened = False
        self._lock = threading.Lock()
        self._read = 0

    @classmethod
    def of(
        cls,
        index_dir: Path,
        manifest: dict[str, Any],
        folders: list[Path],
        parts: list[tuple[Vectors, IntArray | None]],
        exact: RowStack,
    ) -> SentenceAnn | None:
        """The search over the cells the manifest names, or None when it names none."""
        cells = read_cells(index_dir, manifest.get("sentence_cells"), int(manifest["dim"]))
        return None if cells is None else cls(cells, folders, parts, exact)

    def _open(self) -> None:
        with self._lock:
            if not self._opened:
                for part in self._parts:
                    _open_lists(part, self.cells)
                    if part.kept is not None:
                        position = np.full(len(part.vectors), -1, dtype=np.int64)
                        position[part.kept] = np.arange(len(part.kept), dtype=np.int64)
                        part.position = position
                self._opened = True

    def search(self, qvec: Vectors, want: int, nprobe: int = NPROBE) -> tuple[IntArray, Scores, bool]:
        """The `want` best sentences among the `nprobe` nearest cells: (ids, exact scores), best first.

        The flag is True when those cells held no more sentences than returned (asking for more then
        needs more cells).
        """
        self._open()
        q = np.asarray(qvec, dtype=np.float32).reshape(-1)
        nprobe = min(nprobe, self.cells.count)
        near = _dot(self.cells.centroids, q)
        probe = np.sort(np.argpartition(-near, nprobe - 1)[:nprobe]) if nprobe < len(near) else None
        weights = q * self.cells.step
        base = float(q @ self.cells.low)
        ids: list[IntArray] = []
        rough: list[Scores] = []
        for part in self._parts:
            found = self._scan(part, q, probe, weights, base)
            if found is not None:
                ids.append(found[0])
                rough.append(found[1])
        all_ids = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        all_rough = np.concatenate(rough) if rough else np.zeros(0, np.float32)
        take = min(len(all_ids), max(RESCORE * want, MIN_RESCORE))
        top = np.argpartition(-all_rough, take - 1)[:take] if take < len(all_ids) else np.arange(len(all_ids))
        cand = all_ids[top]
        exact = _dot(self.exact.take(cand), q) if len(cand) else np.zeros(0, np.float32)
        order = np.lexsort((cand, -exact))[:want]
        self._release(len(all_ids) * self.cells.dim)
        return cand[order], exact[order].astype(np.float32), len(all_ids) <= want

    def _scan(
        self, part: _Part, q: Vectors, probe: IntArray | None, weights: Vectors, base: float
    ) -> tuple[IntArray, Scores] | None:
        """(version ids, scores) of the part's sentences in the probed cells: from codes, or exact."""
        if part.offsets is None:
            local = np.arange(len(part.vectors), dtype=np.int64)
            scores: Scores = _dot(part.vectors, q)
            nonzero = scores != 0  # unquotable sentences have no vector
            local, scores = local[nonzero], scores[nonzero]
        else:
            offsets = part.offsets
            if probe is None:
                spans = np.arange(offsets[-1], dtype=np.int64)
            else:
                spans = _spans(offsets[probe], offsets[probe + 1])
            if not len(spans):
                return None
            local = np.asarray(part.rows[spans], dtype=np.int64)
            scores = _dot(part.codes[spans], weights) + np.float32(base)
        if part.position is None:
            return part.start + local, scores
        place = part.position[local]
        alive = place >= 0
        return part.start + place[alive], scores[alive]

    def _release(self, read: int) -> None:
        """Past RELEASE_BYTES read, let go of the mapped pages read so far (they stay in the page cache)."""
        with self._lock:
            self._read += read
            if self._read < RELEASE_BYTES:
                return
            self._read = 0
        for part in self._parts:
            maps = part.maps if part.offsets is not None else (_map_of(part.vectors),)
            for m in maps:
                if m is not None:
                    m.madvise(mmap.MADV_DONTNEED)
