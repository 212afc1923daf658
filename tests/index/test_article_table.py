"""A version stores its article rows when written (issue 13): loading does not read every articles.sqlite."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.index.article_table import TABLE
from retrieval.index.records import StoredArticle
from retrieval.index.texts import SegmentTexts
from tests.conftest import SEEDS
from tests.index.test_merged_bm25 import several_segments_with_deletions
from tests.index.test_segments import write_synthetic


def rows(articles: list[StoredArticle]) -> list[tuple[Any, ...]]:
    return [(a.id, a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.text, a.body_hash,
             a.leaning) for a in articles]  # fmt: skip


def files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The articles.sqlite files whose rows are read from the file (not from stored rows)."""
    read: list[str] = []
    original = SegmentTexts.articles

    def articles(self: SegmentTexts, rows: Any = None) -> Any:
        if rows is None:
            read.append("a file")
        return original(self, rows)

    monkeypatch.setattr(SegmentTexts, "articles", articles)
    return read


def test_loading_takes_the_stored_rows_and_they_equal_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = several_segments_with_deletions(tmp_path, added=2, removed=0)
    read = files_read(monkeypatch)
    stored = load_index(index_dir)
    assert read == [] and len(stored.manifest["segments"]) > 1
    (stored.folder / TABLE).unlink()
    from_files = load_index(index_dir)
    assert len(read) == len(stored.manifest["segments"])
    assert rows(stored.articles) == rows(from_files.articles)


def test_an_update_reads_only_the_new_segment_s_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    name = write_synthetic(sources, 0)
    read = files_read(monkeypatch)
    build_index(sources, index_dir, HashingEmbedder(), paths=[sources / name])
    assert len(read) == 1  # the new segment's, not the seeds' again
    assert [a.source for a in load_index(index_dir).articles][-1] == name


def changed_file(table: dict[str, Any]) -> None:
    entry = next(iter(table["segments"].values()))
    entry["sqlite"] = "0" + entry["sqlite"][1:]


def title_of_wrong_type(table: dict[str, Any]) -> None:
    next(iter(table["segments"].values()))["rows"][0][1] = 7


def negative_length(table: dict[str, Any]) -> None:
    next(iter(table["segments"].values()))["rows"][-1][-1] = -1


def row_too_short(table: dict[str, Any]) -> None:
    next(iter(table["segments"].values()))["rows"][1].pop(2)


@pytest.mark.parametrize("damage", [changed_file, title_of_wrong_type, negative_length, row_too_short])
def test_rows_that_do_not_match_the_segment_file_are_read_from_it_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[dict[str, Any]], None]
) -> None:
    index_dir = tmp_path / "idx"
    build_index(SEEDS, index_dir, HashingEmbedder())
    expected = rows(load_index(index_dir).articles)
    path = load_index(index_dir).folder / TABLE
    table = json.loads(path.read_text(encoding="utf-8"))
    damage(table)
    path.write_text(json.dumps(table), encoding="utf-8")
    read = files_read(monkeypatch)
    assert rows(load_index(index_dir).articles) == expected
    assert read == ["a file"]
