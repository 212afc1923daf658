"""How often a topic comes up, month by month (or week by week), split by leaning (`usru timeline`).

An article mentions the topic when every content word of the topic (as the word index spells it: lower
case, light stemming, stopwords dropped) occurs in it; the counts come from the word index alone, with
no vectors. Only the quote at each peak is chosen by the answering chain, from that period's articles.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from retrieval.answer import Citation
from retrieval.arrays import common, distinct
from retrieval.errors import QuestionError
from retrieval.filters import Dated, Filters
from retrieval.leanings import load_leanings, order_labels
from retrieval.lexical import tokenize

if TYPE_CHECKING:
    from retrieval.index import StoredVersion
    from retrieval.service import AnsweringService

Granularity = Literal["month", "week"]
PEAKS = 3
# A chart of more bars is unreadable, and one bogus date (year 1) would make it hundreds of thousands.
MAX_PERIODS = 1000


@dataclass(frozen=True)
class SourceFilters(Filters):
    """Only these articles (by file name): the ones of one period that mention the topic."""

    sources: frozenset[str] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return True

    def admits_article(self, article: Dated) -> bool:
        """Whether the article is one of the chosen files."""
        return getattr(article, "source", None) in self.sources

    def describe(self) -> str:
        """The filter in words."""
        return f"one of {len(self.sources)} articles on the topic"


@dataclass(frozen=True)
class Peak:
    """A period with the most articles on the topic, and the most relevant verified quote from it."""

    period: str
    count: int
    citation: Citation | None
    leaning: str | None  # the quoted article's leaning

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of one peak."""
        return {
            "period": self.period,
            "count": self.count,
            "leaning": self.leaning,
            "citation": self.citation.to_dict() if self.citation else None,
        }


