"""Sentence vectors filed in cells on disk, so that the sentence channel searches a few cells, not all.

The sentence channel (retrieval/sentence_search.py) scans every sentence vector while an index holds up to
SCAN_MAX sentences; the whole AllSides corpus holds about 1.2 million (1.9 GB of float32), too many to
scan per question. Once an index outgrows the scan, its quotable sentences are filed in k-means cells,
trained once on a sample and kept in quantizers/tNNNNNN.npy: the cells' centroids, then two rows that map
a vector to 8-bit codes (each dimension's lowest value and step). Each segment then gets, beside its
files and never changed once written:

  sentcells-tNNNNNN.npy   int64: where each cell's sentences begin (cells + 1 offsets), then the
                          segment's row of each of its quotable sentences, cell by cell
  sentcodes-tNNNNNN.npy   uint8, one row per entry above: the sentence's vector as 8-bit codes

A new segment is filed as it joins a version, so an update's cost does not grow with the corpus; the
cells are trained again, like the chunk cells (ivf.py), only when the corpus outgrows them 8-fold.
Codes, not float32 copies: a cell's entries lie together, a question reads them in a few slices, and
the ranking they give is checked exactly against the float32 vectors (sentence_ann.py). Nothing here
is unpickled: every file is a plain .npy read with allow_pickle=False and checked for shape and range.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Vectors
from retrieval.index import durability
from retrieval.index.durability import next_name, replace_durably
from retrieval.index.records import IntArray, SentenceCol

# Past this many sentences the exact scan is left out and the cells are searched instead.
SCAN_MAX = 400_000
RETRAIN_GROWTH = 8
POINTS_PER_CELL = 40  # k-means sample per cell (the chunk cells take 64; faiss asks for 39 at least)
MIN_POINTS_PER_CELL = 39
ASSIGN_ROWS = 4096  # sentences compared with every centroid at once while filing (32 MiB at 2,048 cells)
SPAN_MARGIN = 0.05  # each dimension's code range is widened this much past the sample's values

Codes = npt.NDArray[np.uint8]


def count_cells(n_sentences: int) -> int:
    """How many cells suit this many sentences: about 2·√n, a power of two."""
    want = int(2 ** round(math.log2(max(1.0, 2 * math.sqrt(n_sentences)))))
    return max(1, min(want, 16_384, n_sentences // MIN_POINTS_PER_CELL))


class Cells:
    """Trained sentence cells: centroids and the 8-bit code of each dimension."""

    def __init__(self, name: str, table: Vectors) -> None:
        """`table`: the centroids, then the codes' lowest values, then their steps (quantizers/tNNNNNN.npy)."""
        if table.ndim != 2 or len(table) < 3:
            raise ValueError(f"{name}.npy is not a table of sentence cells")
        self.name = name
        self.centroids: Vectors = np.ascontiguousarray(table[:-2], dtype=np.float32)
        self.low: Vectors = np.asarray(table[-2], dtype=np.float32)
        self.step: Vectors = np.asarray(table[-1], dtype=np.float32)
        if not (np.isfinite(table).all() and (self.step > 0).all()):
            raise ValueError(f"{name}.npy is not a table of sentence cells")

    @property
    def count(self) -> int:
        """How many cells."""
        return len(self.centroids)

    @property
    def dim(self) -> int:
        """The vectors' width."""
        return int(self.centroids.shape[1])

    def assign(self, vectors: Vectors) -> IntArray:
        """The cell of each vector: its nearest centroid by inner product."""
        out: IntArray = np.zeros(len(vectors), dtype=np.int64)
        for lo in range(0, len(vectors), ASSIGN_ROWS):
            block = np.asarray(vectors[lo : lo + ASSIGN_ROWS], dtype=np.float32)
            out[lo : lo + len(block)] = np.argmax(block @ self.centroids.T, axis=1)
        return out

    def encode(self, vectors: Vectors) -> Codes:
        """Each vector as 8-bit codes (values outside the trained range are clipped to it)."""
        scaled = np.rint((np.asarray(vectors, dtype=np.float32) - self.low) / self.step)
        codes: Codes = np.clip(scaled, 0, 255).astype(np.uint8)
        return codes


def cells_path(index_dir: Path, name: str) -> Path:
    """Where a version's sentence cells are kept."""
    return index_dir / "quantizers" / f"{name}.npy"


def lists_path(folder: Path, name: str) -> Path:
    """A segment's cell offsets and rows for the named cells."""
    return folder / f"sentcells-{name}.npy"


def codes_path(folder: Path, name: str) -> Path:
    """A segment's 8-bit codes for the named cells."""
    return folder / f"sentcodes-{name}.npy"


def read_cells(index_dir: Path, info: dict[str, Any] | None, dim: int) -> Cells | None:
    """The sentence cells a version names, or None while it is scanned whole."""
    if not info:
        return None
    table = np.load(cells_path(index_dir, str(info["name"])), allow_pickle=False)
    cells = Cells(str(info["name"]), table)
    if cells.dim != dim or cells.count != int(info["lists"]):
        raise ValueError("its sentence cells do not match it")
    return cells


