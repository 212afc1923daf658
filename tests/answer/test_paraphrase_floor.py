"""A question worded unlike every article (a paraphrase) is answered on its sentence's vector: the refusal floor
comes down by the lexical share no candidate could earn, and only for such questions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import numpy as np

from retrieval.extractive import (
    MIN_RELEVANCE,
    PARAPHRASE_SHARE,
    W_LEXICAL,
    Candidate,
    overlap_allowance,
    select_quotes,
)

FLOOR = 0.75


def _index() -> Any:
    text = "Staff sealed the ports with superglue. " * 2
    vecs = np.eye(2, dtype=np.float32)
    return cast(Any, SimpleNamespace(article=lambda aid: SimpleNamespace(text=text), sentence_vecs=vecs))


def _sentence(lexical: float, score: float) -> Candidate:
    return Candidate(0, 0, 0, 38, 0.55, lexical, 0.5, score)


def test_the_allowance_is_the_lexical_weight_of_the_share_no_candidate_holds() -> None:
    low = [_sentence(0.2, 0.7), _sentence(0.1, 0.6)]
    assert abs(overlap_allowance(low) - W_LEXICAL * (PARAPHRASE_SHARE - 0.2)) < 1e-9
    # A question whose words some sentence holds (half or more) gets no allowance.
    assert overlap_allowance([_sentence(PARAPHRASE_SHARE, 0.7), _sentence(0.1, 0.6)]) == 0.0
    assert overlap_allowance([]) == 0.0


def test_a_paraphrase_just_below_the_floor_is_answered_and_a_worded_question_is_not() -> None:
    index = _index()
    below = FLOOR - 0.05
    chosen, _ = select_quotes(index, [_sentence(0.2, below)], 4, FLOOR)
    assert [c.sentence_id for c in chosen] == [0]
    # The same relevance with the question's words in the sentence: the words did not make it relevant.
    assert select_quotes(index, [_sentence(0.6, below)], 4, FLOOR) == ([], [])
    # Far below the floor, even a paraphrase is refused: the allowance is at most W_LEXICAL * PARAPHRASE_SHARE.
    far = FLOOR - W_LEXICAL * PARAPHRASE_SHARE - 0.01
    assert select_quotes(index, [_sentence(0.0, far)], 4, FLOOR) == ([], [])


def test_the_floor_never_comes_below_the_fixed_minimum() -> None:
    # On a small index the floor is MIN_RELEVANCE itself: an off-topic question shares no words either.
    index = _index()
    assert select_quotes(index, [_sentence(0.0, MIN_RELEVANCE - 0.01)], 4, MIN_RELEVANCE) == ([], [])
    # A floor set lower than the minimum (USRU_MIN_RELEVANCE) is not raised by it.
    chosen, _ = select_quotes(index, [_sentence(0.0, 0.4)], 4, 0.35)
    assert len(chosen) == 1
