"""Writing an index so that a crash or a full disk never loses the live version.

Files and folders are written under temporary names, fsynced, then renamed; the live version is named
by one pointer file (CURRENT) replaced atomically. One indexer at a time holds the folder's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from retrieval.errors import IndexError_, IndexLockedError
from retrieval.index.ownership import (
    LISTS_FILE,
    POINTER_TEMP,
    QUANTIZER,
    QUANTIZER_FILE,
    SEGMENT,
    SENTENCE_CELLS,
    SENTENCE_CELLS_FILE,
    SENTENCE_LISTS_FILE,
    TEMP,
    VERSION,
    check_not_link,
    claim_index_dir,
    is_name,
    open_no_link,
)

FORMAT_VERSION = 2
KEEP_VERSIONS = 3
# The journal of a long update's finished segments (see resume.py); they are kept until it is gone.
PENDING = "pending.json"


def checkpoint(step: str) -> None:
    """Test-only crash hook for tests/index/test_crash_safety.py: SIGKILL here if USRU_TEST_CRASH_AT names this step.

    Called as `durability.checkpoint(...)` everywhere, so that a test can replace it in one place.
    """
    if os.environ.get("USRU_TEST_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def current_version(index_dir: Path) -> str | None:
    """The name of the live version, or None if there is no index."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexError_(f"Cannot read the index at {index_dir} ({exc.strerror}).") from exc
    except UnicodeDecodeError as exc:
        raise _damaged_pointer(index_dir) from exc
    if name and not is_name(VERSION, name):
        # A name like ../../x would have the index read from outside its folder.
        raise _damaged_pointer(index_dir)
    return name or None


def _damaged_pointer(index_dir: Path) -> IndexError_:
    return IndexError_(
        f"The index at {index_dir} is damaged (CURRENT does not name a version); "
        "rebuild it with `usru index --rebuild`."
    )


def read_manifest(index_dir: Path, version: str) -> dict[str, Any]:
    """The manifest of one version: its segments, deletions, aliases and totals."""
    folder = index_dir / "versions" / version
    if folder.is_symlink():  # as a segment link is refused: its files would be read from outside the folder
        raise ValueError(f"versions/{version} is a link, not a folder usru wrote")
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text("utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError("it was written by another version of usru")
    # Names become paths: only the exact names usru writes, so nothing outside the folder is read.
    quantizer = manifest.get("quantizer")
    sentence_cells = manifest.get("sentence_cells")
    if (
        manifest.get("version") != version
        or not isinstance(manifest.get("segments"), list)
        or not all(isinstance(s, dict) and is_name(SEGMENT, s.get("name")) for s in manifest["segments"])
        or (quantizer and not (isinstance(quantizer, dict) and is_name(QUANTIZER, quantizer.get("name"))))
        or (
            sentence_cells
            and not (isinstance(sentence_cells, dict) and is_name(SENTENCE_CELLS, sentence_cells.get("name")))
        )
    ):
        raise ValueError("its manifest names a version, segment or file usru did not write")
    return manifest


@contextlib.contextmanager
def index_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """Hold the indexer lock of a folder that is usru's (see ownership); a second indexer fails fast unless it waits."""
    claim_index_dir(index_dir)
    fh = os.fdopen(open_no_link(index_dir / ".lock", os.O_RDWR | os.O_CREAT), "a+")
    try:
        for sub in ("versions", "segments", "quantizers"):
            check_not_link(index_dir / sub)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"Another `usru index` is updating {index_dir}; wait for it (or pass --wait)."
            ) from exc
        yield
    finally:
        fh.close()


def write_faiss(index: Any, path: Path) -> None:
    """Write a FAISS index so that a failed write raises: faiss.write_index only prints a failed close."""
    import faiss

    with path.open("wb") as fh:
        fh.write(faiss.serialize_index(index).data)


def remove_partial_files(index_dir: Path) -> None:
    """After a failed update, free what it was writing: temporary folders and files, pointer files."""
    for pattern in ("segments/.tmp-*", "segments/s*/.tmp-*", "versions/.tmp-*", "quantizers/.tmp-*"):
        for p in index_dir.glob(pattern):
            if is_name(TEMP, p.name):
                _remove(p)
    for p in [*index_dir.glob(".CURRENT.*"), *index_dir.glob(".tmp-*")]:
        if is_name(POINTER_TEMP, p.name) or is_name(TEMP, p.name):
            _remove(p)


