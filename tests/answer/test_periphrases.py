"""A description a reader asks in finds the article that names the thing (dev q2-24: 'the Western military
alliance's mutual defense clause' is NATO's Article 5)."""

from __future__ import annotations

from pathlib import Path

from retrieval.periphrases import named_words
from retrieval.search import search_chunks
from retrieval.service import build_service
from tests.conftest import hashing_settings_for

ARTICLES = {
    "nato.md": "NATO has invoked Article 5 only once, after the September 11 attacks on New York.",
    "summit.md": "The summit of the alliance of Western nations on military spending ended without a deal.",
    "prague.md": "Cohen denied he ever went to Prague during the campaign.",
    "capital.md": "The Czech government said the capital would host the talks about the campaign.",
}


def test_descriptions_are_named_and_plain_words_are_not() -> None:
    assert named_words("How often was the Western military alliance's mutual defense clause triggered?") == (
        "NATO Article 5"
    )
    assert "G7" in named_words("Would Moscow be welcome back among the major industrialized democracies?")
    assert named_words("Did he visit the Czech capital?") == "Prague"
    assert named_words("What did the ICBM test show?") == "intercontinental ballistic missile"
    # Words of a description on their own name nothing: "alliance", "capital", "diplomat".
    assert named_words("Which alliance did the diplomat praise in the capital?") == ""
    assert named_words("Did the information minister speak?") == ""  # "inf" only as a whole word


def test_a_description_finds_the_chunk_that_names_it(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    for name, text in ARTICLES.items():
        (sources / name).write_text(text + "\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    for question, source in (
        ("How often has the Western military alliance's mutual defense clause been triggered?", "nato.md"),
        ("Did Cohen's account include a campaign trip to the Czech capital?", "prague.md"),
    ):
        hits = search_chunks(index, service.embedder, question, len(ARTICLES))
        by_source = {index.article(index.chunks.row(h.chunk_id)[0]).source: h for h in hits}
        # The article shares no word with the question but the name: its BM25 score is the name's.
        assert by_source[source].lexical > 0, question
    hits = search_chunks(index, service.embedder, "Which alliance met in the capital?", len(ARTICLES))
    by_source = {index.article(index.chunks.row(h.chunk_id)[0]).source: h for h in hits}
    assert by_source["nato.md"].lexical == 0 and by_source["prague.md"].lexical == 0  # no description asked
