"""The real-index latency bench times cold asks and distinct warm answers on the index it is given (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.real_latency import measure_real_latency, render_markdown
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index
from tests.conftest import copy_seeds


def test_it_times_cold_asks_and_distinct_warm_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "src")
    build_index(sources, tmp_path / "idx", HashingEmbedder())
    monkeypatch.setenv("USRU_EMBEDDING_MODEL", "hashing")
    result = measure_real_latency(tmp_path / "idx", sources, colds=2, warm=5)
    assert len(result["cold_ask_s"]) == 2 and all(s > 0 for s in result["cold_ask_s"])
    assert result["cold_ask_cpu_median_s"] > 0 and result["cold_ask_peak_mib"] > 20
    warm = result["warm"]
    assert warm["questions"] == 5 and 0 < warm["wall_p50_ms"] <= warm["wall_p90_ms"]
    lines = "\n".join(render_markdown(result))
    assert f"| {result['cold_ask_median_s']} (" in lines and "(5 questions)" in lines


def test_the_report_says_when_it_was_not_run() -> None:
    assert "Not run" in "\n".join(render_markdown(None))


def test_a_folder_without_an_index_is_refused_not_built(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "src")
    with pytest.raises(ValueError, match="no built index"):
        measure_real_latency(tmp_path / "typo", sources, colds=1, warm=1)
    assert not (tmp_path / "typo").exists()
