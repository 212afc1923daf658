"""The project's question set through the real `usru ask --json`, with the real embedding model."""

from __future__ import annotations

import shutil

import pytest

from bench.evaluation import ROOT, ask_usru, load_questions, score_usru

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    sources = tmp_path_factory.mktemp("seeds")
    for f in (ROOT / "seeds").iterdir():
        shutil.copy(f, sources / f.name)
    questions = load_questions()
    env = {
        "USRU_SOURCES": str(sources),
        "USRU_INDEX_DIR": str(tmp_path_factory.mktemp("index")),
        "EMBEDDING_MODEL": "",
        "USRU_MIN_RELEVANCE": "",
    }
    answers = ask_usru([q["question"] for q in questions], env=env)
    return questions, answers, score_usru(questions, answers, sources)


def test_question_set_is_big_and_varied(scored) -> None:  # type: ignore[no-untyped-def]
    questions, _, _ = scored
    kinds = [q["kind"] for q in questions]
    assert len(questions) >= 40
    assert kinds.count("unanswerable") >= 6
    assert {"direct", "paraphrase", "cross_outlet"} <= set(kinds)


def test_answerable_questions_cite_the_expected_article_and_phrase(scored) -> None:  # type: ignore[no-untyped-def]
    _, _, scores = scored
    assert scores.hit_rate >= 0.90, f"hit rate {scores.hit_rate:.2%}; missed {scores.missed}"


def test_every_quote_is_verbatim_at_its_offsets(scored) -> None:  # type: ignore[no-untyped-def]
    _, _, scores = scored
    assert scores.quotes > 40
    assert scores.verbatim == scores.quotes


def test_unanswerable_questions_are_refused(scored) -> None:  # type: ignore[no-untyped-def]
    _, _, scores = scored
    assert scores.refusal_rate >= 0.80, f"refused {scores.refused_unanswerable}/{scores.unanswerable}"


def test_no_answerable_question_is_refused(scored) -> None:  # type: ignore[no-untyped-def]
    _, _, scores = scored
    assert scores.refused_answerable == []


def test_answers_have_exactly_the_documented_fields(scored) -> None:  # type: ignore[no-untyped-def]
    _, answers, _ = scored
    for a in answers:
        assert set(a) == {"question", "status", "answer", "citations", "mode", "timings_ms", "groups", "note"}
        assert a["mode"] == "extractive"
        assert set(a["timings_ms"]) == {"retrieve", "answer", "total"}
        for c in a["citations"]:
            assert set(c) == {"n", "source", "title", "publisher", "date", "quote", "start", "end"}
