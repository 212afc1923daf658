"""An answer's quotes stop at MAX_CHARS characters, the best quote always shown."""

from __future__ import annotations

from retrieval.extractive import MAX_CHARS, Candidate, _within_budget


def _quote(n: int, length: int, score: float) -> Candidate:
    return Candidate(n, n, 0, length, 0.5, 0.5, 0.5, score)


def test_quotes_past_the_budget_are_left_out_best_first_in_their_order() -> None:
    third = MAX_CHARS // 3
    chosen = [_quote(0, third, 0.9), _quote(1, third + 10, 1.0), _quote(2, third, 0.95), _quote(3, 10, 0.8)]
    kept = _within_budget(chosen)
    # The two best fit; the third best would overflow; the short last one still fits.
    assert [c.sentence_id for c in kept] == [1, 2, 3]
    assert sum(c.end - c.start for c in kept) <= MAX_CHARS


def test_the_best_quote_is_shown_even_when_longer_than_the_budget() -> None:
    chosen = [_quote(0, MAX_CHARS + 50, 1.0), _quote(1, 40, 0.9)]
    assert [c.sentence_id for c in _within_budget(chosen)] == [0]