def _quotable_rows(folder: Path) -> IntArray:
    """The rows of a segment's sentences that may be quoted (only they have vectors worth searching)."""
    table = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
    if table.ndim != 2 or table.shape[1] <= SentenceCol.QUOTABLE:
        raise ValueError("sentences.npy has the wrong shape")
    rows: IntArray = np.flatnonzero(np.asarray(table[:, SentenceCol.QUOTABLE]) > 0).astype(np.int64)
    return rows


def _sentence_vectors(folder: Path, dim: int) -> Any:
    vecs = np.load(folder / "sentence_vecs.npy", mmap_mode="r", allow_pickle=False)
    if vecs.ndim != 2 or (len(vecs) and vecs.shape[1] != dim):
        raise ValueError("sentence_vecs.npy has the wrong shape")
    return vecs


def _sample(index_dir: Path, names: list[str], dim: int, size: int) -> Vectors:
    """A uniform sample of quotable sentence vectors across segments, read one segment at a time."""
    rng = np.random.default_rng(0)
    quotable = [_quotable_rows(index_dir / "segments" / n) for n in names]
    total = max(1, sum(len(q) for q in quotable))
    picked: list[Vectors] = []
    for name, rows in zip(names, quotable, strict=True):
        take = min(len(rows), round(size * len(rows) / total))
        if take:
            chosen = np.sort(rng.choice(rows, take, replace=False))
            picked.append(np.asarray(_sentence_vectors(index_dir / "segments" / name, dim)[chosen]))
    return np.concatenate(picked) if picked else np.zeros((0, dim), np.float32)


def train_cells(sample: Vectors, n_cells: int) -> Vectors:
    """The table of trained cells (see Cells): spherical k-means centroids and each dimension's code range."""
    from retrieval.vector_index import train_quantizer

    quantizer = train_quantizer(sample, n_cells)
    centroids = quantizer.reconstruct_n(0, quantizer.ntotal)
    low, high = sample.min(axis=0), sample.max(axis=0)
    margin = SPAN_MARGIN * np.maximum(high - low, 1e-6)
    low, high = low - margin, high + margin
    step = (high - low) / 255.0
    table: Vectors = np.concatenate([centroids, low[None], step[None]]).astype(np.float32)
    return table


def _write_npy(path: Path, array: npt.NDArray[Any]) -> None:
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}.npy"
    with tmp.open("wb") as fh:
        np.save(fh, array, allow_pickle=False)
    replace_durably(tmp, path)


def file_segment(folder: Path, cells: Cells) -> None:
    """Write a segment's sentcells/sentcodes files for these cells (codes first: sentcells marks it done)."""
    rows = _quotable_rows(folder)
    vecs = _sentence_vectors(folder, cells.dim)
    cell_of = np.zeros(len(rows), dtype=np.int64)
    codes: Codes = np.zeros((len(rows), cells.dim), dtype=np.uint8)
    for lo in range(0, len(rows), ASSIGN_ROWS):
        block = np.asarray(vecs[rows[lo : lo + ASSIGN_ROWS]], dtype=np.float32)
        cell_of[lo : lo + len(block)] = cells.assign(block)
        codes[lo : lo + len(block)] = cells.encode(block)
    order = np.argsort(cell_of, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cell_of, minlength=cells.count))])
    _write_npy(codes_path(folder, cells.name), np.ascontiguousarray(codes[order]))
    _write_npy(lists_path(folder, cells.name), np.concatenate([offsets, rows[order]]).astype(np.int64))


def update_cells(
    index_dir: Path,
    segments: list[dict[str, Any]],
    n_sentences: int,
    info: dict[str, Any] | None,
    dim: int,
) -> dict[str, Any] | None:
    """Train sentence cells once the corpus outgrows the scan (or its cells 8-fold); file new segments.

    Returns the manifest entry naming the cells, or None while the sentences are scanned whole.
    """
    if n_sentences <= SCAN_MAX:
        return None
    cells = None
    if info is not None and n_sentences <= RETRAIN_GROWTH * int(info["trained_on"]):
        try:
            cells = read_cells(index_dir, info, dim)
        except (OSError, ValueError):
            cells = None
    names = [str(s["name"]) for s in segments]
    if cells is None or info is None:
        n_cells = count_cells(n_sentences)
        table = train_cells(_sample(index_dir, names, dim, n_cells * POINTS_PER_CELL), n_cells)
        (index_dir / "quantizers").mkdir(exist_ok=True)
        name = next_name(index_dir / "quantizers", "t")
        _write_npy(cells_path(index_dir, name), table)
        durability.checkpoint("wrote:sentence-cells")
        cells = Cells(name, table)
        info = {"name": name, "lists": cells.count, "trained_on": n_sentences}
    for name in names:
        folder = index_dir / "segments" / name
        if not lists_path(folder, cells.name).is_file():
            file_segment(folder, cells)
    durability.checkpoint("wrote:sentence-lists")
    return info
