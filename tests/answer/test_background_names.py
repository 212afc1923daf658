"""A surname that is also an ordinary word names someone new (dev q2-02: 'Deputy Defense Secretary Robert Work')."""

from __future__ import annotations

from pathlib import Path

from retrieval.extractive import score_sentences
from retrieval.search import chunk_document, search_chunks
from retrieval.service import build_service
from tests.conftest import hashing_settings_for

QUESTION = "Which Pentagon official warned that Russia and China could attack space systems?"
ARTICLES = {
    "work.md": "Deputy Defense Secretary Robert Work said Russia and China could attack space systems.",
    "mueller.md": "Special Counsel Robert Mueller said Russia and China could attack space systems.",
    "desk.md": "The committee said its work on the report would go on.",
    "staff.md": "Staff at the embassy said their work had stopped.",
    "labs.md": "Scientists said the work on the satellites was slow.",
    "probe.md": "Prosecutors working for Robert Mueller filed charges.",
    "court.md": "A judge asked Special Counsel Robert Mueller for the documents.",
}


def test_a_surname_written_as_a_plain_word_elsewhere_is_a_new_name(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    for name, text in ARTICLES.items():
        (sources / name).write_text(text + "\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    # Both surnames are in more chunks than BACKGROUND_SHARE; only "Mueller" is always written as a name.
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, QUESTION, len(ARTICLES))]
    detail = {
        index.article(c.article_id).source: c.detail
        for c in score_sentences(index, service.embedder, QUESTION, docs)
    }
    assert detail["work.md"]
    assert not detail["mueller.md"]
