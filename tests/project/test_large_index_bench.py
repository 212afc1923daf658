"""The large-index memory bench makes an index of exactly the asked size from a smaller one (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.large_index import make_large, measure_large_build, render_markdown
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from tests.conftest import copy_seeds


def test_the_large_index_holds_exactly_the_asked_articles(tmp_path: Path) -> None:
    build_index(copy_seeds(tmp_path / "src"), tmp_path / "small", HashingEmbedder())
    small = load_index(tmp_path / "small")
    totals = make_large(tmp_path / "small", tmp_path / "large", articles=12)
    large = load_index(tmp_path / "large")
    assert totals == {"articles": 12, "chunks": len(large.chunks), "sentences": len(large.sentences)}
    assert len(large.articles) == 12 and len(large.chunks) > 2 * len(small.chunks)
    assert large.faiss.ntotal == len(large.chunks) and len(large.sentence_vecs) == len(large.sentences)
    # The small index's files are linked, never changed.
    assert load_index(tmp_path / "small").stats().articles == 5


def test_the_report_says_when_it_was_not_run() -> None:
    assert "Not run" in "\n".join(render_markdown(None))


def test_building_from_the_corpus_reports_its_peak_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.archive_slice import ALLSIDES
    from bench.corpora import corpora_dir

    if not (corpora_dir() / ALLSIDES).is_file():
        pytest.skip(f"the shared AllSides archive is not at {corpora_dir() / ALLSIDES}")
    monkeypatch.setenv("USRU_BENCH_CACHE", str(tmp_path))
    built = measure_large_build(12)
    assert built["files"] == 12 and 1 <= built["articles"] <= 12 and built["segments"] == 1
    assert built["build_peak_mib"] > 20 and built["index_mib_on_disk"] > 0
    lines = "\n".join(render_markdown({"build": built}))
    assert "Not run: loading" in lines and f"peak resident {built['build_peak_mib']} MiB" in lines
    assert not list(tmp_path.iterdir())  # the sources and the index are removed afterwards
