"""Sentence vectors read in place across segments (issue 13): rows as a concatenation would give them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.index.rows import RowStack
from tests.conftest import copy_seeds
from tests.support.mapping import is_mapped


@pytest.fixture
def stack_and_rows() -> tuple[RowStack, np.ndarray]:
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal((n, 4)).astype(np.float32) for n in (5, 7, 3))
    kept_b = np.array([0, 2, 3, 6], dtype=np.int64)
    stack = RowStack([(a, None), (b, kept_b), (c, None)], 4)
    return stack, np.concatenate([a, b[kept_b], c])


def test_rows_are_those_of_the_kept_concatenation(stack_and_rows: tuple[RowStack, np.ndarray]) -> None:
    stack, rows = stack_and_rows
    assert len(stack) == len(rows) == 12 and stack.shape == (12, 4)
    for i in range(len(rows)):
        assert np.array_equal(stack[i], rows[i])
    assert np.array_equal(stack[-1], rows[-1])
    ids = np.array([11, 0, 6, 5, 5, 8])
    assert np.array_equal(stack[ids], rows[ids])
    mask = np.arange(12) % 3 == 0
    assert np.array_equal(stack[mask], rows[mask])
    assert np.array_equal(stack[2:9], rows[2:9])
    assert np.array_equal(np.asarray(stack), rows)
    assert stack[np.array([], dtype=np.int64)].shape == (0, 4)


def test_dot_products_are_those_of_the_kept_concatenation(
    stack_and_rows: tuple[RowStack, np.ndarray],
) -> None:
    stack, rows = stack_and_rows
    vector = np.array([0.5, -1.0, 2.0, 0.25], dtype=np.float32)
    assert stack.dot(vector).dtype == np.float32
    np.testing.assert_allclose(stack.dot(vector), rows @ vector, rtol=1e-6)
    assert RowStack([], 4).dot(vector).shape == (0,)


def test_a_row_out_of_range_is_refused(stack_and_rows: tuple[RowStack, np.ndarray]) -> None:
    stack, _ = stack_and_rows
    with pytest.raises(IndexError):
        stack[np.array([12])]
    with pytest.raises(IndexError):
        stack[np.ones(3, dtype=bool)]


def test_a_loaded_version_maps_its_sentence_vectors_from_disk(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "src")
    build_index(sources, tmp_path / "idx", HashingEmbedder())
    # Two more segments, one article deleted from the first: rows still follow the sentence table.
    (sources / "extra.txt").write_text("Title: Extra\n\nSanctions on Russia were extended again today.\n")
    build_index(sources, tmp_path / "idx", HashingEmbedder())
    gone = sorted(sources.glob("00*.txt"))[0]
    gone.unlink()
    build_index(sources, tmp_path / "idx", HashingEmbedder())
    index = load_index(tmp_path / "idx")
    assert isinstance(index.sentence_vecs, RowStack)
    assert all(is_mapped(a) for a in index.sentence_vecs._arrays)
    fresh_dir = tmp_path / "fresh"
    build_index(sources, fresh_dir, HashingEmbedder())
    fresh = load_index(fresh_dir)
    by_text = {
        index.articles[a].text[s:e]: index.sentence_vecs[i]
        for i, (a, s, e, _) in enumerate(index.sentences.rows.tolist())
    }
    for i, (a, s, e, _) in enumerate(fresh.sentences.rows.tolist()):
        assert np.array_equal(by_text[fresh.articles[a].text[s:e]], fresh.sentence_vecs[i])
    assert len(index.sentence_vecs) == len(fresh.sentence_vecs) == len(index.sentences)
