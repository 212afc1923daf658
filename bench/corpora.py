"""Where the shared news archives are: $USRU_CORPORA, else `<repo>/../shared/corpora`."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ("reuters-2016-2017", "allsides-2014-2019")


def corpora_dir() -> Path:
    """The folder holding the archives (it may not exist: callers say so and skip).

    $USRU_CORPORA, else `shared/corpora` beside the repo (or beside the folder of a git worktree).
    """
    if os.environ.get("USRU_CORPORA"):
        return Path(os.environ["USRU_CORPORA"])
    beside = [up / "shared" / "corpora" for up in (ROOT.parent, ROOT.parent.parent)]
    return next((p for p in beside if p.is_dir()), beside[0])


def corpus_path(name: str) -> Path:
    """The gzip JSON Lines file of one archive."""
    return corpora_dir() / f"{name}.jsonl.gz"


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON records of a gzip JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_corpus(name: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The archive's records, in file order (the first `limit` only, if given)."""
    for n, record in enumerate(read_records(corpus_path(name))):
        if limit is not None and n >= limit:
            return
        yield record
