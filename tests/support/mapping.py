"""Whether an array reads a file mapped into memory (directly, or as a plain view of a numpy memmap)."""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np


def is_mapped(arr: Any) -> bool:
    """True when the array's memory is a mapped file, not a copy loaded into memory."""
    while arr is not None:
        if isinstance(arr, np.memmap | mmap.mmap):
            return True
        arr = getattr(arr, "base", None)
    return False
