"""The IVF lifecycle on disk: when to train cells, where they are kept, and each segment's cell lists.

Small corpora are searched exactly (vector_index.py); once one outgrows FLAT_MAX chunks, trained IVF cells
are written to quantizers/qNNNNNN.faiss and every segment gets lists-qNNNNNN.npy, its chunks' cells.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding import Vectors
from retrieval.index import durability
from retrieval.index.durability import next_name, replace_durably, write_faiss
from retrieval.index.records import IntArray
from retrieval.index.segments import read_chunk_vectors
from retrieval.vector_index import (
    FLAT_MAX,
    POINTS_PER_CELL,
    RETRAIN_GROWTH,
    assign_lists,
    count_lists,
    train_quantizer,
)

__all__ = ["FLAT_MAX", "RETRAIN_GROWTH", "read_lists", "read_quantizer", "update_quantizer"]


def _lists_file(folder: Path, quantizer_name: str) -> Path:
    return folder / f"lists-{quantizer_name}.npy"


def read_lists(folder: Path, quantizer_name: str, quantizer: Any, chunk_vecs: Any) -> IntArray:
    """The IVF cells of a segment's chunks, as written beside it, or worked out again from its vectors."""
    try:
        lists: IntArray = np.load(_lists_file(folder, quantizer_name), allow_pickle=False).astype(np.int64)
        if lists.shape == (len(chunk_vecs),) and (
            not len(lists) or (lists.min() >= 0 and lists.max() < quantizer.ntotal)
        ):
            return lists
    except (OSError, ValueError):
        pass
    return assign_lists(quantizer, chunk_vecs)


def read_quantizer(index_dir: Path, info: dict[str, Any] | None, dim: int) -> tuple[str, Any] | None:
    """The trained IVF cells a version names, or None while it is small enough for exact search."""
    if not info:
        return None
    import faiss

    quantizer = faiss.read_index(str(index_dir / "quantizers" / f"{info['name']}.faiss"))
    if quantizer.d != dim or quantizer.ntotal != int(info["lists"]):
        raise ValueError("its IVF cells do not match it")
    return str(info["name"]), quantizer


def _sample_chunk_vectors(index_dir: Path, segments: list[dict[str, Any]], dim: int, size: int) -> Vectors:
    """A uniform sample of chunk vectors across segments, read one segment at a time to bound memory."""
    rng = np.random.default_rng(0)
    counts = [
        int(json.loads((index_dir / "segments" / s["name"] / "segment.json").read_text("utf-8"))["chunks"])
        for s in segments
    ]
    total = max(1, sum(counts))
    picked: list[Vectors] = []
    for seg, n in zip(segments, counts, strict=True):
        take = min(n, round(size * n / total))
        if take:
            vecs = read_chunk_vectors(index_dir / "segments" / seg["name"], dim)
            picked.append(vecs[np.sort(rng.choice(len(vecs), take, replace=False))])
    return np.concatenate(picked) if picked else np.zeros((0, dim), np.float32)


def update_quantizer(
    index_dir: Path, segments: list[dict[str, Any]], n_chunks: int, info: dict[str, Any] | None, dim: int
) -> dict[str, Any] | None:
    """Train IVF cells when the corpus first outgrows exact search or outgrows its cells 8-fold.

    Retraining reads every segment, but the corpus must grow geometrically between two of them, so
    the cost per added article stays bounded; in between, only new segments' chunks are filed in cells.
    """
    if n_chunks <= FLAT_MAX:
        return None
    quantizer = None
    if info is not None:
        try:
            found = read_quantizer(index_dir, info, dim)
            quantizer = found[1] if found else None
        except (OSError, RuntimeError, ValueError):
            quantizer = None
    if quantizer is None or info is None or n_chunks > RETRAIN_GROWTH * int(info["trained_on"]):
        n_lists = count_lists(n_chunks)
        quantizer = train_quantizer(
            _sample_chunk_vectors(index_dir, segments, dim, n_lists * POINTS_PER_CELL), n_lists
        )
        folder = index_dir / "quantizers"
        folder.mkdir(exist_ok=True)
        name = next_name(folder, "q")
        tmp = folder / f".tmp-{uuid.uuid4().hex}"
        write_faiss(quantizer, tmp)
        replace_durably(tmp, folder / f"{name}.faiss")
        durability.checkpoint("wrote:quantizer")
        info = {"name": name, "lists": n_lists, "trained_on": n_chunks}
    for seg in segments:
        folder = index_dir / "segments" / seg["name"]
        if not _lists_file(folder, info["name"]).is_file():
            _write_lists(folder, info["name"], assign_lists(quantizer, read_chunk_vectors(folder, dim)))
    durability.checkpoint("wrote:lists")
    return info


def _write_lists(folder: Path, quantizer_name: str, lists: IntArray) -> None:
    tmp = folder / f".tmp-{uuid.uuid4().hex}.npy"
    with tmp.open("wb") as fh:
        np.save(fh, lists.astype(np.int32), allow_pickle=False)
    replace_durably(tmp, _lists_file(folder, quantizer_name))
