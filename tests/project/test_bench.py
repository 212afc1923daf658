"""Smoke runs of the benchmark code at tiny sizes, so `make bench` keeps working (no timings asserted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.indexing import chunk_texts, write_corpus
from bench.scale import generate_sentences, measure_size, render_markdown, sample_corpus
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index


def test_the_synthetic_corpus_has_the_chunks_usru_indexes_and_no_repeated_sentence(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 30)
    texts = chunk_texts(tmp_path / "corpus")
    summary = build_index(tmp_path / "corpus", tmp_path / "idx", HashingEmbedder())
    assert (summary.articles, summary.chunks) == (30, len(texts))
    bodies = [p.read_text(encoding="utf-8").split("---\n", 2)[2] for p in (tmp_path / "corpus").iterdir()]
    sentences = [s for body in bodies for s in body.replace("\n\n", " ").split(". ") if s.strip()]
    assert len(sentences) == len(set(sentences))


def test_generated_sentences_are_distinct_and_reproducible() -> None:
    first = generate_sentences(500)
    assert len(set(first)) == 500
    assert first == generate_sentences(500)


def test_the_scale_measurement_runs_and_finds_neighbours_at_a_tiny_size() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((300, 32)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    corpus = sample_corpus(centres, 1_000, rng)
    np.testing.assert_allclose(np.linalg.norm(corpus, axis=1), 1.0, rtol=1e-5)
    result = measure_size(centres[:250], np.ascontiguousarray(centres[250:]), 4_000, seed=1)
    assert result["chunks"] == 4_000
    assert result["index"].startswith("IVF")
    assert 0.8 <= result["recall_at_10"] <= 1.0
    table = render_markdown({"queries": 50, "base_sentences": 250, "sizes": {"4000": result}})
    assert any(line.startswith("| 4,000 | IVF") for line in table)
