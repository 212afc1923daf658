"""Keeping the index up to date while articles arrive: watch the sources folder, re-index after bursts.

No terminal or Telegram code here: front ends pass callbacks that print, log or notify, and a
threading.Event that stops the watcher.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from retrieval.article import ARTICLE_SUFFIXES
from retrieval.errors import SourcesError
from retrieval.index import IndexSummary
from retrieval.index.changes import source_name

log = logging.getLogger(__name__)

DEBOUNCE_S = 1.0
# A folder that never falls quiet is still re-indexed this often.
MAX_DELAY_S = 30.0
# Editors' and downloaders' temporary names: "~$draft.txt", "draft.txt~", ".#draft.txt", "x.txt.part".
_TEMP_PREFIXES = ("~", ".#", "#")
_TEMP_SUFFIXES = ("~", ".tmp", ".temp", ".swp", ".swx", ".part", ".crdownload", ".partial")

# Called with the changed files, or None to scan the whole folder (first run, or a folder moved).
Reindex = Callable[[list[Path] | None], IndexSummary]


def describe_changes(summary: IndexSummary) -> str:
    """'N new, M changed, K removed articles; index version V': what the bot and the CLI report."""
    return (
        f"{len(summary.new)} new, {len(summary.changed)} changed, {len(summary.removed)} removed articles; "
        f"index version {summary.version}"
    )


def changed_anything(summary: IndexSummary) -> bool:
    """Whether a re-index added, changed or removed an article."""
    return bool(summary.new or summary.changed or summary.removed)


def _visible_under(path: Path, sources: Path, index_dir: Path | None) -> Path | None:
    """The path relative to `sources`, unless it is outside it, inside the index or hidden."""
    try:
        rel = path.resolve().relative_to(sources.resolve())
    except ValueError:
        return None
    if index_dir is not None and path.resolve().is_relative_to(index_dir.resolve()):
        return None
    if not rel.parts or any(part.startswith(".") for part in rel.parts):
        return None
    return rel


def is_article_path(path: Path, sources: Path, index_dir: Path | None = None) -> bool:
    """Whether a change at `path` can change the index: an article file, not hidden, temporary or the index."""
    rel = _visible_under(path, sources, index_dir)
    if rel is None:
        return False
    name = rel.name
    if name.startswith(_TEMP_PREFIXES) or name.lower().endswith(_TEMP_SUFFIXES):
        return False
    return path.suffix.lower() in ARTICLE_SUFFIXES


class _Changes(FileSystemEventHandler):
    """Records when the last relevant change happened; the watcher thread does the re-indexing."""

    def __init__(self, sources: Path, index_dir: Path, wake: threading.Event) -> None:
        self.sources, self.index_dir, self.wake = sources, index_dir, wake
        self._lock = threading.Lock()
        self.first: float | None = None  # when the oldest change not yet indexed happened
        self.last = 0.0
        self.paths: set[str] = set()

    def _relevant(self, event: FileSystemEvent) -> list[str]:
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        found = []
        for raw in paths:
            if not raw:
                continue
            p = Path(raw if isinstance(raw, str) else raw.decode())
            if event.is_directory:
                # A folder of articles moved in, out or deleted: inotify reports no events for its files.
                if isinstance(event, DirCreatedEvent | DirDeletedEvent | DirMovedEvent) and is_article_dir(
                    p, self.sources, self.index_dir
                ):
                    found.append(str(p))
            elif is_article_path(p, self.sources, self.index_dir):
                found.append(str(p))
        return found

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        found = self._relevant(event)
        if not found:
            return
        with self._lock:
            now = time.monotonic()
            self.first = self.first if self.first is not None else now
            self.last = now
            self.paths.update(found)
        self.wake.set()

    def due(self, debounce_s: float, max_delay_s: float) -> bool:
        """Whether the folder has been quiet long enough (or busy too long) to re-index now."""
        with self._lock:
            if self.first is None:
                return False
            now = time.monotonic()
            return now - self.last >= debounce_s or now - self.first >= max_delay_s

    def take(self) -> list[str]:
        """The changed paths since the last call, which starts a new burst."""
        with self._lock:
            paths, self.paths, self.first = sorted(self.paths), set(), None
            return paths


def is_article_dir(path: Path, sources: Path, index_dir: Path | None = None) -> bool:
    """Whether a folder under `sources` may hold articles (not hidden, not the index)."""
    return _visible_under(path, sources, index_dir) is not None


def watch_sources(
    sources: Path,
    index_dir: Path,
    reindex: Reindex,
    *,
    stop: threading.Event,
    on_summary: Callable[[IndexSummary], None],
    on_error: Callable[[Exception], None] | None = None,
    on_changes: Callable[[list[str]], None] | None = None,
    initial: bool = True,
    debounce_s: float = DEBOUNCE_S,
    max_delay_s: float = MAX_DELAY_S,
) -> None:
    """Re-index whenever article files under `sources` are created, changed, deleted or moved.

    Blocks until `stop` is set. The folder is watched (recursively) before the initial re-index, so
    nothing that arrives meanwhile is missed. A burst of changes gives one re-index once the folder
    has been quiet for `debounce_s` seconds. `reindex` should wait for another indexer's lock
    (build_index(..., wait=True)); while it runs, new changes queue up for the next round.
    Each re-index's summary goes to `on_summary`, every failure to `on_error` (then watching goes on).
    """
    if not sources.is_dir():
        raise SourcesError(f"The sources folder {sources} does not exist or is not a folder.")
    wake = threading.Event()
    changes = _Changes(sources, index_dir, wake)
    observer = Observer()
    observer.schedule(changes, str(sources), recursive=True)
    observer.daemon = True
    observer.start()

    # After a failed run the changes it held were not applied: the next run looks at every file.
    failed = [False]
    # The files still skipped in the folder: a targeted run reads only the changed files, and its summary
    # alone would say "Skipped 0 files" beside eleven bad ones that a plain `usru index` lists.
    skipped: dict[str, str] = {}

    def run_once(paths: list[Path] | None) -> None:
        targeted = None if failed[0] else paths
        try:
            summary = reindex(targeted)
            failed[0] = False
        except Exception as exc:  # a bad moment (every article deleted, disk full) must not end watching
            log.warning("Re-indexing %s failed: %s", sources, exc)
            failed[0] = True
            if on_error is not None:
                on_error(exc)
            return
        if targeted is None:
            skipped.clear()
            skipped.update(summary.skipped)
            on_summary(summary)
            return
        for path in targeted:
            skipped.pop(source_name(sources, path) or "", None)
        skipped.update(summary.skipped)
        on_summary(dataclasses.replace(summary, skipped=sorted(skipped.items())))

    try:
        if initial and not stop.is_set():
            run_once(None)
        while not stop.is_set():
            wake.wait(min(debounce_s / 4, 0.25) if changes.first is not None else 0.5)
            wake.clear()
            if stop.is_set() or not changes.due(debounce_s, max_delay_s):
                continue
            paths = changes.take()
            if on_changes is not None:
                on_changes(paths)
            # Telling the indexer which files changed keeps its cost independent of the corpus size.
            files = [Path(p) for p in paths]
            run_once(None if any(f.suffix.lower() not in ARTICLE_SUFFIXES for f in files) else files)
    finally:
        observer.stop()
        observer.join(timeout=5)


def start_watcher(
    sources: Path,
    index_dir: Path,
    reindex: Reindex,
    *,
    on_summary: Callable[[IndexSummary], None],
    on_error: Callable[[Exception], None] | None = None,
    on_changes: Callable[[list[str]], None] | None = None,
    on_stopped: Callable[[Exception], None] | None = None,
    initial: bool = True,
    debounce_s: float = DEBOUNCE_S,
) -> tuple[threading.Thread, threading.Event]:
    """Run watch_sources in a daemon thread; set the returned event (then join the thread) to stop it.

    What stops the watcher itself (the folder is missing) goes to `on_stopped` if given, else it is
    logged and passed to `on_error`.
    """
    stop = threading.Event()

    def target() -> None:
        try:
            watch_sources(
                sources,
                index_dir,
                reindex,
                stop=stop,
                on_summary=on_summary,
                on_error=on_error,
                on_changes=on_changes,
                initial=initial,
                debounce_s=debounce_s,
            )
        except Exception as exc:
            if on_stopped is not None:
                on_stopped(exc)
                return
            log.error("The sources watcher stopped: %s", exc)
            if on_error is not None:
                on_error(exc)

    thread = threading.Thread(target=target, name="usru-watch", daemon=True)
    thread.start()
    return thread, stop
