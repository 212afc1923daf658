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
    """The folder holding the archives (it may not exist: callers say so and skip)."""
    return Path(os.environ.get("USRU_CORPORA") or ROOT.parent / "shared" / "corpora")


def corpus_path(name: str) -> Path:
    """The gzip JSON Lines file of one archive."""
    return corpora_dir() / f"{name}.jsonl.gz"


def read_corpus(name: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The archive's records, in file order (the first `limit` only, if given)."""
    with gzip.open(corpus_path(name), "rt", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                return
            yield json.loads(line)
