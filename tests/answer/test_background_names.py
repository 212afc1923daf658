"""A surname that is also an ordinary word names someone new (dev q2-02: 'Deputy Defense Secretary Robert Work')."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.extractive import Candidate, score_sentences
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


def _scored_by_source(tmp_path: Path, question: str, articles: dict[str, str]) -> dict[str, Candidate]:
    """Index the articles beside 25 fillers (so that no surname is in BACKGROUND_SHARE of the chunks)
    and score the sentences of the question's top two chunks, by source file."""
    sources = tmp_path / "src"
    sources.mkdir()
    articles = articles | {f"filler{i}.md": f"The council met on day {i} and adjourned." for i in range(25)}
    for name, text in articles.items():
        (sources / name).write_text(text + "\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, question, 2)]
    return {
        index.article(c.article_id).source: c
        for c in score_sentences(index, service.embedder, question, docs)
    }


def test_a_name_in_the_role_asked_for_ranks_above_other_names(tmp_path: Path) -> None:
    from retrieval.extractive import W_ROLE
    from retrieval.people import asked_role

    question = "Which veteran of the spy agency is helping the school write its advice?"
    assert asked_role(question) == "veteran"
    assert asked_role("Which of the president's lawyers wanted the probe shut down?") == "lawyer"
    assert asked_role("Who shot the Russian ambassador?") is None
    by_source = _scored_by_source(
        tmp_path,
        question,
        {
            "other.md": "Michael Smith, a former cyber expert, said the school is writing its advice.",
            "veteran.md": "“We heard nothing,” said Debora Plunkett, a 31-year veteran of the spy agency.",
        },
    )
    veteran, other = by_source["veteran.md"], by_source["other.md"]
    assert veteran.detail and other.detail
    assert (veteran.role_bonus, other.role_bonus) == (W_ROLE, 0.0)
    # The bonus ranks; the relevance a refusal is measured on leaves it out.
    assert veteran.relevance == pytest.approx(veteran.score - 0.25 - W_ROLE + veteran.length_penalty)


def test_the_role_counts_only_beside_the_name_the_question_gives_it(tmp_path: Path) -> None:
    # "Which Fox News anchor …" asks for an anchor of Fox News: NBC's anchor is no answer (a18).
    from retrieval.extractive import W_ROLE
    from retrieval.people import role_owner

    question = "Which Fox News anchor interviewed the senator?"
    assert role_owner(question) == {"fox", "new"}
    assert role_owner("Which career prosecutor did Sessions ask to resign?") == frozenset()
    assert role_owner("Which White House official traveled to Moscow?") == frozenset()
    by_source = _scored_by_source(
        tmp_path,
        question,
        {
            "nbc.md": "The senator was interviewed by NBC News anchor Lester Holt on Monday.",
            "fox.md": "The senator was interviewed by Fox News anchor Bret Baier on Monday.",
        },
    )
    fox, nbc = by_source["fox.md"], by_source["nbc.md"]
    assert fox.detail and nbc.detail
    assert (fox.role_bonus, nbc.role_bonus) == (W_ROLE, 0.0)
