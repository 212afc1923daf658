"""Resuming a long update: segments a stopped run finished are kept and taken up by the next run.

An update writes its new articles as segments of BATCH_ARTICLES each. After each one, the journal
(pending.json) names the segments finished so far and how their vectors were made. A run killed
part-way leaves them; the next run takes from them every article whose file still has the same
content, and embeds only the rest. The journal is no version: the live version stays the last
complete one until an update publishes its own, and the journal is then removed.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.index.durability import PENDING, pending_segments, replace_durably
from retrieval.index.segments import check_segment_files

if TYPE_CHECKING:  # changes.py imports BATCH_ARTICLES from here
    from retrieval.index.changes import Planned

# Articles per segment in a long update: what a killed run can lose, and what one batch holds in memory.
BATCH_ARTICLES = 1000


def write_pending(index_dir: Path, key: dict[str, Any], names: list[str]) -> None:
    """Record the segments this update has finished, durably, before starting the next one."""
    tmp = index_dir / f".tmp-{uuid.uuid4().hex}"
    tmp.write_text(json.dumps({"key": key, "segments": names}), encoding="utf-8")
    replace_durably(tmp, index_dir / PENDING)


def clear_pending(index_dir: Path) -> None:
    """Forget the journal once a version holds what it listed (or nothing can be taken from it)."""
    with contextlib.suppress(FileNotFoundError):
        (index_dir / PENDING).unlink()


def _read_key(index_dir: Path) -> Any:
    try:
        return json.loads((index_dir / PENDING).read_text("utf-8")).get("key")
    except (OSError, ValueError, AttributeError):
        return None


def take_finished(
    index_dir: Path, key: dict[str, Any], added: list[Planned]
) -> tuple[list[dict[str, Any]], list[Planned], dict[str, int]]:
    """The finished segments holding some of `added` (their other articles listed as deleted), the
    articles still to embed, and the articles, chunks and sentences taken."""
    taken_counts = {"articles": 0, "chunks": 0, "sentences": 0}
    if _read_key(index_dir) != key:
        return [], added, taken_counts  # made with another model, chunker or scheme: embed again
    wanted = {(a.source, a.content_hash) for a in added}
    taken: set[tuple[str, str]] = set()
    segments = []
    for name in pending_segments(index_dir):
        folder = index_dir / "segments" / name
        try:
            check_segment_files(folder, contents=True)
            con = sqlite3.connect(f"file:{folder / 'articles.sqlite'}?mode=ro", uri=True)
            try:
                rows = con.execute(
                    "SELECT id, source, content_hash, n_chunks, n_sentences FROM articles ORDER BY id"
                ).fetchall()
            finally:
                con.close()
        except (OSError, ValueError, KeyError, TypeError, sqlite3.Error):
            continue  # damaged: its articles are embedded again
        deleted = []
        for aid, source, chash, n_chunks, n_sentences in rows:
            if (source, chash) in wanted and (source, chash) not in taken:
                taken.add((source, chash))
                taken_counts["articles"] += 1
                taken_counts["chunks"] += int(n_chunks)
                taken_counts["sentences"] += int(n_sentences)
            else:
                deleted.append(int(aid))  # changed or gone since: the new version must not show it
        if len(deleted) < len(rows):
            segments.append({"name": name, "deleted": deleted})
    rest = [a for a in added if (a.source, a.content_hash) not in taken]
    return segments, rest, taken_counts
