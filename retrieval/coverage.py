"""What the indexed articles cover: the years and names a question asks about that they never mention.

A question about 2022 put to an archive of 2014–2019 must not be answered with 2015 quotes: when the
question names a year, only passages from articles dated that year or mentioning it may answer, and when
none does, the refusal says what is missing ("The articles run from 2014-01-01 to 2019-12-31; none of
those that match mentions 2022."). Likewise for a name no article mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.dates import WEEKDAYS
from retrieval.filters import Filters
from retrieval.index import StoredVersion
from retrieval.lexical import tokenize
from retrieval.per_version import PerVersion
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case

YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# An Irish or French prefix ("O’Rourke", "D'Amato") belongs to the name: without it "Rourke" is a name no
# article mentions. A possessive "'s" does not ("Navalny's" names Navalny). So do inner capitals ("SolarWinds", "McCain"), which otherwise make no name at all.
PROPER = re.compile(
    r"(?<![.!?]\s)(?<!^)(?<!['’])\b(?:[A-Z]['’])?(?:[A-Z][a-z]{2,}|[A-Z][a-z](?=[A-Z]))(?:[A-Z][a-z]+)*"
    r"(?:-[A-Z]?[a-z]+|['’](?!s\b)[A-Z]?[a-z]+)*\b"
)
_APOSTROPHES = str.maketrans("'’", "’'")


@dataclass(frozen=True)
class Span:
    """The first and last article dates of an index version, and how many of its articles have a date."""

    first: str | None
    last: str | None
    dated: int = 0
    undated: int = 0


# Per version and filters: a filtered question is asked again and again (the bot's `/ask since:…`), where a
# pass over a large archive's rows per question adds up.
_SPANS: PerVersion[Span] = PerVersion()


def date_span(index: StoredVersion, filters: Filters | None = None) -> Span:
    """The first and last dates of the articles the filters admit (of all articles without filters)."""

    def measure() -> Span:
        admitted = [a.date for a in index.articles if not filters or filters.admits_article(a)]
        dates = sorted(d for d in admitted if d)
        undated = len(admitted) - len(dates)
        return Span(dates[0], dates[-1], len(dates), undated) if dates else Span(None, None, 0, undated)

    return _SPANS.get(index, filters or None, measure)


_OUTLET_TERMS: PerVersion[frozenset[str]] = PerVersion()


def outlet_terms(index: StoredVersion) -> frozenset[str]:
    """The words of the articles' publishers: a name the articles never print may be who published them
    (the AllSides records give a column's author as its publisher: "What does Victor Davis Hanson say ...")."""
    return _OUTLET_TERMS.get(
        index,
        None,
        lambda: frozenset(
            t for p in {a.publisher for a in index.articles if a.publisher} for t in tokenize(p)
        ),
    )


_OUTLET_NAMES: PerVersion[frozenset[frozenset[str]]] = PerVersion()


def outlet_names(index: StoredVersion) -> frozenset[frozenset[str]]:
    """Each publisher's name as a set of terms: a name in a question that is an outlet names a source."""
    return _OUTLET_NAMES.get(
        index,
        None,
        lambda: frozenset(
            frozenset(tokenize(p))
            for p in {a.publisher for a in index.articles if a.publisher}
            if tokenize(p)
        ),
    )


def asked_years(question: str) -> list[str]:
    """The years a question names."""
    return sorted(set(YEAR.findall(question)))


def spellings(term: str) -> list[str]:
    """The term, and the term with its apostrophes swapped (users type ', archives print ’)."""
    other = term.translate(_APOSTROPHES)
    return [term] if other == term else [term, other]


def term_count(index: StoredVersion, term: str) -> int:
    """How many chunks hold the term, in either apostrophe."""
    return sum(index.bm25.doc_freq(t) for t in spellings(term))


def unknown_names(index: StoredVersion, question: str) -> list[str]:
    """Capitalised names in the question (not its first word) that no indexed chunk mentions."""
    question = restore_case(index, question)  # a name typed in lower case is still a name
    names: list[str] = []
    for m in PROPER.finditer(question.strip()):
        terms = tokenize(m.group(0))
        if m.group(0) in names:
            continue  # a name asked twice is named once in the note ("Zelensky, Zelensky")
        if (
            terms
            and all(term_count(index, t) == 0 for t in terms)
            and not _dated_month(index, m.group(0))
            and m.group(0).lower().rstrip(".")
            not in WEEKDAYS  # "on Sun." was "No indexed article mentions Sun."
            and not set(terms) & outlet_terms(index)
        ):
            names.append(m.group(0))
    return names


def _dated_month(index: StoredVersion, word: str) -> bool:
    """Whether the word is a month some article is dated in: a time the dates cover, not a name to find."""
    from retrieval.asked_time import article_dates
    from retrieval.dates import MONTHS

    month = MONTHS.get(word.lower().rstrip("."))  # the whole word: "Novichok" is no November
    return month is not None and bool((article_dates(index) // 100 % 100 == month).any())


def mentions_year(index: StoredVersion, article_id: int, year: str) -> bool:
    """Whether the article is dated in that year or its text names the year."""
    article = index.article(article_id)
    return (article.date or "").startswith(year) or re.search(rf"\b{year}\b", article.text) is not None


def years_covered(
    index: StoredVersion, question: str, article_ids: Sequence[int], filters: Filters | None = None
) -> tuple[set[int], str | None]:
    """Of these articles, those that cover every year the question names, and a note on the gap if none do.

    The note names the window the filters admit (the whole archive without them).
    """
    ids = set(article_ids)
    years = asked_years(question)
    if not years or not ids:
        return ids, None
    kept = {a for a in ids if all(mentions_year(index, a, y) for y in years)}
    if kept:
        return kept, None
    from retrieval.window import describe_window, join_words

    span = date_span(index, filters)
    missing = join_words(years)
    if span.first and span.last:
        return set(), render_prompt("gap_years.txt", span=describe_window(span, filters), years=missing)
    return set(), render_prompt("gap_years_undated.txt", years=missing)


def gap_for_names(names: list[str]) -> str:
    """The note that says which names of the question no article mentions."""
    return render_prompt("gap_names.txt", names=", ".join(names))
