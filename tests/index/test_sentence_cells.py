"""The sentence channel past the scan limit: sentences filed in cells per segment, searched by cells."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval import sentence_search
from retrieval.embedding import HashingEmbedder
from retrieval.errors import IndexError_
from retrieval.index import build_index, load_index, sentence_cells
from retrieval.index.sentence_cells import codes_path, lists_path
from retrieval.index.view import Index
from tests.conftest import copy_seeds


@pytest.fixture
def past_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds count as a large index: filed in cells, and searched through them."""
    monkeypatch.setattr(sentence_cells, "SCAN_MAX", 50)
    monkeypatch.setattr(sentence_search, "MAX_SCANNED", 50)


def build(root: Path) -> Index:
    build_index(root / "sources", root / "index", HashingEmbedder())
    return load_index(root / "index")


def quotable(index: Index) -> list[int]:
    return np.flatnonzero(np.asarray(index.sentences.quotable) > 0).tolist()


def scanned(index: Index, qvec: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> list[int]:
    """The channel's chunks by the exact scan of every sentence."""
    limit = sentence_search.MAX_SCANNED
    sentence_search.MAX_SCANNED = 10**9
    try:
        return sentence_search.search_sentence_chunks(index, qvec, depth, allowed)
    finally:
        sentence_search.MAX_SCANNED = limit


def top_scores(index: Index, qvec: np.ndarray, chunks: list[int]) -> list[float]:
    """Each chunk's best sentence score, rounded (ties may list different chunks in either order)."""
    owner = sentence_search.sentence_chunks(index)
    scores = np.asarray(index.sentence_vecs[np.arange(len(index.sentences))]) @ qvec
    return [round(float(scores[owner == c].max()), 5) for c in chunks]


def test_small_indexes_are_scanned_and_name_no_cells(tmp_path: Path) -> None:
    copy_seeds(tmp_path / "sources")
    index = build(tmp_path)
    assert "sentence_cells" not in index.manifest and index.sentence_ann is None
    assert not list((tmp_path / "index" / "segments").glob("*/sent*-t*.npy"))


def test_past_the_limit_every_segment_is_filed_and_search_matches_the_scan(
    tmp_path: Path, past_the_scan: None
) -> None:
    copy_seeds(tmp_path / "sources")
    index = build(tmp_path)
    info = index.manifest["sentence_cells"]
    assert info["trained_on"] == len(index.sentences) and index.sentence_ann is not None
    for seg in index.manifest["segments"]:
        folder = tmp_path / "index" / "segments" / seg["name"]
        assert lists_path(folder, info["name"]).is_file() and codes_path(folder, info["name"]).is_file()
    for sid in quotable(index)[::5]:
        qvec = index.sentence_vecs[sid]
        found = sentence_search.search_sentence_chunks(index, qvec, 6)
        # Every cell is read at this size (NPROBE ≥ cells): the same chunks as the scan, up to ties.
        assert top_scores(index, qvec, found) == top_scores(index, qvec, scanned(index, qvec, 6))
        assert found[0] == int(sentence_search.sentence_chunks(index)[sid])


def test_one_cell_read_still_finds_the_sentences_own_chunk(tmp_path: Path, past_the_scan: None) -> None:
    copy_seeds(tmp_path / "sources")
    index = build(tmp_path)
    assert index.sentence_ann is not None
    for sid in quotable(index)[::7]:
        ids, scores, _ = index.sentence_ann.search(index.sentence_vecs[sid], 4, nprobe=1)
        assert int(ids[0]) == sid and scores[0] == pytest.approx(1.0, abs=1e-5)
        assert list(scores) == sorted(scores, reverse=True)


def test_an_added_article_files_only_its_segment_under_the_same_cells(
    tmp_path: Path, past_the_scan: None
) -> None:
    seeds = sorted(copy_seeds(tmp_path / "all").iterdir())
    (tmp_path / "sources").mkdir()
    for f in seeds[:-1]:
        shutil.copy(f, tmp_path / "sources" / f.name)
    first = build(tmp_path)
    old = {p: p.stat().st_ino for p in (tmp_path / "index" / "segments").glob("*/sent*-t*.npy")}
    shutil.copy(seeds[-1], tmp_path / "sources" / seeds[-1].name)
    second = build(tmp_path)
    assert second.manifest["sentence_cells"]["name"] == first.manifest["sentence_cells"]["name"]
    assert {p: p.stat().st_ino for p in old} == old  # not written again
    new = second.manifest["segments"][-1]["name"]
    assert lists_path(
        tmp_path / "index" / "segments" / new, second.manifest["sentence_cells"]["name"]
    ).is_file()
    added = second.article_by_source(seeds[-1].name)
    assert added is not None
    sid = next(s for s in quotable(second) if second.sentences.row(s).article == added.id)
    found = sentence_search.search_sentence_chunks(second, second.sentence_vecs[sid], 3)
    assert found[0] == int(sentence_search.sentence_chunks(second)[sid])


def test_deleted_articles_sentences_are_never_returned(tmp_path: Path, past_the_scan: None) -> None:
    copy_seeds(tmp_path / "sources")
    before = build(tmp_path)
    gone = sorted((tmp_path / "sources").iterdir())[1]
    gone_article = before.article_by_source(gone.name)
    assert gone_article is not None
    vec = before.sentence_vecs[
        next(s for s in quotable(before) if before.sentences.row(s).article == gone_article.id)
    ]
    gone.unlink()
    after = build(tmp_path)
    assert any(s["deleted"] for s in after.manifest["segments"])
    found = sentence_search.search_sentence_chunks(after, vec, 8)
    assert found and all(after.chunks.row(c).article < len(after.articles) for c in found)
    sources = {after.article(after.chunks.row(c).article).source for c in found}
    assert gone.name not in sources
    assert top_scores(after, vec, found) == top_scores(after, vec, scanned(after, vec, 8))


def test_a_damaged_segment_filing_is_scanned_exactly_instead(tmp_path: Path, past_the_scan: None) -> None:
    copy_seeds(tmp_path / "sources")
    build(tmp_path)
    info = load_index(tmp_path / "index").manifest["sentence_cells"]
    for folder in (tmp_path / "index" / "segments").iterdir():
        lists_path(folder, info["name"]).write_bytes(b"\x93NUMPY garbage")
        codes_path(folder, info["name"]).unlink()
    index = load_index(tmp_path / "index")
    for sid in quotable(index)[::9]:
        qvec = index.sentence_vecs[sid]
        found = sentence_search.search_sentence_chunks(index, qvec, 5)
        assert top_scores(index, qvec, found) == top_scores(index, qvec, scanned(index, qvec, 5))


def test_filters_hold_through_the_cells(
    tmp_path: Path, past_the_scan: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_seeds(tmp_path / "sources")
    index = build(tmp_path)
    sid = quotable(index)[10]
    own = int(sentence_search.sentence_chunks(index)[sid])
    allowed = np.array([c for c in range(len(index.chunks)) if c != own], dtype=np.int64)[::2]
    qvec = index.sentence_vecs[sid]
    for exact_up_to in (10**6, 0):  # the admitted sentences scored exactly, then through the cells
        monkeypatch.setattr(sentence_search, "EXACT_FILTERED", exact_up_to)
        found = sentence_search.search_sentence_chunks(index, qvec, 6, allowed)
        assert found and own not in found and set(found) <= set(allowed.tolist())
        assert top_scores(index, qvec, found) == top_scores(index, qvec, scanned(index, qvec, 6, allowed))


def test_a_manifest_naming_cells_outside_the_folder_is_refused(tmp_path: Path, past_the_scan: None) -> None:
    copy_seeds(tmp_path / "sources")
    index = build(tmp_path)
    path = tmp_path / "index" / "versions" / index.version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["sentence_cells"]["name"] = "../../t000001"
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexError_, match="damaged"):
        load_index(tmp_path / "index")


def test_cells_no_kept_version_names_are_cleaned_away(tmp_path: Path, past_the_scan: None) -> None:
    copy_seeds(tmp_path / "sources")
    build(tmp_path)
    build_index(tmp_path / "sources", tmp_path / "index", HashingEmbedder(), rebuild=True)
    for _ in range(3):  # the first version falls out of the kept ones
        (tmp_path / "sources" / "extra.md").write_text(f"# Extra\n\nArms talks resumed {_} times.\n")
        build_index(tmp_path / "sources", tmp_path / "index", HashingEmbedder())
    live = load_index(tmp_path / "index").manifest["sentence_cells"]["name"]
    assert sorted(p.stem for p in (tmp_path / "index" / "quantizers").glob("t*.npy")) == [live]
    assert {p.stem.split("-", 1)[1] for p in (tmp_path / "index" / "segments").glob("*/sent*-t*.npy")} == {
        live
    }


def test_an_update_stopped_while_filing_keeps_the_live_version_and_the_next_run_files_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = sorted(copy_seeds(tmp_path / "all").iterdir())
    (tmp_path / "sources").mkdir()
    for f in seeds[:2]:
        shutil.copy(f, tmp_path / "sources" / f.name)
    for f in seeds[2:4]:  # three segments, so that the filing can stop between two of them
        shutil.copy(f, tmp_path / "sources" / f.name)
        build(tmp_path)
    live = load_index(tmp_path / "index").version
    monkeypatch.setattr(sentence_cells, "SCAN_MAX", 20)
    monkeypatch.setattr(sentence_search, "MAX_SCANNED", 20)
    real = sentence_cells.file_segment
    calls: list[Path] = []

    def stop_at_the_second(folder: Path, cells: sentence_cells.Cells) -> None:
        calls.append(folder)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(folder, cells)

    monkeypatch.setattr(sentence_cells, "file_segment", stop_at_the_second)
    shutil.copy(seeds[4], tmp_path / "sources" / seeds[4].name)
    with pytest.raises(IndexError_):
        build_index(tmp_path / "sources", tmp_path / "index", HashingEmbedder())
    assert load_index(tmp_path / "index").version == live
    monkeypatch.setattr(sentence_cells, "file_segment", real)
    index = build(tmp_path)
    name = index.manifest["sentence_cells"]["name"]
    for seg in index.manifest["segments"]:
        assert lists_path(tmp_path / "index" / "segments" / seg["name"], name).is_file()
    sid = quotable(index)[3]
    assert sentence_search.search_sentence_chunks(index, index.sentence_vecs[sid], 3)[0] == int(
        sentence_search.sentence_chunks(index)[sid]
    )


def test_spans_of_probed_cells_list_every_position_in_order() -> None:
    from retrieval.index.sentence_ann import _spans

    lo = np.array([0, 5, 5, 9, 20], dtype=np.int64)
    hi = np.array([3, 5, 8, 12, 21], dtype=np.int64)
    want = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
    assert _spans(lo, hi).tolist() == want.tolist()
    assert _spans(lo[:0], hi[:0]).tolist() == []
