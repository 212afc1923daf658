"""Which quotes are labelled as making one point (retrieval/same_point.py): a label the sources must bear out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pytest

from retrieval.same_point import SAME_POINT, group_same_points, make_one_point, read_counts, same_point_groups


@dataclass(frozen=True)
class _Quote:
    sentence_id: int
    article_id: int
    start: int
    end: int


@dataclass(frozen=True)
class _Article:
    text: str


class _Version:
    """Sentences, one per article, whose vectors meet the first at the cosines given."""

    def __init__(self, texts: list[str], cosines: list[float]) -> None:
        dim = len(texts) + 1
        vecs = np.zeros((len(texts), dim), dtype=np.float32)
        for i, cos in enumerate(cosines):
            vecs[i, 0] = cos
            vecs[i, i + 1] = math.sqrt(max(0.0, 1.0 - cos * cos))
        self.sentence_vecs = vecs
        self._articles = [_Article(t) for t in texts]

    def article(self, article_id: int) -> _Article:
        return self._articles[article_id]


def _quotes(texts: list[str]) -> list[_Quote]:
    return [_Quote(i, i, 0, len(t)) for i, t in enumerate(texts)]


def test_counts_are_numbers_and_number_words_not_years_or_days() -> None:
    counts, days = read_counts(
        "A grand jury charged twelve officers on March 4, 2018 over $1.5 million and 2,000 posts."
    )
    assert counts == {"12", "1.5", "2000"}
    assert days == {"mar 4"}
    assert read_counts("In the 2016 election, and in 2017.") == (frozenset(), frozenset())


@pytest.mark.parametrize(
    ("first", "second", "one_point"),
    [
        ("Turkey says it warned the plane 10 times.", "Turkey said it gave ten warnings.", True),
        (
            "Facebook says 146 million Americans saw it.",
            "The network said 126 million Americans saw it.",
            False,
        ),
        ("Hackers got 200,000 voter records.", "Hackers got data on 500,000 voters.", False),
        ("Russia struck first on Sept. 29.", "September 30, 2015: Russia strikes for the first time.", False),
        ("He pleaded guilty to lying to the FBI.", "Gates pleaded guilty in 2018 to 2 counts.", True),
        ("Why did Trump fire Comey?", "Trump fired Comey on Tuesday.", False),
    ],
)
def test_one_point_needs_the_same_counts_and_no_question(first: str, second: str, one_point: bool) -> None:
    assert make_one_point(0.9, first, second) is one_point


def test_sentences_below_the_threshold_make_different_points() -> None:
    text = "Trump fired Comey on Tuesday."
    assert make_one_point(SAME_POINT, text, text)
    assert not make_one_point(SAME_POINT - 0.01, text, text)


def test_groups_keep_only_quotes_that_make_the_first_ones_point() -> None:
    texts = [
        "A federal grand jury charged 12 Russian intelligence officers with hacking.",
        "The Friday indictment charges 13 Russians with meddling.",  # close, but counts differently
        "Twelve officers of Russia's military intelligence were charged with hacking.",
        "Trump met Putin in Helsinki.",  # far
    ]
    version = cast(Any, _Version(texts, [1.0, 0.9, 0.84, 0.3]))
    quotes = _quotes(texts)
    assert [q.sentence_id for q in group_same_points(version, quotes)] == [0, 2, 1, 3]
    assert same_point_groups(version, quotes) == []  # in the given order no two neighbours make one point
    assert same_point_groups(version, [quotes[0], quotes[2], quotes[1]]) == [(0, 1)]


def test_quotes_of_one_article_are_never_labelled_as_another_outlets() -> None:
    texts = ["Trump fired Comey on Tuesday.", "Trump fired Comey on Tuesday, officials said."]
    version = cast(Any, _Version(texts, [1.0, 0.95]))
    same_article = [_Quote(0, 0, 0, len(texts[0])), _Quote(1, 0, 0, len(texts[0]))]
    assert same_point_groups(version, same_article) == []
    assert same_point_groups(version, _quotes(texts)) == [(0, 1)]
