"""Which shown quotes tell one story: put side by side and labelled "(the same story as [1], …)".

Issue 2 asks that several outlets saying the same thing be shown together. The label was "the same point",
at a cosine of 0.72, and it did not hold: in the answers to the 490 archive questions on the whole AllSides
index it labelled 133 distinct pairs, and of 84 of them read one by one, 39 did not make one point, mostly
one topic told as different facts or different counts ("146 million Americans" against "126 million", 13
Russians indicted against 12 intelligence officers). At 0.80, with the counts compared, an outside attack
(a26) still found 3 of 9 labelled pairs in 72 answers that disagree ("it was Russia" against "it was the
DNC", both Trump's; the Nunes memo awaited and released), and the model puts "interfered" and "did not
interfere" at 0.87: a sentence vector cannot tell agreement from denial. So the label claims what the vector
does show, one story (the same event or matter, in the same or opposite words), and two quotes tell one
story when their sentences come within SAME_STORY, they do not count, date, year or order it differently
(then they are different events: the February and July indictments), and their articles are near in time
or the quotes name a day or year in common (a27: Hamburg 2017 and Helsinki 2018); a question tells none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple, Protocol, TypeVar

from retrieval.claims import NUMBER_WORDS
from retrieval.dates import MONTH
from retrieval.event_check import Quotable
from retrieval.index import StoredVersion

# Cosine between two quotes' sentences that tell one story. Of the 84 pairs read, 19 reached 0.80: all told
# one story, 16 made one point (the other 3 counted differently or were a question); below it 29 of 65 made
# one point, and some told other stories (the Litvinenko inquiry beside Russia's denial over Skripal).
SAME_STORY = 0.80
# Articles dated this many days apart or fewer may tell one story in relative times ("last week"): of the 19
# pairs labelled in the 490 archive answers, 15 were 0-26 days apart; the other 4 (258-1,117 days) named no
# day or year in common, and one of them told another story.
STORY_DAYS = 31

# Number words as the digits they stand for ("twelve", "dozen"); "one" is mostly a pronoun ("one official
# said"), and "millions" and the like count nothing alone.
_NUMBER_WORDS = {w: d for w, d in NUMBER_WORDS.items() if d.isdigit() and w != "one"}
_ORDINALS = {
    w: str(i)
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(),
        start=1,
    )
}
_MAGNITUDES = {"thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion"}
_SUFFIXES = {"bn": "billion", "m": "million", "k": "thousand"}
_FIGURE = re.compile(
    rf"(?<!\w)(?:(?P<month>{MONTH})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\w)"
    rf"|(?P<day_first>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month_after>{MONTH})(?!\w)"
    r"|(?P<number>\d+(?:[.,]\d+)*)(?![.,]?\d)(?P<suffix>[^\W\d_]*)"
    r"|(?P<word>[^\W\d_]+(?:-[^\W\d_]+)?))"
    r"(?:\s+(?P<magnitude>thousand|million|billion|trillion)\b)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_FULL_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
# A month named alone ("in July", "July 2018"), only where it reads as a time: "May" is also a name and a verb.
_BARE_MONTH = re.compile(
    rf"(?:(?<=\bin )|(?<=\bsince )|(?<=\buntil )|(?<=\bby )|(?<=\blast )|(?<=\bnext )|(?<=\bearly )"
    rf"|(?<=\blate )|(?<=\bmid-))(?P<month>{_FULL_MONTH})\b|(?P<dated>{_FULL_MONTH}),? (?:19|20)\d\d\b"
)
_WEEKDAY = re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b")
# A sentence ending in a question mark ("… dishonest?)." is no question: a parenthesis inside one).
_QUESTION = re.compile(r"[?？][\"'”’»)\]]*(?:\s|$)")

Q = TypeVar("Q", bound="Quote")


class Figures(NamedTuple):
    """What a quote counts, and the times and ordinals it names ("on Sept. 29", "in July", "the first")."""

    counts: frozenset[str]
    days: frozenset[str]
    years: frozenset[str]
    ordinals: frozenset[str]
    months: frozenset[str]
    weekdays: frozenset[str]


class Quote(Quotable, Protocol):
    """A shown quote: its sentence and where it lies in its article."""

    @property
    def sentence_id(self) -> int: ...


def _digits(text: str) -> str:
    """Any script's digits as ASCII ("٥" and "５" are 5)."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdigit() else ch for ch in text)


def _number(raw: str) -> str:
    plain = _digits(raw).replace(",", "")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def _word_count(word: str) -> str | None:
    low = word.lower()
    if low in _NUMBER_WORDS:
        return _NUMBER_WORDS[low]
    tens, _, unit = low.partition("-")  # "twenty-one"
    if (
        unit
        and tens in _NUMBER_WORDS
        and int(_NUMBER_WORDS[tens]) % 10 == 0
        and NUMBER_WORDS.get(unit, "").isdigit()
    ):
        return str(int(_NUMBER_WORDS[tens]) + int(NUMBER_WORDS[unit]))
    return None


