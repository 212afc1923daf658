"""Which articles may be quoted: a date range and outlets, from flags or from `since:… outlet:…` words."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Protocol

from retrieval.errors import QuestionError

# Agencies cited by their initials in datelines and by their full name in dumps.
_SAME_OUTLET = {"ap": "associated press", "afp": "agence france presse"}
_FILTER_WORD = re.compile(r"(?<!\S)(since|until|outlet):(?:\"([^\"]*)\"|“([^”]*)”|(\S*))", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def date_range(value: str) -> tuple[str, str] | None:
    """The first and last day a date names: "2017" → 2017-01-01..2017-12-31; None if it is no date."""
    m = _DATE.fullmatch(value.strip())
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if month is None:
        return f"{year:04d}-01-01", f"{year:04d}-12-31"
    if not 1 <= month <= 12 or year < 1:
        return None
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"
    if not 1 <= day <= last:
        return None
    return (f"{year:04d}-{month:02d}-{day:02d}",) * 2


def _outlet_key(name: str) -> str:
    key = " ".join(re.findall(r"[^\W_]+", name.lower()))
    return _SAME_OUTLET.get(key, key)


class Dated(Protocol):
    """An article row as filters see it."""

    @property
    def publisher(self) -> str | None: ...
    @property
    def date(self) -> str | None: ...


@dataclass(frozen=True)
class Filters:
    """Articles dated within [since, until] (whole days, inclusive) from one of `outlets`; empty: all."""

    since: str | None = None
    until: str | None = None
    outlets: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets)

    def admits(self, publisher: str | None, date: str | None) -> bool:
        """Whether an article with this publisher and date may be quoted.

        An undated article is left out of a date range, an article without a publisher out of an
        outlet filter: neither can be shown to match. A month-only date matches a range it overlaps.
        """
        if self.since or self.until:
            span = date_range(date) if date else None
            if span is None:
                return False
            if (self.since and span[1] < self.since) or (self.until and span[0] > self.until):
                return False
        if self.outlets:
            if not publisher:
                return False
            have = f" {_outlet_key(publisher)} "
            if not any(f" {_outlet_key(o)} " in have for o in self.outlets):
                return False
        return True

    def admits_article(self, article: Dated) -> bool:
        """Whether this article may be quoted (a subclass may look at more than outlet and date)."""
        return self.admits(article.publisher, article.date)

    def describe(self) -> str:
        """The filters in words, for messages: "from Reuters, 2017-01-01 to 2018-12-31"."""
        parts = []
        if self.outlets:
            parts.append("from " + " or ".join(self.outlets))
        if self.since and self.until:
            parts.append(f"dated {self.since} to {self.until}")
        elif self.since:
            parts.append(f"dated {self.since} or later")
        elif self.until:
            parts.append(f"dated {self.until} or earlier")
        return ", ".join(parts)


def make_filters(
    since: str | None = None, until: str | None = None, outlets: list[str] | None = None
) -> Filters:
    """Filters from user input ("2017", "2017-01", "2017-01-05"); raises QuestionError on a bad date.

    An empty value is refused, not taken as no filter: `--outlet ""` from a script whose variable was unset
    would otherwise quote every outlet without a word.
    """
    first = last = None
    if since is not None:
        span = date_range(since)
        if span is None:
            raise QuestionError(f"since {since!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD.")
        first = span[0]
    if until is not None:
        span = date_range(until)
        if span is None:
            raise QuestionError(f"until {until!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD.")
        last = span[1]
    if first and last and first > last:
        raise QuestionError(f"since {since} is after until {until}: no article can be in between.")
    for outlet in outlets or []:
        if not outlet.replace(",", " ").strip():
            raise QuestionError(f"outlet {outlet!r} names no outlet; give a name, e.g. Reuters.")
    names = tuple(
        dict.fromkeys(" ".join(o.split()) for o in outlets or [] for o in o.split(",") if o.strip())
    )
    return Filters(first, last, names)


def parse_filter_words(text: str) -> tuple[Filters, str]:
    """Split `since:2017-01 until:2018 outlet:Reuters question…` into filters and the question.

    `outlet:"Associated Press"` takes a name with spaces; outlet: may be repeated or list names with commas.
    """
    since: str | None = None
    until: str | None = None
    outlets: list[str] = []
    for m in _FILTER_WORD.finditer(text):
        key = m.group(1).lower()
        value = next((g for g in m.groups()[1:] if g is not None), "").strip()
        if not value:
            raise QuestionError(f"{key}: needs a value, e.g. since:2017-01, until:2018 or outlet:Reuters.")
        if key == "since":
            since = value
        elif key == "until":
            until = value
        else:
            outlets.append(value)
    if since is None and until is None and not outlets:
        return Filters(), text
    question = " ".join(_FILTER_WORD.sub(" ", text).split())
    return make_filters(since, until, outlets), question
