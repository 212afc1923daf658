"""A version stores its merged postings when written (issue 13): loading maps them instead of merging."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index import Index, build_index, load_index
from retrieval.index.merged_bm25 import RECORD
from retrieval.lexical import Bm25, tokenize
from tests.conftest import SEED_NAMES, SEEDS
from tests.index.test_bm25_merge import postings
from tests.index.test_segments import write_synthetic
from tests.support.mapping import is_mapped

QUESTIONS = ("grain exports framework", "arms control talks", "Putin Obama Independence Day")


def several_segments_with_deletions(tmp_path: Path, added: int = 3, removed: int = 1) -> Path:
    """An index of the seeds, then `added` one-article updates, then the seed `removed` deleted."""
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    for i in range(added):
        write_synthetic(sources, i)
        build_index(sources, index_dir, HashingEmbedder())
    (sources / SEED_NAMES[removed]).unlink()
    build_index(sources, index_dir, HashingEmbedder())
    return index_dir


def assert_same_bm25(a: Bm25, b: Bm25) -> None:
    assert postings(a) == postings(b)
    assert list(a.vocab) == list(b.vocab)  # the same order: the sound index is built in it
    assert np.array_equal(a.doc_lens, b.doc_lens) and a.avg_len == b.avg_len
    for q in QUESTIONS:
        assert np.array_equal(a.scores(tokenize(q)), b.scores(tokenize(q)))


def merged_at_load(index_dir: Path) -> Index:
    """The live version loaded as a version written before its postings were stored."""
    version = load_index(index_dir).folder
    (version / RECORD).unlink()
    return load_index(index_dir)


def test_loading_maps_the_stored_postings_and_they_equal_merging_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = several_segments_with_deletions(tmp_path)
    live = load_index(index_dir)
    assert len(live.manifest["segments"]) > 1 and any(s["deleted"] for s in live.manifest["segments"])
    assert (live.folder / RECORD).is_file()

    def refuse(parts: object) -> Bm25:
        raise AssertionError("merged at load")

    monkeypatch.setattr(Bm25, "merge", staticmethod(refuse))
    stored = load_index(index_dir).bm25
    assert is_mapped(stored.doc_ids)
    monkeypatch.undo()
    assert_same_bm25(stored, merged_at_load(index_dir).bm25)


@pytest.mark.parametrize("damage", ["truncate", "stale"])
def test_stored_postings_that_do_not_match_their_record_are_merged_again(tmp_path: Path, damage: str) -> None:
    index_dir = several_segments_with_deletions(tmp_path)
    folder = load_index(index_dir).folder
    expected = load_index(index_dir).bm25
    if damage == "truncate":
        # A new file in its place: `expected` maps the old one, as a running bot would.
        path, short = folder / "bm25_doc_ids.npy", folder / "short.npy"
        short.write_bytes(path.read_bytes()[:-4])
        short.replace(path)
    else:  # the record of another version's segments
        record = folder / RECORD
        record.write_text(record.read_text().replace('"key": "', '"key": "0'))
    loaded = load_index(index_dir).bm25
    assert not is_mapped(loaded.doc_ids)
    assert_same_bm25(loaded, expected)


def test_a_single_segment_with_nothing_deleted_stores_nothing_to_merge(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    build_index(SEEDS, index_dir, HashingEmbedder())
    assert not (load_index(index_dir).folder / RECORD).exists()


def test_with_stored_postings_no_segment_s_vocabulary_or_postings_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = several_segments_with_deletions(tmp_path)
    expected = merged_at_load(several_segments_with_deletions(tmp_path / "again"))
    read: list[Path] = []
    load = Bm25.load.__func__  # type: ignore[attr-defined]

    def recorded(cls: type[Bm25], folder: Path, mmap: bool = False) -> Bm25:
        read.append(folder)
        return load(cls, folder, mmap)  # type: ignore[no-any-return]

    monkeypatch.setattr(Bm25, "load", classmethod(recorded))
    live = load_index(index_dir)
    assert read == [live.folder]  # the version's merged postings only
    assert_same_bm25(live.bm25, expected.bm25)
    assert [a.source for a in live.articles] == [a.source for a in expected.articles]
    assert np.array_equal(live.chunks.rows, expected.chunks.rows)
