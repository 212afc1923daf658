"""An answer's quotes stop at MAX_CHARS characters (USRU_MAX_ANSWER_CHARS), the best quote always shown;
past SOFT_CHARS only quotes scoring close to the best are added."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import extractive
from retrieval.extractive import (
    CHUNKS,
    CLOSE,
    LONG,
    MAX_CHARS,
    SOFT_CHARS,
    Candidate,
    _within_budget,
    score_sentences,
)
from retrieval.search import chunk_document, search_chunks
from retrieval.service import AnsweringService, build_service
from tests.conftest import copy_seeds, hashing_settings_for


def _quote(n: int, length: int, score: float) -> Candidate:
    return Candidate(n, n, 0, length, 0.5, 0.5, 0.5, score)


def test_quotes_past_the_budget_are_left_out_best_first_in_their_order() -> None:
    third = MAX_CHARS // 3
    chosen = [_quote(0, third, 0.9), _quote(1, third + 10, 1.0), _quote(2, third, 0.95), _quote(3, 10, 0.88)]
    kept = _within_budget(chosen)
    # The two best fit; the third best would overflow; the short last one (close to the best) still fits.
    assert [c.sentence_id for c in kept] == [1, 2, 3]
    assert sum(c.end - c.start for c in kept) <= MAX_CHARS


def test_past_the_soft_budget_only_quotes_close_to_the_best_are_added() -> None:
    close, far = 1.0 - CLOSE / 2, 1.0 - 2 * CLOSE
    first, fits, overflows = SOFT_CHARS - 200, 150, 250
    # A far quote that keeps the total within SOFT_CHARS is added; one that would pass it is not.
    chosen = [_quote(0, first, 1.0), _quote(1, fits, far), _quote(2, overflows, far)]
    assert [c.sentence_id for c in _within_budget(chosen)] == [0, 1]
    # A close quote is added past SOFT_CHARS (up to MAX_CHARS); no budget (0) keeps them all.
    chosen = [_quote(0, first, 1.0), _quote(1, overflows, close)]
    assert [c.sentence_id for c in _within_budget(chosen)] == [0, 1]
    assert first + overflows > SOFT_CHARS
    far_ones = [_quote(0, first, 1.0), _quote(1, fits, far), _quote(2, overflows, far)]
    assert [c.sentence_id for c in _within_budget(far_ones, 0)] == [0, 1, 2]


def test_the_best_quote_is_shown_even_when_longer_than_the_budget() -> None:
    chosen = [_quote(0, MAX_CHARS + 50, 1.0), _quote(1, 40, 0.9)]
    assert [c.sentence_id for c in _within_budget(chosen)] == [0]


def test_no_budget_keeps_every_quote_and_the_setting_reaches_the_answer(tmp_path: Path) -> None:
    chosen = [_quote(0, MAX_CHARS, 1.0), _quote(1, MAX_CHARS, 0.9)]
    assert [c.sentence_id for c in _within_budget(chosen, 0)] == [0, 1]
    # A question whose answer quotes more than 120 characters in all, capped at 120, then not capped.
    question = "What did Russia say about arms control talks?"
    base = hashing_settings_for(copy_seeds(tmp_path / "src"), tmp_path / "idx")
    capped = build_service(base.model_copy(update={"min_relevance": 0.0, "max_answer_chars": 120}))
    free = build_service(base.model_copy(update={"min_relevance": 0.0, "max_answer_chars": 0}))
    a, b = capped.answer(question), free.answer(question)
    assert a.status == b.status == "answered"
    assert len(b.citations) > len(a.citations) == 1
    assert sum(len(c.quote) for c in b.citations) > 120


def test_long_quotes_rank_lower_but_their_length_never_counts_towards_refusing(
    hashing_service: AnsweringService, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, embedder = hashing_service.index, hashing_service.embedder
    question = "What did Russia say about arms control talks?"
    docs = [chunk_document(index, h) for h in search_chunks(index, embedder, question, CHUNKS)]
    scored = score_sentences(index, embedder, question, docs)
    assert any(c.end - c.start > LONG for c in scored)
    assert all((c.length_penalty > 0) == (c.end - c.start > LONG) for c in scored)
    monkeypatch.setattr(extractive, "W_LENGTH", 0.0)
    plain = {(c.article_id, c.start, c.end): c for c in score_sentences(index, embedder, question, docs)}
    for c in scored:
        same = plain[(c.article_id, c.start, c.end)]
        assert c.score == pytest.approx(same.score - c.length_penalty)
        assert c.relevance == pytest.approx(same.relevance)
