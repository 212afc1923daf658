"""A version's article rows (metadata and text lengths, not texts), stored when it is written (issue 13).

Loading a version read each segment's articles.sqlite from end to end: the columns stored after the
text, and the length of the text (checked against the sentences' offsets), make SQLite read every text
page, about half a CPU-second and the whole files' pages on the 22,835-article corpus before a cold
`usru ask` can answer. An update now stores the rows once as articles.json in the new version's folder
(JSON, never a pickle): per segment, the rows and a sampled digest of the articles.sqlite they were read
from. Rows of segments the live version already stored are taken from it, so adding one article reads
only the new segment's file. Loading uses a segment's rows when its file still matches their digest,
and reads the file as before otherwise (a version written before, or a changed file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retrieval.index.digest import sampled_digest
from retrieval.index.texts import SegmentTexts, article_row

TABLE = "articles.json"
LAYOUT = "usru-article-rows-1"  # changes when a row's fields change
_FIELDS = 9


def _stored(folder: Path) -> dict[str, Any]:
    try:
        table = json.loads((folder / TABLE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none stored (an older version) or damaged: the segments' files are read
    if (
        not isinstance(table, dict)
        or table.get("layout") != LAYOUT
        or not isinstance(table.get("segments"), dict)
    ):
        return {}
    segments: dict[str, Any] = table["segments"]
    return segments


def write_article_table(folder: Path, index_dir: Path, manifest: dict[str, Any], live: Path | None) -> None:
    """Store the rows of the version's segments in its (not yet live) folder; `live`: the live version's."""
    previous = _stored(live) if live is not None else {}
    segments: dict[str, Any] = {}
    for s in manifest["segments"]:
        path = index_dir / "segments" / s["name"] / "articles.sqlite"
        digest = sampled_digest(path)
        kept = previous.get(s["name"])
        if isinstance(kept, dict) and kept.get("sqlite") == digest:
            segments[s["name"]] = kept
            continue
        articles, lengths = SegmentTexts(path).articles()
        rows = [article_row(a, n) for a, n in zip(articles, lengths, strict=True)]
        segments[s["name"]] = {"sqlite": digest, "rows": rows}
    text = json.dumps({"layout": LAYOUT, "segments": segments}, ensure_ascii=False, separators=(",", ":"))
    (folder / TABLE).write_text(text, encoding="utf-8")


def _are_rows(rows: list[Any]) -> bool:
    """Eight strings or nulls (metadata) and a length per row, as write_article_table writes them.

    Checked column by column over the whole table: a check call per row took 0.2 s at 22,835 articles.
    """
    if not all(type(r) is list and len(r) == _FIELDS for r in rows):
        return False
    lengths = [r[-1] for r in rows]
    if not all(isinstance(n, int) and n >= 0 for n in lengths):
        return False
    kinds = {type(v) for r in rows for v in r[:-1]}
    return kinds <= {str, type(None)}


def read_article_rows(folder: Path, manifest: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Each segment's stored rows, by segment name, for the segments whose files still match them."""
    stored = _stored(folder)
    out: dict[str, list[list[Any]]] = {}
    for s in manifest["segments"]:  # names read_manifest checked, never the table's own
        entry = stored.get(s["name"])
        if not isinstance(entry, dict):
            continue
        try:
            rows = entry["rows"]
            path = folder.parent.parent / "segments" / s["name"] / "articles.sqlite"
            if isinstance(rows, list) and _are_rows(rows) and sampled_digest(path) == entry["sqlite"]:
                out[s["name"]] = rows
        except (OSError, KeyError, TypeError):
            continue  # that segment's file is read instead
    return out
