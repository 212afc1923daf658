"""Resident memory of a process and all its descendants, summed: a bf16 index run embeds in a worker.

`/usr/bin/time -v` and `ru_maxrss` give one process's peak (with children: the largest one's), so an
indexer and its torch worker at their peaks together would read as the larger alone.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def descendants(pid: str) -> list[str]:
    """The process's children, their children, and so on (those alive now)."""
    out: list[str] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as f:
                    kids = f.read().split()
            except OSError:
                continue
            out += kids
            todo += kids
    return out


def resident_pages(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0  # exited between listing and reading


def tree_rss_mib(pid: str = "self") -> float:
    """The resident set of the process and its descendants together, in MiB."""
    return sum(resident_pages(p) for p in (pid, *descendants(pid))) * PAGE / MIB


class TreePeak:
    """The highest summed RSS of a process tree, sampled every `every` seconds while in the `with` block."""

    def __init__(self, pid: int | str = "self", every: float = 0.05) -> None:
        self.pid, self.every, self.peak_mib = str(pid), every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.peak_mib = max(self.peak_mib, tree_rss_mib(self.pid))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