@dataclass(frozen=True)
class Timeline:
    """Articles mentioning a topic per period and leaning; periods run without gaps, oldest first."""

    topic: str
    terms: tuple[str, ...]
    by: Granularity
    periods: tuple[str, ...]
    leanings: tuple[str, ...]
    counts: dict[str, tuple[int, ...]]  # leaning -> one count per period
    undated: int  # articles on the topic without a usable date (not in any period)
    peaks: tuple[Peak, ...] = ()

    @property
    def totals(self) -> tuple[int, ...]:
        """All leanings together, per period."""
        return tuple(sum(col) for col in zip(*self.counts.values(), strict=True)) if self.counts else ()

    @property
    def total(self) -> int:
        """Articles on the topic in all periods."""
        return sum(self.totals)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by `usru timeline --json`."""
        return {
            "topic": self.topic,
            "terms": list(self.terms),
            "by": self.by,
            "periods": list(self.periods),
            "counts": {k: list(v) for k, v in self.counts.items()},
            "undated": self.undated,
            "peaks": [p.to_dict() for p in self.peaks],
        }


def period_of(date: str | None, by: Granularity) -> str | None:
    """The month ("2018-07") or ISO week ("2018-W29") of a date; None when the date is not precise enough."""
    if not date:
        return None
    try:
        if by == "month":
            dt.date(int(date[:4]), int(date[5:7]), 1)
            return date[:7] if len(date) >= 7 and date[4] == "-" else None
        day = dt.date.fromisoformat(date[:10])
    except ValueError:
        return None
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_span(period: str) -> tuple[str, str]:
    """The first and last day of a period, as Filters take them (year 9999's last week ends on Dec 31)."""
    if "-W" in period:
        first = dt.date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
        last = dt.date.max if dt.date.max - first < dt.timedelta(days=6) else first + dt.timedelta(days=6)
        return first.isoformat(), last.isoformat()
    year, month = int(period[:4]), int(period[5:7])
    return f"{period}-01", f"{period}-{calendar.monthrange(year, month)[1]:02d}"


def count_periods(first: str, last: str, by: Granularity) -> int:
    """How many periods run from first to last, both included."""
    if by == "week":
        start, end = (dt.date.fromisoformat(period_span(p)[0]) for p in (first, last))
        return (end - start).days // 7 + 1
    return int(last[:4]) * 12 + int(last[5:7]) - int(first[:4]) * 12 - int(first[5:7]) + 1


def _all_periods(first: str, last: str, by: Granularity) -> list[str]:
    # Stepped by index, never past the last period, so year 9999 cannot overflow a date.
    n = count_periods(first, last, by)
    if by == "week":
        start = dt.date.fromisoformat(period_span(first)[0])
        return [period_of((start + dt.timedelta(days=7 * i)).isoformat(), by) or "" for i in range(n)]
    base = int(first[:4]) * 12 + int(first[5:7]) - 1
    return [f"{(base + i) // 12:04d}-{(base + i) % 12 + 1:02d}" for i in range(n)]


def articles_mentioning(index: StoredVersion, terms: list[str]) -> list[int]:
    """The ids of the articles in which every term occurs (in the title or a passage)."""
    if not terms or not len(index.chunks):
        return []
    bm25 = index.bm25
    found: np.ndarray[Any, np.dtype[np.int64]] | None = None
    chunk_article = index.chunks.article
    for term in dict.fromkeys(terms):
        t = bm25.vocab.get(term)
        if t is None:
            return []
        chunks = bm25.doc_ids[int(bm25.offsets[t]) : int(bm25.offsets[t + 1])]
        ids = distinct(chunk_article[chunks])
        found = ids if found is None else common(found, ids)
        if not len(found):
            return []
    return [] if found is None else [int(x) for x in found]


def build_timeline(
    service: AnsweringService,
    topic: str,
    by: Granularity = "month",
    filters: Filters | None = None,
    peaks: int = PEAKS,
) -> Timeline:
    """Count the articles mentioning the topic per period and leaning, and quote the busiest periods."""
    from retrieval.service import clean_question

    text = clean_question(topic, service.settings.max_question_chars)
    terms = tokenize(service.search_words(text))  # a Russian topic counts what its English would
    if not terms:
        raise QuestionError(
            f"{text!r} has only common words; name the topic with words an article would use.", "no_words"
        )
    index = service.index
    leanings = load_leanings(service.settings.leanings_file)
    counted: Counter[tuple[str, str]] = Counter()
    undated = 0
    sources_by_period: dict[str, list[str]] = {}
    for aid in articles_mentioning(index, terms):
        article = index.article(aid)
        if filters and not filters.admits_article(article):
            continue
        period = period_of(article.date, by)
        if period is None:
            undated += 1
            continue
        counted[(period, leanings.of(article))] += 1
        sources_by_period.setdefault(period, []).append(article.source)
    if not counted:
        return Timeline(text, tuple(terms), by, (), (), {}, undated)
    first, last = min(p for p, _ in counted), max(p for p, _ in counted)
    if (n := count_periods(first, last, by)) > MAX_PERIODS:
        raise QuestionError(
            f"The articles mentioning {text} run from {first} to {last}, {n} {by}s, more than a chart "
            f"can show ({MAX_PERIODS}); narrow the dates with --since and --until.",
            "too_many_periods",
        )
    periods = _all_periods(first, last, by)
    labels = order_labels(label for _, label in counted)
    counts = {label: tuple(counted[(p, label)] for p in periods) for label in labels}
    timeline = Timeline(text, tuple(terms), by, tuple(periods), tuple(labels), counts, undated)
    busiest = sorted(range(len(periods)), key=lambda i: (-timeline.totals[i], i))[:peaks]
    found = []
    for i in sorted(busiest):
        if not timeline.totals[i]:
            continue
        narrowed = SourceFilters(sources=frozenset(sources_by_period[periods[i]]))
        answer = service.answer(text, filters=narrowed, max_quotes=1)
        citation = answer.citations[0] if answer.status == "answered" and answer.citations else None
        quoted = index.article_by_source(citation.source) if citation else None
        found.append(Peak(periods[i], timeline.totals[i], citation, leanings.of(quoted) if quoted else None))
    return Timeline(text, tuple(terms), by, tuple(periods), tuple(labels), counts, undated, tuple(found))
