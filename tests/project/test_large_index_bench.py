"""The large-index memory bench makes an index of exactly the asked size from a smaller one (issue 13)."""

from __future__ import annotations

from pathlib import Path

from bench.large_index import make_large, render_markdown
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
