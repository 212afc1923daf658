"""A quoted file changed or removed after indexing is named in a caveat (retrieval/freshness.py)."""

from __future__ import annotations

from pathlib import Path

from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

TEXT = "Putin said that Russia is ready to work with the US on arms control issues."


def _service(tmp_path: Path) -> tuple[AnsweringService, Path]:
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "arms.md").write_text(
        f"---\ntitle: Arms\ndate: '2019-01-02'\n---\n\n{TEXT}\n", encoding="utf-8"
    )
    (sources / "other.md").write_text(
        "---\ntitle: Other\n---\n\nExports topped $10 billion.\n", encoding="utf-8"
    )
    settings = hashing_settings_for(sources, tmp_path / "idx").model_copy(update={"min_relevance": 0.0})
    service = build_service(settings)
    service.reindex()
    return service, sources


def test_an_unchanged_source_gets_no_caveat(tmp_path: Path) -> None:
    service, _ = _service(tmp_path)
    answer = service.answer("Is Russia ready to work on arms control?")
    assert answer.status == "answered" and answer.note is None, answer.note


def test_a_source_changed_after_indexing_is_named(tmp_path: Path) -> None:
    service, sources = _service(tmp_path)
    arms = sources / "arms.md"
    arms.write_text(arms.read_text(encoding="utf-8").replace("is ready", "is NOT ready"), encoding="utf-8")
    answer = service.answer("Is Russia ready to work on arms control?")
    assert any("is ready" in c.quote for c in answer.citations)  # still the indexed copy's quote...
    assert answer.note is not None and "arms.md changed or went away" in answer.note, answer.note  # ...named


def test_a_source_removed_after_indexing_is_named(tmp_path: Path) -> None:
    service, sources = _service(tmp_path)
    (sources / "arms.md").unlink()
    answer = service.answer("Is Russia ready to work on arms control?")
    assert answer.note is not None and "arms.md" in answer.note and "other.md" not in answer.note


def test_a_source_emptied_after_indexing_says_its_copy_is_kept(tmp_path: Path) -> None:
    """a28: an emptied file keeps its indexed copy, yet the note said "Update the index", which changed nothing."""
    service, sources = _service(tmp_path)
    (sources / "arms.md").write_text("", encoding="utf-8")
    service.reindex()
    answer = service.answer("Is Russia ready to work on arms control?")
    assert any("is ready" in c.quote for c in answer.citations)
    assert answer.note is not None and "arms.md" in answer.note and "keeps that copy" in answer.note
    assert "Update the index" not in answer.note, answer.note


def test_a_source_whose_front_matter_changed_is_named(tmp_path: Path) -> None:
    """a30: a date edited in the front matter (the same length, so the quote stays at its offsets) was still
    shown as the indexed date with nothing said."""
    service, sources = _service(tmp_path)
    arms = sources / "arms.md"
    arms.write_text(arms.read_text(encoding="utf-8").replace("2019-01-02", "2014-01-05"), encoding="utf-8")
    answer = service.answer("Is Russia ready to work on arms control?")
    assert answer.note is not None and "arms.md changed or went away" in answer.note, answer.note