def _remove(p: Path) -> None:
    """Delete a file or folder usru wrote; a link is removed itself, never what it points to."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def write_failed(index_dir: Path, exc: OSError | sqlite3.Error) -> IndexError_:
    """What a user reads when the disk is full or the index folder is not writable."""
    if isinstance(exc, OSError) and exc.strerror:
        reason = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    else:
        reason = f"a write failed: {exc}"
    try:
        live = current_version(index_dir)
    except IndexError_:
        live = None
    still = f"version {live} is still the one in use" if live else "there is no index yet"
    return IndexError_(f"Could not update the index at {index_dir} ({reason}); {still}.")


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_folder(tmp: Path, final: Path) -> None:
    """Make a fully written temporary folder appear under its final name, durably."""
    for f in tmp.iterdir():
        _fsync_path(f)
    replace_durably(tmp, final)


def replace_durably(tmp: Path, final: Path) -> None:
    """Give a fully written file or folder its final name, so that both survive a power cut."""
    _fsync_path(tmp)
    os.replace(tmp, final)
    _fsync_path(final.parent)


def publish_version(
    index_dir: Path,
    manifest: dict[str, Any],
    prepared: dict[str, Any] | None = None,
    write: Callable[[Path], None] | None = None,
) -> None:
    """Write a version's manifest (and what was `prepared` for it, NAME.json each) and make it live.

    `write` puts further files into the version's folder before it has a manifest. The version becomes
    live with an atomic swap of CURRENT, its prepared files already in place.
    """
    version = manifest["version"]
    tmp = index_dir / "versions" / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    if write is not None:
        write(tmp)
    for name, value in (prepared or {}).items():
        if not re.fullmatch(r"[a-z]+", name) or name == "manifest":
            raise ValueError(f"not a name for a prepared file: {name!r}")
        (tmp / f"{name}.json").write_text(json.dumps(value, separators=(",", ":")), encoding="utf-8")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    checkpoint("wrote:manifest.json")
    publish_folder(tmp, index_dir / "versions" / version)
    checkpoint("renamed")
    pointer = index_dir / f".CURRENT.{uuid.uuid4().hex}"
    pointer.write_text(version + "\n", encoding="utf-8")
    _fsync_path(pointer)
    checkpoint("pointer-written")
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_path(index_dir)
    checkpoint("replaced")


def clean_old(index_dir: Path, live: str) -> None:
    """Drop versions beyond the last few, segments no kept version uses, and leftovers of crashes."""
    versions = index_dir / "versions"
    # Only names usru writes are ever deleted: anything else in these folders is left alone.
    names = sorted(
        (p.name for p in versions.iterdir() if is_name(VERSION, p.name)), key=lambda n: (len(n), n)
    )
    kept = names[-KEEP_VERSIONS:]
    if live not in kept:
        kept.append(live)
    for name in names:
        if name not in kept:
            checkpoint("cleaning")
            _remove(versions / name)
    used: set[str] = set()
    cells: set[str] = set()
    for name in kept:
        try:
            manifest = read_manifest(index_dir, name)
            used.update(s["name"] for s in manifest["segments"])
            if manifest.get("quantizer"):
                cells.add(manifest["quantizer"]["name"])
            if manifest.get("sentence_cells"):
                cells.add(manifest["sentence_cells"]["name"])
        except (OSError, ValueError, KeyError, TypeError):  # an edited manifest: its version is gone anyway
            continue
    used.update(pending_segments(index_dir))
    for p in (index_dir / "segments").iterdir():
        if is_name(TEMP, p.name) or (is_name(SEGMENT, p.name) and p.name not in used):
            _remove(p)
        elif is_name(SEGMENT, p.name) and p.is_dir() and not p.is_symlink():
            for f in p.iterdir():
                if (
                    (is_name(LISTS_FILE, f.name) and f.stem.removeprefix("lists-") not in cells)
                    or (is_name(SENTENCE_LISTS_FILE, f.name) and f.stem.split("-", 1)[1] not in cells)
                    or is_name(TEMP, f.name)
                ):
                    _remove(f)
    if (index_dir / "quantizers").is_dir():
        for f in (index_dir / "quantizers").iterdir():
            if is_name(TEMP, f.name) or (
                (is_name(QUANTIZER_FILE, f.name) or is_name(SENTENCE_CELLS_FILE, f.name))
                and f.stem not in cells
            ):
                _remove(f)
    for p in versions.iterdir():
        if is_name(TEMP, p.name):
            _remove(p)
    for p in index_dir.iterdir():
        if is_name(POINTER_TEMP, p.name) or is_name(TEMP, p.name):
            _remove(p)


def pending_segments(index_dir: Path) -> list[str]:
    """The segments a stopped update finished (resume.py), as its journal names them; [] if none."""
    try:
        names = json.loads((index_dir / PENDING).read_text("utf-8")).get("segments")
    except (OSError, ValueError, AttributeError):
        return []
    # Names become paths: only the exact names usru writes.
    return [n for n in names if is_name(SEGMENT, n)] if isinstance(names, list) else []


def next_name(folder: Path, prefix: str) -> str:
    """The next free numbered name in a folder: v000042, s000007, q000003."""
    numbers = [int(p.stem[1:]) for p in folder.glob(f"{prefix}*") if p.stem[1:].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:06d}"
