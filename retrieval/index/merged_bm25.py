"""A version's merged word statistics, written once when the version is written (issue 13).

Every process loading a version merged the BM25 postings of its segments into one index: 1 to 6 s on
the 22,835-article corpus, the largest part of a cold `usru ask`. An update now writes the merged
postings once into the new version's folder (before it goes live), as .npy arrays and a JSON vocabulary
(never a pickle), with bm25.json recording each file's size and sampled digest and a key naming the
segments and deletions they were merged from. Loading maps the arrays from disk (read-only) instead of
merging. A version written before, a single segment with nothing deleted (nothing to merge), or files
that do not match their record are merged at load as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.index.digest import sampled_digest
from retrieval.index.records import ChunkCol
from retrieval.lexical import Bm25

RECORD = "bm25.json"
LAYOUT = "usru-merged-bm25-1"  # changes when what is written, or how it is merged, changes


def needs_merging(manifest: dict[str, Any]) -> bool:
    """Whether loading the version would merge postings: several segments, or deleted articles."""
    segments = manifest["segments"]
    return len(segments) > 1 or any(s["deleted"] for s in segments)


def _key(manifest: dict[str, Any]) -> str:
    parts = [[s["name"], sorted(int(a) for a in s["deleted"])] for s in manifest["segments"]]
    return hashlib.sha256(json.dumps([LAYOUT, manifest["chunks"], parts]).encode()).hexdigest()[:32]


def merge_segments_bm25(index_dir: Path, manifest: dict[str, Any]) -> Bm25:
    """The version's segments' postings merged, without their deleted articles (no vectors or texts read)."""
    parts: list[tuple[Bm25, npt.NDArray[np.bool_]]] = []
    for s in manifest["segments"]:
        folder = index_dir / "segments" / s["name"]
        n = int(json.loads((folder / "segment.json").read_text(encoding="utf-8"))["articles"])
        keep = np.ones(n, dtype=bool)
        keep[[int(a) for a in s["deleted"] if 0 <= int(a) < n]] = False
        chunk_article = np.load(folder / "chunks.npy", mmap_mode="r", allow_pickle=False)[:, ChunkCol.ARTICLE]
        parts.append((Bm25.load(folder, mmap=True), keep[np.asarray(chunk_article, dtype=np.int64)]))
    return Bm25.merge(parts)


def write_merged_bm25(folder: Path, manifest: dict[str, Any], bm25: Bm25) -> None:
    """Write the merged postings and their record into a version's (not yet live) folder."""
    files = bm25.save(folder)
    record = {
        "key": _key(manifest),
        "files": {f.name: f.stat().st_size for f in files},
        "sampled_sha256": {f.name: sampled_digest(f) for f in files},
    }
    (folder / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


def read_merged_bm25(folder: Path, manifest: dict[str, Any]) -> Bm25 | None:
    """The merged postings stored with the version, mapped from disk; None where they must be merged."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("key") != _key(manifest):
            return None
        for name, size in record["files"].items():
            path = folder / name
            if path.stat().st_size != size or sampled_digest(path) != record["sampled_sha256"][name]:
                return None
        bm25 = Bm25.load(folder, mmap=True)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # none stored (an older version), or damaged: merge at load instead
    return bm25 if bm25.n_docs == int(manifest["chunks"]) else None
