"""The index on disk: immutable segments, versions that list them, switched atomically; never pickled.

Layout of `index_dir`:
  CURRENT                    the name of the live version (replaced with os.replace)
  versions/v000042/manifest.json
                             the segments of that version, the articles deleted from each, the
                             duplicate file names (aliases) and the totals; beside it, what loading
                             would otherwise work out again: articles.json (article rows), and when
                             there is something to merge, bm25.json with the merged bm25_* files
  segments/s000007/          segment.json, articles.sqlite, chunks.faiss, chunks.npy, sentences.npy,
                             sentence_vecs.npy, bm25_*.npy, bm25_vocab.json; never changed once written
  quantizers/q000003.faiss   IVF cells, once the corpus outgrows exact search (see vector_index.py);
                             each segment then also holds lists-q000003.npy, its chunks' cells
  quantizers/t000002.npy     sentence cells, once the sentences outgrow the exact scan (sentence_cells.py);
                             each segment then also holds sentcells-t000002.npy and sentcodes-t000002.npy
  filecache.sqlite           size and mtime of each indexed file, so unchanged files are not re-read
  .lock                      held by the one indexer allowed at a time
  .usru-index                marks the folder as usru's: only such a folder is written and cleaned

Modules, one concern each: records (what an index holds and reports), segments (the segment format),
ivf (IVF cells on disk), view (a loaded version), rows (its sentence vectors, mapped from the segments), durability (versions, lock, crash-safe writes),
changes (which files changed), building (an update), storage (the seam a second backend implements),
ownership (which folder and which names in it are usru's), merged_bm25 and article_table (what a version
stores so that loading it merges and reads less), sentence_cells and sentence_ann (the sentence channel's
cells on disk, and searching them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.index.building import MAX_SEGMENTS, build_index
    from retrieval.index.changes import body_hash, list_sources
    from retrieval.index.durability import (
        FORMAT_VERSION,
        KEEP_VERSIONS,
        current_version,
        index_lock,
        write_faiss,
    )
    from retrieval.index.records import (
        ArticleInfo,
        ChunkRow,
        ChunkTable,
        IndexStats,
        IndexSummary,
        Progress,
        SentenceRow,
        SentenceTable,
        StoredArticle,
    )
    from retrieval.index.storage import FolderStore, IndexStore, StoredVersion
    from retrieval.index.view import Index, load_index

# Each name is imported from its module when first asked for: answering a question never needs the
# update's modules (building, changes: ~0.1 s of a cold `usru ask`).
_HOMES = {
    "MAX_SEGMENTS": "building",
    "build_index": "building",
    "body_hash": "changes",
    "list_sources": "changes",
    "FORMAT_VERSION": "durability",
    "KEEP_VERSIONS": "durability",
    "current_version": "durability",
    "index_lock": "durability",
    "write_faiss": "durability",
    "FolderStore": "storage",
    "IndexStore": "storage",
    "StoredVersion": "storage",
    "Index": "view",
    "load_index": "view",
}


def __getattr__(name: str) -> Any:
    """A name of __all__, from its module, or a submodule (PEP 562)."""
    home = _HOMES.get(name) or ("records" if name in __all__ else None)
    if home is None:
        # A submodule named as an attribute (retrieval.index.building after `import retrieval.index`).
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the submodule is there, and something it imports is not
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from exc
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FORMAT_VERSION",
    "KEEP_VERSIONS",
    "MAX_SEGMENTS",
    "ArticleInfo",
    "ChunkRow",
    "ChunkTable",
    "FolderStore",
    "Index",
    "IndexStats",
    "IndexStore",
    "IndexSummary",
    "Progress",
    "SentenceRow",
    "SentenceTable",
    "StoredArticle",
    "StoredVersion",
    "body_hash",
    "build_index",
    "current_version",
    "index_lock",
    "list_sources",
    "load_index",
    "write_faiss",
]
