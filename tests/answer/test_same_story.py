"""Which quotes are labelled as telling one story (retrieval/same_story.py): a label the sources must bear out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pytest

from retrieval.answer import Answer, Citation
from retrieval.citations import render_answer
from retrieval.same_story import (
    SAME_STORY,
    group_same_stories,
    read_figures,
    same_story_groups,
    tell_one_story,
)


@dataclass(frozen=True)
class _Quote:
    sentence_id: int
    article_id: int
    start: int
    end: int


@dataclass(frozen=True)
class _Article:
    text: str
    date: str | None = "2018-07-13"


class _Version:
    """Sentences, one per article, whose vectors meet the first at the cosines given."""

    def __init__(self, texts: list[str], cosines: list[float], dates: list[str | None] | None = None) -> None:
        dim = len(texts) + 1
        vecs = np.zeros((len(texts), dim), dtype=np.float32)
        for i, cos in enumerate(cosines):
            vecs[i, 0] = cos
            vecs[i, i + 1] = math.sqrt(max(0.0, 1.0 - cos * cos))
        self.sentence_vecs = vecs
        self._articles = [
            _Article(t, d) for t, d in zip(texts, dates or ["2018-07-13"] * len(texts), strict=True)
        ]

    def article(self, article_id: int) -> _Article:
        return self._articles[article_id]


def _quotes(texts: list[str]) -> list[_Quote]:
    return [_Quote(i, i, 0, len(t)) for i, t in enumerate(texts)]


def test_figures_are_counts_days_and_years_however_written() -> None:
    figures = read_figures(
        "A grand jury charged twelve officers on March 4, 2018 over $1.5bn and 2,000 posts."
    )
    assert figures.counts == {"12", "1.5 billion", "2000"}
    assert figures.days == {"mar 4"}
    assert figures.years == {"2018"}
    assert read_figures("on 4th of July, on 29 Sept.").days == {"jul 4", "sep 29"}
    same = ["twenty-one", "21", "\u0662\u0661", "\uff12\uff11"]  # Arabic-Indic and fullwidth digits
    assert {next(iter(read_figures(t).counts)) for t in same} == {"21"}
    assert read_figures("$15 billion").counts == read_figures("$15bn").counts == {"15 billion"}
    assert read_figures("1.50 percent").counts == read_figures("1.5 percent").counts
    assert read_figures("One official said so.").counts == frozenset()  # "one" is mostly a pronoun


@pytest.mark.parametrize(
    ("first", "second", "one_story"),
    [
        ("Turkey says it warned the plane 10 times.", "Turkey said it gave ten warnings.", True),
        (
            "Russia interfered, officials said.",
            "Russia did not interfere, officials said.",
            True,
        ),  # one story
        ("Trump fired Comey on Tuesday.", "Trump fired Comey on Tuesday, May 9, 2017.", True),
        (
            "Facebook says 146 million Americans saw it.",
            "The network said 126 million Americans saw it.",
            False,
        ),
        ("It reached 126 million Americans.", "It reached 126 thousand Americans.", False),
        (
            "Mueller indicted 13 Russians and 3 companies.",
            "Mueller indicted 12 Russians and 3 companies.",
            False,
        ),
        ("Russia struck first on Sept. 29.", "September 30, 2015: Russia strikes for the first time.", False),
        ("Sanctions were announced on 29 December.", "Sanctions were announced on December 30.", False),
        ("Russia meddled in the 2016 election.", "Russia meddled in the 2018 midterm elections.", False),
        ("About 2000 troops were deployed.", "About 1900 troops were deployed.", False),
        ("Why did Trump fire Comey?", "Trump fired Comey on Tuesday.", False),
        ('"Did Russia hack the DNC?" he asked.', "Russia hacked the DNC.", False),
        ("Trump called the agent tainted (no, very dishonest?).", "Trump called the agent tainted.", True),
        (
            "It banned missiles with ranges of 500 to 5,500 kilometers.",
            "It banned ranges of 500-5,500km.",
            True,
        ),
        ("He was indicted with 12 counts.", "In the first indictments, he was charged with 12 counts.", True),
        ("It was their first meeting.", "It was their second meeting.", False),
        ("Putin met Trump in July.", "Putin met Trump in November.", False),
        ("Putin met Trump on Monday.", "Putin met Trump on Friday.", False),
        ("Theresa May said Russia may retaliate in July.", "Russia could retaliate in July, May said.", True),
    ],
)
def test_one_story_needs_the_same_figures_and_no_question(first: str, second: str, one_story: bool) -> None:
    assert tell_one_story(0.9, first, second) is one_story


def test_sentences_below_the_threshold_tell_different_stories() -> None:
    text = "Trump fired Comey on Tuesday."
    assert tell_one_story(SAME_STORY, text, text)
    assert not tell_one_story(SAME_STORY - 0.01, text, text)
    assert not tell_one_story(float("nan"), text, text)


def test_groups_keep_only_quotes_on_the_first_ones_story() -> None:
    texts = [
        "A federal grand jury charged 12 Russian intelligence officers with hacking.",
        "The Friday indictment charges 13 Russians with meddling.",  # close, but counts differently: another indictment
        "Twelve officers of Russia's military intelligence were charged with hacking.",
        "Trump met Putin in Helsinki.",  # far
    ]
    version = cast(Any, _Version(texts, [1.0, 0.9, 0.84, 0.3]))
    quotes = _quotes(texts)
    assert [q.sentence_id for q in group_same_stories(version, quotes)] == [0, 2, 1, 3]
    assert same_story_groups(version, quotes) == []  # in the given order no two neighbours tell one story
    assert same_story_groups(version, [quotes[0], quotes[2], quotes[1]]) == [(0, 1)]


@pytest.mark.parametrize(
    ("dates", "texts", "one_story"),
    [
        (
            ["2017-07-19", "2017-07-20"],
            ["Trump accepted Putin's denials.", "Trump accepted Putin's denials."],
            True,
        ),
        # Hamburg 2017 and Helsinki 2018 (a27): a year apart, no time named in common.
        (
            ["2017-07-19", "2018-08-06"],
            ["Trump accepted Putin's denials.", "Trump accepted Putin's denials."],
            False,
        ),
        (
            ["2017-07-19", "2018-08-06"],
            ["In 2016 Russia hacked the DNC.", "Russia hacked the DNC in 2016."],
            True,
        ),
        ([None, None], ["Trump accepted Putin's denials.", "Trump accepted Putin's denials."], False),
        ([None, "2017"], ["Russia hacked the DNC on June 14.", "On June 14 Russia hacked the DNC."], True),
    ],
)
def test_articles_far_apart_tell_one_story_only_by_a_time_both_name(
    dates: list[str | None], texts: list[str], one_story: bool
) -> None:
    version = cast(Any, _Version(texts, [1.0, 0.95], dates))
    assert same_story_groups(version, _quotes(texts)) == ([(0, 1)] if one_story else [])


def test_quotes_of_one_article_are_never_labelled_as_another_outlets() -> None:
    texts = ["Trump fired Comey on Tuesday.", "Trump fired Comey on Tuesday, officials said."]
    version = cast(Any, _Version(texts, [1.0, 0.95]))
    same_article = [_Quote(0, 0, 0, len(texts[0])), _Quote(1, 0, 0, len(texts[0]))]
    assert same_story_groups(version, same_article) == []
    assert same_story_groups(version, _quotes(texts)) == [(0, 1)]


def test_json_answers_say_which_quotes_tell_one_story() -> None:
    answer = Answer("q", "answered", "lead", "text", (), "extractive", {}, groups=((1, 2), (3, 4, 5)))
    assert answer.to_dict()["groups"] == [[1, 2], [3, 4, 5]]
    assert Answer("q", "not_found", "lead", "text", (), "extractive", {}).to_dict()["groups"] == []


def _cited(dates: list[str | None]) -> list[Citation]:
    return [
        Citation(n, f"a{n}.md", "Title", f"Outlet {n}", date, f"Quote {n}.", 0, 8)
        for n, date in enumerate(dates, start=1)
    ]


def test_the_lead_claims_date_order_only_when_the_quotes_keep_it() -> None:
    """a28: a story's second quote, moved up beside its first, broke the order the lead line claimed."""
    in_order = _cited(["2018-03-26", "2018-03-26", "2018-03-27", None])
    lead, _ = render_answer(in_order, [(0, 1)])
    assert "The quotes run in date order, from 2018-03-26 to 2018-03-27." in lead
    grouped = _cited(["2018-03-26", "2018-03-27", "2018-03-26", "2018-03-27"])
    lead, _ = render_answer(grouped, [(0, 1)])
    assert "date order but for quotes telling one story" in lead and "from 2018-03-26 to 2018-03-27" in lead
    lead, _ = render_answer(grouped, [])
    assert "date order" not in lead and "The quotes run from 2018-03-26 to 2018-03-27." in lead
