"""A question's verb is held by a sentence that names its doer: "Who founded Fusion GPS?" is answered by
"Fusion GPS founder Glenn Simpson …" (archive d02 quoted three sentences on who paid Fusion GPS)."""

from __future__ import annotations

from pathlib import Path

from retrieval.extractive import score_sentences
from retrieval.morphology import related_terms
from retrieval.search import chunk_document, search_chunks
from retrieval.service import build_service
from tests.conftest import hashing_settings_for


def test_a_verb_stands_for_its_agent_nouns_found_in_the_vocabulary() -> None:
    vocab = dict.fromkeys("found founded founder prosecute prosecutor advise adviser advisor lead".split(), 1)
    assert related_terms(vocab, "founded") == {"founded", "founder"}
    assert related_terms(vocab, "prosecuted") == {"prosecuted", "prosecutor"}
    assert related_terms(vocab, "advise") == {"advise", "adviser", "advisor"}
    # Only words the index holds; and no other forms of the stem, which cost quotes on the archive (355 -> 351).
    assert related_terms(vocab, "negotiated") == {"negotiated"}
    assert related_terms(vocab, "found") == {"found", "founder"}
    assert "led" not in related_terms(vocab, "lead")


def test_a_sentence_naming_the_doer_holds_the_verb(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "fusion.md").write_text(
        "Fusion GPS founder Glenn Simpson testified for ten hours on Tuesday.\n", encoding="utf-8"
    )
    (sources / "paid.md").write_text(
        "Perkins Coie confirmed on Tuesday that it had paid Fusion GPS in April.\n", encoding="utf-8"
    )
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    question = "Who founded Fusion GPS?"
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, question, 2)]
    lexical = {
        index.article(c.article_id).source: c.lexical
        for c in score_sentences(index, service.embedder, question, docs)
    }
    # fusion, gps and founded against fusion and gps alone.
    assert lexical["fusion.md"] > lexical["paid.md"] > 0
