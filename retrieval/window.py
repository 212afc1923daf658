"""The dates a question is answered from: the archive's span, or the part of it the user's filters admit.

A note on what the archive cannot report must name the window actually searched: asked with
`--until 2017-11-15` about 2018, "The articles run from 2014 to 2019" would hide that the filter, not the
archive, ends before the year asked about, and the later-year check must measure from that window too.
"""

from __future__ import annotations

import re

from retrieval.coverage import YEAR, Span
from retrieval.filters import Filters
from retrieval.prompts import render_prompt

_MONTHS = "january february march april may june july august september october november december".split()
# A month and its year ("December 2017", "Dec. 2017", "December of 2017"); capitalised, so that the verb
# "may" before a year is no month.
_MONTH_YEAR = re.compile(
    r"\b(?P<month>(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?),?\s+(?:of\s+)?(?P<year>19[5-9]\d|20\d\d)\b"
)


def describe_window(span: Span, filters: Filters | None = None) -> str:
    """The window in words, as a note begins: "The articles searched (dated 2017-11-15 or earlier) run from …"."""
    which = f" searched ({filters.describe()})" if filters else ""
    # The seeds date one article of five: "The articles are all from 2017-10-20" said of all five.
    articles = (
        f"dated articles ({span.dated:,} of {span.dated + span.undated:,})" if span.undated else "articles"
    )
    if span.first == span.last:
        return render_prompt("span_one_day.txt", articles=articles, which=which, first=span.first)
    return render_prompt("span.txt", articles=articles, which=which, first=span.first, last=span.last)


def join_words(words: list[str]) -> str:
    """Words as a sentence lists them: "2018", "2018 and 2019", "2018, 2019 and 2020"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def asked_periods(question: str) -> list[tuple[str, str]]:
    """The months and years a question names, each as (its words, "YYYY-MM" or "YYYY"), in order.

    A year that belongs to a month ("December 2017") is that month, not the whole year.
    """
    periods: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _MONTH_YEAR.finditer(question):
        prefix = m.group("month").rstrip(".").lower()[:3]
        month = next(n for n, name in enumerate(_MONTHS, start=1) if name.startswith(prefix))
        periods.append((m.group(0), f"{m.group('year')}-{month:02d}"))
        taken.append(m.span())
    for m in YEAR.finditer(question):
        if not any(lo <= m.start() < hi for lo, hi in taken):
            periods.append((m.group(0), m.group(0)))
    return list(dict.fromkeys(periods))


def periods_after(question: str, last: str) -> tuple[list[str], int]:
    """The question's months and years that begin after the date `last`, and how many periods it names."""
    periods = asked_periods(question)
    later = [words for words, key in periods if key > last[: len(key)]]
    return list(dict.fromkeys(later)), len({key for _, key in periods})
