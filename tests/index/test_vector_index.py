"""The chunk-vector index: exact while small, IVF past a threshold, kept up to date segment by segment."""

from __future__ import annotations

import json
from pathlib import Path

import faiss
import numpy as np
import pytest

import retrieval.index as store
import retrieval.index.ivf as ivf
import retrieval.vector_index as vector_index
from retrieval.embedding import HashingEmbedder
from retrieval.errors import IndexError_
from retrieval.index import build_index, load_index
from retrieval.index.stored_ivf import RECORD as STORED_IVF
from retrieval.search import search_chunks
from retrieval.vector_index import assign_lists, build_vector_index, count_lists, train_quantizer
from tests.conftest import copy_seeds
from tests.index.test_segments import write_synthetic

QUESTIONS = [
    "What did Lavrov say about arms control?",
    "Talks on grain exports",
    "Arctic shipping round 7",
    "sanctions on Russian banks",
]


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [1, 100, 5_000, 100_000, 1_000_000])
def test_count_lists_is_a_power_of_two_with_enough_points_per_cell(n: int) -> None:
    lists = count_lists(n)
    assert lists >= 1
    assert lists * vector_index.MIN_POINTS_PER_CELL <= max(n, vector_index.MIN_POINTS_PER_CELL)
    if n >= 100_000:
        assert lists & (lists - 1) == 0
        assert np.sqrt(n) <= lists <= 4 * np.sqrt(n)


def test_ivf_scanning_every_cell_finds_what_exact_search_finds() -> None:
    x = unit_vectors(3_000)
    quantizer = train_quantizer(x[:2_000], 16)
    ivf = build_vector_index(x, quantizer, assign_lists(quantizer, x))
    ivf.nprobe = 16
    flat = build_vector_index(x)
    queries = unit_vectors(20, seed=1)
    d_ivf, i_ivf = ivf.search(queries, 10)
    d_flat, i_flat = flat.search(queries, 10)
    np.testing.assert_allclose(d_ivf, d_flat, rtol=1e-5)
    assert (i_ivf == i_flat).mean() > 0.99  # ties may swap
    np.testing.assert_array_equal(ivf.reconstruct_n(0, 3_000), x)


