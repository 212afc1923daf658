"""A description a reader asks in finds the article that names the thing (dev q2-24: 'the Western military
alliance's mutual defense clause' is NATO's Article 5)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from retrieval import event_check
from retrieval.event_check import unsaid_events
from retrieval.extractive import score_sentences
from retrieval.lexical import Bm25, tokenize
from retrieval.periphrases import named_words
from retrieval.search import chunk_document, search_chunks
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

ARTICLES = {
    "nato.md": "NATO has invoked Article 5 only once, after the September 11 attacks on New York.",
    "summit.md": "The summit of the alliance of Western nations on military spending ended without a deal.",
    "prague.md": "Cohen denied he ever went to Prague during the campaign.",
    "capital.md": "The Czech government said the capital would host the talks about the campaign.",
}


def _articles_service(tmp_path: Path) -> AnsweringService:
    """A service over the ARTICLES, indexed with the hashing embedder."""
    sources = tmp_path / "src"
    sources.mkdir()
    for name, text in ARTICLES.items():
        (sources / name).write_text(text + "\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    return service


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
    service = _articles_service(tmp_path)
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


def test_a_capitalised_word_of_a_description_is_no_name_the_quotes_must_say_it_of(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dev q2-24, answered with "NATO has only invoked Article 5 ... one time", carried the false caveat
    "No indexed article says 'clause' about Western": "Western" describes the alliance, NATO names it."""
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    passages = [
        (0, "NATO has only invoked Article 5 once, after 9/11; Western capitals rallied."),
        (1, "The clause binds every member."),
        (2, "Western Union wired the money."),
    ]
    archive = SimpleNamespace(
        version="described",
        bm25=Bm25.build([tokenize(text) for _, text in passages]),
        chunks=SimpleNamespace(article=np.array([a for a, _ in passages])),
    )
    question = "How often has the Western military alliance's mutual defense clause been triggered?"
    assert unsaid_events(archive, question, [0]) == []  # type: ignore[arg-type]
    # A name outside any description is still one: "Western Union" is no alliance.
    assert unsaid_events(archive, "Did Western Union stop the clause?", [2]) == [  # type: ignore[arg-type]
        ("Western Union", "clause", False)
    ]


def test_a_sentence_naming_what_the_question_describes_holds_the_description_words(tmp_path: Path) -> None:
    """Dev q2-24 was refused: "NATO has only invoked Article 5 ... one time" shares no word with "How often
    has the Western military alliance's mutual defense clause been triggered?", so it earned no lexical
    share of relevance and stayed under the floor."""
    service = _articles_service(tmp_path)
    index = service.index
    question = "How often has the Western military alliance's mutual defense clause been triggered?"
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, question, len(ARTICLES))]
    lexical = {
        index.article(c.article_id).source: c.lexical
        for c in score_sentences(index, service.embedder, question, docs)
    }
    assert lexical["nato.md"] > 0.5  # western, military, alliance, mutual, defense, clause: all but two
    assert lexical["prague.md"] == 0
    # Without the description, the name alone is one more word, not the description's.
    plain = score_sentences(index, service.embedder, "Did NATO meet?", docs)
    assert {index.article(c.article_id).source: c.lexical for c in plain}["summit.md"] == 0
