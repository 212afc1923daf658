"""A version's filled IVF, written once when the version is written and mapped from disk at load (issue 13).

Past FLAT_MAX chunks, every process loading a version filled the float16 IVF from the segments'
chunks.faiss: about 1 CPU-second and 262 MB copied on the 22,835-article corpus, the largest part of a
cold `usru ask` once the postings were stored (merged_bm25.py). An update now writes the filled index
(its trained cells and float16 codes, in FAISS's own format, never a pickle) into the new version's
folder before it goes live, with ivf.json recording its size, sampled digest, largest vector norm and a
key naming the cells, segments and deletions it was filled from. Loading opens it with FAISS's
IO_FLAG_MMAP: the cells' codes stay in the file's pages, read only where a question probes. A version
written before, or a file that does not match its record, is filled at load as before.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index.digest import sampled_digest
from retrieval.vector_index import NPROBE

RECORD = "ivf.json"
FILE = "chunks-ivf.faiss"
LAYOUT = "usru-stored-ivf-1"  # changes when what is written, or how it is filled, changes


def _key(manifest: dict[str, Any]) -> str:
    parts = [[s["name"], sorted(int(a) for a in s["deleted"])] for s in manifest["segments"]]
    cells = manifest["quantizer"]
    return hashlib.sha256(
        json.dumps(
            [LAYOUT, manifest["chunks"], manifest["dim"], cells["name"], cells["lists"], parts]
        ).encode()
    ).hexdigest()[:32]


def write_stored_ivf(folder: Path, manifest: dict[str, Any], index: Any, max_norm: float) -> None:
    """Write a version's filled IVF and its record into the version's (not yet live) folder."""
    import faiss

    path = folder / FILE
    with path.open("wb") as fh:
        # Streamed to the file: faiss.serialize_index would first copy the whole index into memory.
        faiss.write_index(index, faiss.PyCallbackIOWriter(fh.write))  # type: ignore[attr-defined]
    record = {
        "key": _key(manifest),
        "bytes": path.stat().st_size,
        "sampled_sha256": sampled_digest(path),
        "ntotal": int(index.ntotal),
        "max_norm": float(max_norm),
    }
    (folder / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")


def read_stored_ivf(folder: Path, manifest: dict[str, Any]) -> tuple[Any, float] | None:
    """The version's IVF mapped from its file, with its largest vector norm; None where it must be filled."""
    if not manifest.get("quantizer"):
        return None
    # A link in place of either file could name one outside the index folder (the very bytes pass the
    # checks): only the files usru wrote are read.
    if any((folder / name).is_symlink() for name in (RECORD, FILE)):
        return None
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        if not isinstance(record, dict) or record.get("key") != _key(manifest):
            return None
        path = folder / FILE
        if path.stat().st_size != record["bytes"] or sampled_digest(path) != record["sampled_sha256"]:
            return None
        import faiss

        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
        n = int(manifest["chunks"])
        if (
            not isinstance(index, faiss.IndexIVFScalarQuantizer)
            or index.d != int(manifest["dim"])
            or index.nlist != int(manifest["quantizer"]["lists"])
            or index.ntotal != n
            or int(record["ntotal"]) != n
            or index.metric_type != faiss.METRIC_INNER_PRODUCT
            or index.sq.qtype != faiss.ScalarQuantizer.QT_fp16
            or index.by_residual
        ):
            return None
        held: Any = index.invlists
        lists = faiss.downcast_InvertedLists(held)
        if not isinstance(lists, faiss.OnDiskInvertedLists):
            return None
        lists.prefetch_nthread = 0  # the pages a question probes are read as it scans them
        if not _ids_cover(lists, n):
            return None
        index.nprobe = min(NPROBE, int(index.nlist))
        max_norm = float(record["max_norm"])
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, MemoryError):
        # None stored (an older version), or damaged: filled at load instead. MemoryError: cell counts
        # that no file usru wrote holds (FAISS allocates for them before it reads a list).
        return None
    return index, max_norm


def _ids_cover(lists: Any, n: int) -> bool:
    """Whether the cells hold each chunk id 0..n-1 once: a damaged file must not hand out other ids."""
    import faiss

    seen = np.zeros(n, dtype=bool)
    total = 0
    for cell in range(int(lists.nlist)):
        size = int(lists.list_size(cell))
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(cell), size)
        if int(ids.min()) < 0 or int(ids.max()) >= n:
            return False
        seen[ids] = True
        total += size
    return total == n and bool(seen.all())
