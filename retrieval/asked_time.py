"""The time a question asks about ("in February 2018", "in late 2017", "by November 2015"), as a window of
article dates that search prefers.

Every article has a date, but the search ranked chunks by their words and vectors alone, so "How many
Russians did the special counsel indict in February 2018?" was answered from articles of other months that
mention the indictment in passing. News reports an event when it happens or just after, so a question that
places its event in time ("in", "during", "by", "at the end of" a period) is best answered by articles dated
in that period or shortly after it. A year that names the topic rather than the time ("the 2016 election",
"2016's election", "the March 2016 meeting") is written about for years after: it sets no window.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from retrieval.dates import MONTHS, month_key
from retrieval.index.records import StoredArticle
from retrieval.per_version import PerVersion
from retrieval.prompts import render_prompt

# Articles dated this many days after the asked period still report it (next-day stories, weekly reviews).
GRACE_DAYS = 31
# Chunks of articles dated in the window (and of those naming a rare name: focus.py) are also taken from
# this deep in the dense and BM25 rankings
# (other chunks from CANDIDATES deep, as always), and ranked among themselves as one more fused channel.
# Archive dev split, the 5 answerable questions that place their event in time: the answer chunk's rank
# d47 12 -> 3, p23 13 -> 2, d21, p09, p25 kept at 1 (depth 30, 60, 100 and 200 alike on dev; 100 brought
# a "how many diplomats did the US expel in December 2016?" probe from out of reach to 2nd, 60 to 7th).
WINDOW_DEPTH = 100
# Added to a candidate quote's score when its article is dated in the window: the chunks brought in
# compete with the sentences of other months that mention the event in passing (p09 "at the end of
# December 2016" lost its answer to two September 2016 sentences without it; 0.05 too).
W_TIME = 0.1
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
# A month's name as a word of its own ("Dec." but not "Decision", "May" but not "Mayor").
_MONTH_WORD = re.compile(rf"\b({_MONTH})(?![a-z])")
# A preposition that places the event in time, then an optional part of the period, then the period.
_ASKED = re.compile(
    r"\b(?P<prep>in|during|by|on|at|around|throughout|over)\s+"
    r"(?P<part>(?:(?:early|late|mid-?)\s*|(?:the\s+)?(?:middle|end|start|beginning|first\s+half|second\s+half)"
    r"\s+of\s+)?)"
    r"(?P<period>(?:(?P<month>" + _MONTH + r")\s+(?:(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?:of\s+)?)?"
    r"(?P<year>(?:19[5-9]\d|20\d\d)))\b(?!['’]s)(?!\s*(?:and|or|to|through|-|–)\s*\d)",
    re.IGNORECASE,
)
_PARTS = {
    "early": (1, 4),
    "start": (1, 3),
    "beginning": (1, 3),
    "first half": (1, 6),
    "mid": (5, 8),
    "middle": (5, 8),
    "second half": (7, 12),
    "late": (9, 12),
    "end": (10, 12),
}


@dataclass(frozen=True)
class Window:
    """Article dates (inclusive, as YYYYMMDD numbers) that report the asked period, and its words."""

    first: int
    last: int
    words: str


def _number(day: dt.date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def asked_window(question: str) -> Window | None:
    """The window of article dates for the one time the question places its event in; None for no time, a
    time that names the topic ("the 2016 election"), or two different times."""
    windows = []
    for m in _ASKED.finditer(question):
        year = int(m.group("year"))
        part = " ".join(
            m.group("part").lower().replace("-", " ").replace("the ", "").replace(" of", "").split()
        )
        if m.group("month"):
            month = MONTHS[month_key(m.group("month"))]
            if m.group("day"):
                try:
                    start = dt.date(year, month, int(m.group("day")))
                except ValueError:
                    continue
                end = start
            else:
                start, end = dt.date(year, month, 1), _month_end(year, month)
                if part in ("early", "start", "beginning"):
                    end = dt.date(year, month, 10)
                elif part in ("late", "end"):
                    start = dt.date(year, month, 20)
        else:
            lo, hi = _PARTS.get(part, (1, 12))
            start, end = dt.date(year, lo, 1), _month_end(year, hi)
        last = end + dt.timedelta(days=GRACE_DAYS)
        windows.append(Window(_number(start), _number(last), m.group("period")))
    if len({(w.first, w.last) for w in windows}) != 1:
        return None
    return windows[0]


IntArray = npt.NDArray[np.int64]
_DATES: PerVersion[IntArray] = PerVersion()
_ISO = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?")


class Dated(Protocol):
    """An index version's articles, as far as their dates go."""

    @property
    def version(self) -> str: ...

    @property
    def articles(self) -> Sequence[StoredArticle]: ...


class Scored(Protocol):
    """A candidate quote: a dataclass with its article and score (extractive.Candidate)."""

    @property
    def article_id(self) -> int: ...

    @property
    def score(self) -> float: ...


C = TypeVar("C", bound=Scored)


def date_number(date: str) -> int:
    """A stated date as a YYYYMMDD number (0: none); a date stated to the month only is taken as its middle."""
    m = _ISO.match(date)
    return int(m.group(1)) * 10_000 + int(m.group(2)) * 100 + int(m.group(3) or 15) if m else 0


def article_dates(index: Dated) -> IntArray:
    """Each article's date as a YYYYMMDD number (0: undated), computed once per index version."""

    def read() -> IntArray:
        articles = index.articles
        out = np.zeros(len(articles), dtype=np.int64)
        for i, a in enumerate(articles):
            out[i] = date_number(a.date or "")
        return out

    return _DATES.get(index, None, read)


def prefer_asked_time(index: Dated, question: str, candidates: list[C]) -> list[C]:
    """The candidate quotes best first, those from articles dated in the asked time scored W_TIME higher.

    The bonus ranks; it never counts towards refusing (Candidate.relevance leaves it out).
    """
    window = asked_window(question)
    if window is None:
        return candidates
    dates = article_dates(index)
    out = [
        replace(c, score=c.score + W_TIME, time_bonus=W_TIME)  # type: ignore[type-var]
        if window.first <= dates[c.article_id] <= window.last
        else c
        for c in candidates
    ]
    out.sort(key=lambda c: -c.score)
    return out


def window_gap(question: str, dated: Sequence[tuple[str, str]]) -> str | None:
    """The caveat when the question places its event in a month or on a day and no quote is dated then (or
    within GRACE_DAYS after) or names that month: quotes of other times may tell another event.

    "How many Russian intelligence officers did a US grand jury indict in July 2016?" was answered with the
    July 2018 indictment, plainly (holdout4 h4-u04); so was the Nunes memo "released in February 2016"
    (holdout6 h6-u08, read after its first run). A year alone is the year checks' (coverage, event_year).
    """
    window = asked_window(question)
    if window is None or (asked := re.match(_MONTH, window.words)) is None:
        return None
    month = MONTHS[month_key(asked.group(0))]
    days = sorted({date[:10] for _, date in dated if _ISO.match(date)})
    if not days:
        return None  # undated quotes say nothing of when
    for quote, date in dated:
        if window.first <= date_number(date) <= window.last:
            return None
        if any(MONTHS[month_key(n)] == month for n in _MONTH_WORD.findall(quote)):
            return None
    return render_prompt("gap_window.txt", period=window.words, dates=", ".join(days))
