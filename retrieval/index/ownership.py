"""What in an index folder is usru's: the marker that claims a folder, and the exact names usru writes.

usru deletes old versions, unused segments and crash leftovers; it must never take a user's file for one.
A folder is used as an index only when it is empty, carries the marker, or is laid out as an index of
an earlier usru (which then gets the marker); inside it, only names matching usru's own patterns are
ever deleted or read as parts of the index. Files usru writes in place are never reached through a link.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from retrieval.errors import IndexError_

MARKER = ".usru-index"
MARKER_TEXT = "usru index folder, format 2\n"

# next_name writes six digits, more once they run out.
VERSION = re.compile(r"v[0-9]{6,}")
SEGMENT = re.compile(r"s[0-9]{6,}")
QUANTIZER = re.compile(r"q[0-9]{6,}")
QUANTIZER_FILE = re.compile(r"q[0-9]{6,}\.faiss")
LISTS_FILE = re.compile(r"lists-q[0-9]{6,}\.npy")
SENTENCE_CELLS = re.compile(r"t[0-9]{6,}")  # sentence cells (sentence_cells.py)
SENTENCE_CELLS_FILE = re.compile(r"t[0-9]{6,}\.npy")
SENTENCE_LISTS_FILE = re.compile(r"sent(cells|codes)-t[0-9]{6,}\.npy")
TEMP = re.compile(r"\.tmp-[0-9a-f]{32}(\.npy)?")
POINTER_TEMP = re.compile(r"\.CURRENT\.[0-9a-f]{32}")

# Every name usru creates at the top of an index folder.
TOP_NAMES = frozenset(
    {
        MARKER,
        "CURRENT",
        ".lock",
        "versions",
        "segments",
        "quantizers",
        "onnx",
        "filecache.sqlite",
        "pending.json",
    }
)


def is_name(pattern: re.Pattern[str], name: object) -> bool:
    """Whether a name read from disk or from a manifest is exactly one usru writes."""
    return isinstance(name, str) and pattern.fullmatch(name) is not None


def _refuse(index_dir: Path, why: str) -> IndexError_:
    return IndexError_(
        f"The folder {index_dir} {why}; usru deletes files in its index folder, so point --index-dir "
        "(or USRU_INDEX_DIR) at a new or empty folder."
    )


def _is_earlier_index(index_dir: Path, names: set[str]) -> bool:
    """An index written before the marker existed: only usru's names, and a version with a manifest."""
    others = {n for n in names if n not in TOP_NAMES and not is_name(POINTER_TEMP, n)}
    if others or not {"CURRENT", "versions", "segments"} <= names:
        return False
    versions, segments = index_dir / "versions", index_dir / "segments"
    if versions.is_symlink() or segments.is_symlink() or not versions.is_dir() or not segments.is_dir():
        return False
    for version in versions.iterdir():
        if is_name(VERSION, version.name):
            try:
                manifest = json.loads((version / "manifest.json").read_text("utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(manifest, dict) and "segments" in manifest and "format" in manifest:
                return True
    return False


def claim_index_dir(index_dir: Path) -> None:
    """Make sure the folder is usru's to write in (raise IndexError_ if not), and mark it so."""
    try:
        names = {e.name for e in os.scandir(index_dir)}
    except FileNotFoundError:
        names = set()
    except NotADirectoryError as exc:
        raise _refuse(index_dir, "is not a folder") from exc
    except OSError as exc:
        raise IndexError_(f"Cannot read the index folder {index_dir} ({exc.strerror}).") from exc
    marker = index_dir / MARKER
    if MARKER in names:
        if marker.is_symlink() or not marker.is_file():
            raise _refuse(index_dir, f"holds a {MARKER} that is not the file usru writes")
        return
    if names - {".lock"} and not _is_earlier_index(index_dir, names):
        raise _refuse(index_dir, "is not empty and is not a usru index")
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return  # another indexer claimed it a moment ago
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(MARKER_TEXT)


def open_no_link(path: Path, flags: int) -> int:
    """Open a file usru writes in its index folder, refusing (one sentence) a link put in its place."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if path.is_symlink():
            raise refuse_link(path) from exc
        raise


def refuse_link(path: Path) -> IndexError_:
    """The sentence for a link found where usru writes one of its own files or folders."""
    return IndexError_(
        f"{path} is a symbolic link; usru does not write through links in its index folder, so remove it."
    )


def check_not_link(path: Path) -> None:
    """Refuse a link where usru keeps one of its own files or folders."""
    if path.is_symlink():
        raise refuse_link(path)
