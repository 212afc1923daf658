"""compare and timeline with the real model, on the AllSides articles of the Helsinki summit's week."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.archive_slice import RUSSIA
from bench.corpora import read_records
from retrieval import api
from retrieval.importer import ImportOptions, import_dump
from retrieval.service import build_service
from retrieval.settings import Settings
from tests.coverage.conftest import ALLSIDES
from tests.support.corpus import assert_verbatim

pytestmark = pytest.mark.model
SUMMIT = re.compile(r"helsinki|summit|putin|press conference", re.IGNORECASE)


def test_each_leanings_best_quote_is_on_the_summit_with_the_real_model(tmp_path: Path) -> None:
    if not ALLSIDES.is_file():
        pytest.skip(f"the shared AllSides archive is not at {ALLSIDES}")
    records = [
        r
        for r in read_records(ALLSIDES)
        if "2018-07-13" <= r["date"] <= "2018-07-19" and RUSSIA.search(r["title"])
    ]
    dump = tmp_path / "week.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (tmp_path / "sources").mkdir()
    import_dump(dump, tmp_path / "sources", ImportOptions())
    service = build_service(
        Settings(_env_file=None, sources=tmp_path / "sources", index_dir=tmp_path / "idx")
    )
    comparison = api.compare_leanings(
        service, "What happened at the Helsinki summit between Trump and Putin?"
    )
    assert [g.leaning for g in comparison.groups] == ["left", "center", "right"]
    for group in comparison.groups:
        assert group.citations, f"{group.leaning}: nothing relevant"
        assert_verbatim(service, group.citations)
        assert SUMMIT.search(group.citations[0].quote), (group.leaning, group.citations[0].quote)
    timeline = api.topic_timeline(service, "Helsinki summit", "week")
    assert timeline.peaks and all(p.citation for p in timeline.peaks)
    assert_verbatim(service, [p.citation for p in timeline.peaks if p.citation])
