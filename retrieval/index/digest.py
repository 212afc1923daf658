"""A sampled digest of a segment file: notices a file replaced at the same size, at a constant cost.

A size check lets a same-size garbage file through; a full hash would make every incremental `usru index`
read the whole index, whose cost must not grow with the corpus. The digest covers the size, the first and
last 64 KiB and 16 blocks of 4 KiB spread between them: a file replaced or rewritten wholesale, or damaged
at either end (FAISS and numpy headers, the last vectors), is caught; a few bytes changed in the middle of
a large file may not be (loading re-checks what it reads: counts, shapes, hashes of the article texts).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

END_BYTES = 64 * 1024
BLOCKS = 16
BLOCK_BYTES = 4096


def sampled_digest(path: Path) -> str:
    """SHA-256 of the file's size and sampled bytes (all of them for a file under ~200 KiB)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        h.update(size.to_bytes(8, "little"))
        if size <= 2 * END_BYTES + BLOCKS * BLOCK_BYTES:
            fh.seek(0)
            h.update(fh.read())
            return h.hexdigest()
        middle = size - 2 * END_BYTES - BLOCK_BYTES
        spans = [
            (0, END_BYTES),
            *((END_BYTES + middle * (i + 1) // (BLOCKS + 1), BLOCK_BYTES) for i in range(BLOCKS)),
            (size - END_BYTES, END_BYTES),
        ]
        for offset, length in spans:
            fh.seek(offset)
            h.update(fh.read(length))
    return h.hexdigest()
