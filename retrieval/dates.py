"""Dates as articles state them: "June 5, 2017", "5 June 2017", "2017-06-05", "June 2017".

Only a date whose day (or month) and year are both stated is a date; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
MONTHS.update({m[:3]: v for m, v in list(MONTHS.items())})
MONTHS["sept"] = 9
# Weekdays and the short forms news writes them in ("Sun.", "Tues.", "Thurs."): times, never names.
WEEKDAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday "
    "mon tue tues wed weds thu thur thurs fri sat sun".split()
)
MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"


def parse_date(s: str) -> str | None:
    """Parse a stated date into YYYY-MM-DD or YYYY-MM; None unless day/month and year are all stated."""
    s = s.strip()
    m = re.search(r"\b(\d{4})-(\d{2})(?:-(\d{2}))?\b", s)
    if m:
        return iso_date(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
    m = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH})(?:\s*+,)?\s++(\d{{4}})\b", s, re.IGNORECASE)
    if m:
        return iso_date(int(m.group(3)), MONTHS[month_key(m.group(2))], int(m.group(1)))
    m = re.search(rf"\b({MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s*+,)?\s++(\d{{4}})\b", s, re.IGNORECASE)
    if m:
        return iso_date(int(m.group(3)), MONTHS[month_key(m.group(1))], int(m.group(2)))
    m = re.search(rf"^\s*({MONTH})\s+(\d{{4}})\s*$", s, re.IGNORECASE)
    if m:
        return iso_date(int(m.group(2)), MONTHS[month_key(m.group(1))], None)
    return None


def month_key(name: str) -> str:
    # Case-insensitive patterns also match "\u017f" (long s) to "s": NFKC folds it, or "\u017fept" has no key.
    key = unicodedata.normalize("NFKC", name).lower().rstrip(".")
    return key if key in MONTHS else key[:3]


def iso_date(year: int, month: int, day: int | None) -> str | None:
    try:
        if day is None:
            dt.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None