def test_ivf_with_few_cells_scanned_still_finds_most_neighbours_of_clustered_data() -> None:
    rng = np.random.default_rng(2)
    centres = unit_vectors(50, seed=3)
    x = centres[rng.integers(0, 50, 5_000)] + 0.15 * rng.standard_normal((5_000, 32)).astype(np.float32)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    quantizer = train_quantizer(x, 64)
    ivf = build_vector_index(x, quantizer)
    ivf.nprobe = 8
    _, found = ivf.search(x[:100], 10)
    _, exact = build_vector_index(x).search(x[:100], 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
    assert recall >= 0.9


def test_a_vector_filed_under_a_missing_cell_is_refused() -> None:
    x = unit_vectors(200)
    quantizer = train_quantizer(x, 4)
    with pytest.raises(ValueError, match="cell"):
        build_vector_index(x, quantizer, np.full(200, 9, dtype=np.int64))


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """IVF from a few dozen chunks on, with every cell scanned, so results must equal exact search."""
    monkeypatch.setattr(ivf, "FLAT_MAX", 30)
    monkeypatch.setattr(vector_index, "MIN_POINTS_PER_CELL", 4)
    monkeypatch.setattr(vector_index, "NPROBE", 1_000)


def make_corpus(root: Path, synthetic: int) -> Path:
    sources = copy_seeds(root / "sources")
    for i in range(synthetic):
        write_synthetic(sources, i)
    return sources


def top_chunks(index_dir: Path) -> list[list[tuple[str, int, float]]]:
    index = load_index(index_dir)
    embedder = HashingEmbedder()
    return [
        [
            (
                index.article(int(index.chunks[h.chunk_id][0])).source,
                int(index.chunks[h.chunk_id][1]),
                round(h.dense, 5),
            )
            for h in search_chunks(index, embedder, q, 8)
        ]
        for q in QUESTIONS
    ]


def manifest(index_dir: Path) -> dict:
    version = (index_dir / "CURRENT").read_text().strip()
    return json.loads((index_dir / "versions" / version / "manifest.json").read_text())


def test_past_the_threshold_the_index_is_ivf_and_answers_like_exact_search(
    tmp_path: Path, small_threshold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = make_corpus(tmp_path, 30)
    build_index(sources, tmp_path / "ivf", HashingEmbedder())
    info = manifest(tmp_path / "ivf")["quantizer"]
    index = load_index(tmp_path / "ivf")
    # The cells hold float16 copies; answers are scored from the float32 files (chunk_search.py).
    assert isinstance(index.faiss, faiss.IndexIVFScalarQuantizer)
    assert index.faiss.nlist == info["lists"] > 1
    assert index.faiss.ntotal == len(index.chunks)
    for seg in manifest(tmp_path / "ivf")["segments"]:
        assert (tmp_path / "ivf" / "segments" / seg["name"] / f"lists-{info['name']}.npy").is_file()

    monkeypatch.setattr(ivf, "FLAT_MAX", 10**9)
    build_index(sources, tmp_path / "flat", HashingEmbedder())
    assert "quantizer" not in manifest(tmp_path / "flat")
    assert isinstance(load_index(tmp_path / "flat").faiss, faiss.IndexFlatIP)
    assert top_chunks(tmp_path / "ivf") == top_chunks(tmp_path / "flat")


def test_adding_and_deleting_articles_keeps_the_cells_and_files_only_new_chunks(
    tmp_path: Path, small_threshold: None
) -> None:
    sources = make_corpus(tmp_path, 30)
    idx = tmp_path / "idx"
    build_index(sources, idx, HashingEmbedder())
    first = manifest(idx)["quantizer"]
    write_synthetic(sources, 40)
    (sources / "synthetic_003.txt").unlink()
    build_index(sources, idx, HashingEmbedder())
    after = manifest(idx)
    assert after["quantizer"] == first  # no retraining for a small change
    newest = after["segments"][-1]["name"]
    lists = np.load(idx / "segments" / newest / f"lists-{first['name']}.npy")
    assert len(lists) == json.loads((idx / "segments" / newest / "segment.json").read_text())["chunks"]
    index = load_index(idx)
    assert index.faiss.ntotal == len(index.chunks)
    assert index.article_by_source("synthetic_003.txt") is None
    hits = search_chunks(index, HashingEmbedder(), "Talks on fishing quotas number 40 round 40", 3)
    assert index.article(int(index.chunks[hits[0].chunk_id][0])).source == "synthetic_040.txt"

    fresh = tmp_path / "fresh"
    build_index(sources, fresh, HashingEmbedder())
    assert top_chunks(idx) == top_chunks(fresh)


def test_the_cells_are_retrained_when_the_corpus_outgrows_them_and_dropped_below_the_threshold(
    tmp_path: Path, small_threshold: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ivf, "RETRAIN_GROWTH", 1.2)
    sources = make_corpus(tmp_path, 30)
    idx = tmp_path / "idx"
    build_index(sources, idx, HashingEmbedder())
    first = manifest(idx)["quantizer"]["name"]
    for i in range(40, 60):
        write_synthetic(sources, i)
    build_index(sources, idx, HashingEmbedder())
    second = manifest(idx)["quantizer"]
    assert second["name"] != first
    assert second["trained_on"] == manifest(idx)["chunks"]

    for f in sources.glob("synthetic_*.txt"):
        f.unlink()
    build_index(sources, idx, HashingEmbedder())
    assert "quantizer" not in manifest(idx)
    assert isinstance(load_index(idx).faiss, faiss.IndexFlatIP)
    for n in range(store.KEEP_VERSIONS):
        write_synthetic(sources, 99)
        # Different each time: a run that changes nothing writes no version (issue 15).
        (sources / "synthetic_099.txt").write_text(
            f"Talks moved on, round {n}.\n\nNothing else was said today.\n"
        )
        build_index(sources, idx, HashingEmbedder())
    assert not list((idx / "quantizers").glob("*.faiss"))  # no kept version uses them any more


def test_a_damaged_lists_file_is_worked_out_again_and_a_damaged_cell_file_names_the_rebuild(
    tmp_path: Path, small_threshold: None
) -> None:
    sources = make_corpus(tmp_path, 30)
    idx = tmp_path / "idx"
    build_index(sources, idx, HashingEmbedder())
    expected = top_chunks(idx)
    info = manifest(idx)["quantizer"]
    # As a version written before its filled IVF was stored: loading fills it from these files.
    (idx / "versions" / manifest(idx)["version"] / STORED_IVF).unlink()
    for f in (idx / "segments").glob(f"*/lists-{info['name']}.npy"):
        f.write_bytes(b"not a numpy file")
    assert top_chunks(idx) == expected

    (idx / "quantizers" / f"{info['name']}.faiss").write_bytes(b"\0" * 10)
    with pytest.raises(IndexError_, match="usru index --rebuild"):
        load_index(idx)
    build_index(sources, idx, HashingEmbedder(), rebuild=True)
    assert top_chunks(idx) == expected
