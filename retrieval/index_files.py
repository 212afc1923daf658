"""Reading small index files so that damage reads as damage: one sentence naming the fix.

Kept apart from the index code so the messages of the libraries underneath (numpy's advice to load a
pickle "unsafely", a UnicodeDecodeError) never reach a user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import IndexError_


def read_pointer(path: Path) -> str:
    """The text of a pointer file such as CURRENT; bytes that are not UTF-8 are damage (IndexError_)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise IndexError_(
            f"The index at {path.parent} is damaged ({path.name} is not text); "
            "rebuild it with `usru index --rebuild`."
        ) from exc


def load_npy(path: Path) -> Any:
    """A .npy array, never unpickled; a file that holds pickled data is a ValueError that says so."""
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            # numpy's own message advises loading the file unsafely: never repeat that to a user.
            raise ValueError(f"{path.name} holds pickled data, which usru never loads") from None
        raise
