"""The AllSides slice for compare and timeline: Russia-mentioning articles of June and July 2018.

Read from the shared archive (never copied into the repo), written to a JSON Lines dump, imported with
`usru import` (which takes the leaning from the `bias` field) and indexed once with the hashing embedder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.archive_slice import RUSSIA
from bench.corpora import corpus_path, read_records
from retrieval.importer import ImportOptions, import_dump
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

ALLSIDES = corpus_path("allsides-2014-2019")
SINCE, UNTIL = "2018-06", "2018-07"


def in_slice(record: dict[str, Any]) -> bool:
    """June or July 2018, and Russia, Moscow, Putin or the Kremlin in the title or text."""
    date = str(record.get("date") or "")
    return SINCE <= date[:7] <= UNTIL and bool(
        RUSSIA.search(record["title"]) or RUSSIA.search(record["text"])
    )


@pytest.fixture(scope="session")
def slice_records() -> list[dict[str, Any]]:
    """The slice's records as the archive has them."""
    if not ALLSIDES.is_file():
        pytest.skip(f"the shared AllSides archive is not at {ALLSIDES}")
    return [r for r in read_records(ALLSIDES) if in_slice(r)]


@pytest.fixture(scope="session")
def slice_service(
    slice_records: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> AnsweringService:
    """The slice imported and indexed with the hashing embedder; shared: tests must not change it."""
    root = tmp_path_factory.mktemp("allsides_slice")
    dump = root / "slice.jsonl"
    dump.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in slice_records), encoding="utf-8"
    )
    sources = root / "sources"
    sources.mkdir()
    summary = import_dump(dump, sources, ImportOptions())
    assert len(summary.written) == len(slice_records) and not summary.skipped
    return build_service(hashing_settings_for(sources, root / "idx"))


def record_id(source: str) -> str:
    """The archive id an imported article's file name was made from."""
    return Path(source).stem.split("-")[0] + "-" + Path(source).stem.split("-")[1]