def read_figures(text: str) -> Figures:
    """What a text counts ("12", "twelve", "$1.5bn", "126 million"), its days ("sep 29"), years and ordinals."""
    counts, days, years, ordinals = set(), set(), set(), set()
    for m in _FIGURE.finditer(text):
        magnitude = _MAGNITUDES.get((m.group("magnitude") or "").lower(), "")
        if m.group("day"):
            days.add(f"{m.group('month')[:3].lower()} {int(_digits(m.group('day')))}")
        elif m.group("day_first"):
            days.add(f"{m.group('month_after')[:3].lower()} {int(_digits(m.group('day_first')))}")
        elif m.group("number"):
            number, suffix = _number(m.group("number")), m.group("suffix").lower()
            if suffix in ("st", "nd", "rd", "th"):
                ordinals.add(number)
            elif suffix in _SUFFIXES or magnitude:
                counts.add(f"{number} {_SUFFIXES.get(suffix, magnitude)}")
            elif "," not in m.group("number") and _YEAR.fullmatch(number):
                years.add(number)
            else:
                counts.add(number)  # a unit after it ("5,500km", "82%") leaves the count as it is
        elif m.group("word").lower() in _ORDINALS:
            ordinals.add(_ORDINALS[m.group("word").lower()])
        else:
            count = _word_count(m.group("word"))
            if count is not None:
                counts.add(f"{count} {magnitude}".strip())
    months = {d.split()[0] for d in days}
    months |= {(m.group("month") or m.group("dated"))[:3].lower() for m in _BARE_MONTH.finditer(text)}
    weekdays = frozenset(m.group(0)[:3].lower() for m in _WEEKDAY.finditer(text))
    return Figures(
        frozenset(counts), frozenset(days), frozenset(years), frozenset(ordinals), frozenset(months), weekdays
    )


def tell_one_story(similarity: float, first: str, second: str, days_apart: int | None = 0) -> bool:
    """Whether two quotes from different articles, their sentences this close, tell one story.

    `days_apart`: between the two articles' dates (None: one is undated).
    """
    if not similarity >= SAME_STORY or _QUESTION.search(first) or _QUESTION.search(second):
        return False  # (not >=: a NaN is no closeness)
    a, b = read_figures(first), read_figures(second)
    # Different counts are different events ("expelled two Russian diplomats" in July 2016, "expelled 35 …
    # and shut down two compounds" in December, a26), even when one count is shared. A time or ordinal one
    # quote adds to the other's is detail ("the first public indictments"); "first" against "second" is not.
    if a.counts and b.counts and a.counts != b.counts:
        return False
    if not all(mine <= theirs or theirs <= mine for mine, theirs in zip(a[1:], b[1:], strict=True)):
        return False
    # Articles far apart tell of a time relative to their own date ("last month", "on Tuesday"): Putin's
    # denials Trump accepted in Hamburg (2017) and in Helsinki (2018) read alike (a27). Then only a day or
    # year both quotes name makes them one story.
    near = days_apart is not None and days_apart <= STORY_DAYS
    return near or bool(a.days & b.days or a.years & b.years)


def _days_apart(first: str | None, second: str | None) -> int | None:
    try:
        return abs((date.fromisoformat(first or "") - date.fromisoformat(second or "")).days)
    except ValueError:  # undated, or dated by a year or month only
        return None


def _one_story(index: StoredVersion, a: Quote, b: Quote) -> bool:
    if a.article_id == b.article_id:
        return False
    similarity = float(index.sentence_vecs[a.sentence_id] @ index.sentence_vecs[b.sentence_id])
    if not similarity >= SAME_STORY:  # most pairs: no article text read
        return False
    first, second = index.article(a.article_id), index.article(b.article_id)
    return tell_one_story(
        similarity,
        first.text[a.start : a.end],
        second.text[b.start : b.end],
        _days_apart(first.date, second.date),
    )


def group_same_stories(index: StoredVersion, chosen: Sequence[Q]) -> list[Q]:
    """The quotes in their order, each followed by the later ones from other articles on its story."""
    ordered: list[Q] = []
    placed: set[int] = set()
    for i, c in enumerate(chosen):
        if i in placed:
            continue
        ordered.append(c)
        placed.add(i)
        for j in range(i + 1, len(chosen)):
            if j not in placed and _one_story(index, c, chosen[j]):
                ordered.append(chosen[j])
                placed.add(j)
    return ordered


def same_story_groups(index: StoredVersion, ordered: Sequence[Quote]) -> list[tuple[int, ...]]:
    """Runs of adjacent quotes (by position) from different articles on the run's first quote's story."""
    groups: list[tuple[int, ...]] = []
    run = [0] if ordered else []
    for i in range(1, len(ordered)):
        if _one_story(index, ordered[run[0]], ordered[i]):
            run.append(i)
        else:
            if len(run) > 1:
                groups.append(tuple(run))
            run = [i]
    if len(run) > 1:
        groups.append(tuple(run))
    return groups
