"""Which shown quotes make one point: put side by side and labelled "(the same point as [1], …)".

The label is a claim about the sources, so it must hold when given. At a cosine of 0.72 it did not: in the
answers to the 490 archive questions on the whole AllSides index it labelled 133 distinct pairs, and of 84
of them read one by one, 39 did not make one point. Most were one topic told as different facts (the DNC
announcing the hack against the hackers being inside for a year; Brennan's clearance as Brennan and as the
White House told it); many counted one thing differently ("146 million Americans" against "126 million",
21 states against 50, 13 Russians indicted against 12 intelligence officers). Two quotes now make one
point when their sentences come within SAME_POINT and they do not count or date the thing differently;
a question makes none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from retrieval.claims import NUMBER_WORDS
from retrieval.index import StoredVersion

# Cosine between two outlets' sentences that make one point. Of those 84 pairs, 19 reached 0.80 and 16 of
# them made one point (the other 3 counted differently or were a question); below it, 29 of 65 did.
SAME_POINT = 0.80

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Number words as the digits they stand for ("twelve", "dozen"); "millions" and the like count nothing alone.
_NUMBER_WORDS = {word: digits for word, digits in NUMBER_WORDS.items() if digits.isdigit()}
# A number, or a number word; a day after its month ("March 4", "Jan. 12") and a year are dates, not counts.
_COUNT = re.compile(
    rf"(?<!\w)(?:{_MONTH}\.? (?P<day>\d{{1,2}})\b|(?P<number>\d+(?:[.,]\d+)*)|(?P<word>[a-z]+))",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_QUESTION = re.compile(r"\?[\"'”’»)\]]*\s*$")

Q = TypeVar("Q", bound="Quote")


class Quote(Protocol):
    """A shown quote: its sentence and where it lies in its article."""

    @property
    def sentence_id(self) -> int: ...

    @property
    def article_id(self) -> int: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


def read_counts(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The numbers a text states as counts or amounts ("12", "twelve" → "12"), and its days ("sep 29").

    Years are neither: "the 2016 election" and "in 2017" place a point, they do not count anything in it.
    """
    counts, days = set(), set()
    for m in _COUNT.finditer(text):
        if m.group("day"):
            days.add(f"{m.group(0)[:3].lower()} {int(m.group('day'))}")
        elif m.group("number"):
            if not _YEAR.fullmatch(m.group("number")):  # "2,000" troops is no year
                counts.add(m.group("number").replace(",", ""))
        elif m.group("word"):
            word = _NUMBER_WORDS.get(m.group("word").lower())
            if word is not None:
                counts.add(word)
    return frozenset(counts), frozenset(days)


def make_one_point(similarity: float, first: str, second: str) -> bool:
    """Whether two quotes from different articles, their sentences this close, make one point."""
    if similarity < SAME_POINT or _QUESTION.search(first) or _QUESTION.search(second):
        return False
    return not any(
        mine and theirs and not mine & theirs
        for mine, theirs in zip(read_counts(first), read_counts(second), strict=True)
    )


def _one_point(index: StoredVersion, a: Quote, b: Quote) -> bool:
    if a.article_id == b.article_id:
        return False
    similarity = float(index.sentence_vecs[a.sentence_id] @ index.sentence_vecs[b.sentence_id])
    if similarity < SAME_POINT:  # most pairs: no article text read
        return False
    first = index.article(a.article_id).text[a.start : a.end]
    return make_one_point(similarity, first, index.article(b.article_id).text[b.start : b.end])


def group_same_points(index: StoredVersion, chosen: Sequence[Q]) -> list[Q]:
    """The quotes in their order, each followed by the later ones from other articles that make its point."""
    ordered: list[Q] = []
    placed: set[int] = set()
    for i, c in enumerate(chosen):
        if i in placed:
            continue
        ordered.append(c)
        placed.add(i)
        for j in range(i + 1, len(chosen)):
            if j not in placed and _one_point(index, c, chosen[j]):
                ordered.append(chosen[j])
                placed.add(j)
    return ordered


def same_point_groups(index: StoredVersion, ordered: Sequence[Quote]) -> list[tuple[int, ...]]:
    """Runs of adjacent quotes (by position) from different articles that make the run's first quote's point."""
    groups: list[tuple[int, ...]] = []
    run = [0] if ordered else []
    for i in range(1, len(ordered)):
        if _one_point(index, ordered[run[0]], ordered[i]):
            run.append(i)
        else:
            if len(run) > 1:
                groups.append(tuple(run))
            run = [i]
    if len(run) > 1:
        groups.append(tuple(run))
    return groups
