"""An article file's stated metadata: YAML front matter or a mail-style header block, read as text.

A value is shown to the reader on one line and as text: a list of names is joined, and anything that is no
text (binary, a mapping, a yes/no word) makes the file an article error with the reason, never a Python
rendering ("b'hello'", "False").
"""

from __future__ import annotations

import datetime as dt
import re

from retrieval.dates import parse_date
from retrieval.errors import ArticleError
from retrieval.textsafety import CONTROLS, REORDERING, replace_unsafe


def as_str(value: object) -> str | None:
    """A metadata value on one line: line breaks, controls and direction overrides can fake output lines."""
    if value is None:
        return None
    # Invisible characters are kept: trusted_publisher needs them to see a disguised name.
    s = " ".join(replace_unsafe(str(value), CONTROLS + REORDERING).split())
    return s or None


# What YAML reads a field written as text into (`title: 1984` is a number, `date: 2018-07-16` a date).
_TEXTUAL = (str, int, float, dt.date)


def text_field(front: dict[str, object], key: str) -> str | None:
    """A front-matter field as one line of text; a list of names ("publisher: [A, B]") is joined."""
    # Anything else would be shown as Python writes it ("b'hello'", "{'a': 1}", "False" for "title: No"):
    # the file is skipped with the reason, as for a date that is no date.
    value = front.get(key)
    items = value if isinstance(value, list) else [value]
    odd = [v for v in items if v is not None and (isinstance(v, bool) or not isinstance(v, _TEXTUAL))]
    if not odd:
        return ", ".join(s for v in items if (s := as_str(v))) or None
    kinds = {
        bytes: "binary data",
        dict: "a mapping",
        list: "a nested list",
        bool: "a yes/no word YAML reads as true or false",
    }
    kind = kinds.get(type(odd[0]), f"a {type(odd[0]).__name__} value")
    raise ArticleError(f"its front-matter {key} holds {kind}, not text (write it as plain text, quoted)")


def read_front_matter(text: str) -> tuple[dict[str, object], int]:
    m = re.match(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", text, re.DOTALL)
    if not m:
        return {}, 0
    import yaml

    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        raise ArticleError("its YAML front matter does not parse") from exc
    except ValueError as exc:  # PyYAML builds dates itself: "2021-02-30" fails in datetime
        raise ArticleError(f"its YAML front matter has an impossible date or value ({exc})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArticleError("its YAML front matter is not a mapping of fields")
    return {str(k).lower(): v for k, v in data.items()}, m.end()


# Plain-text dumps often open with mail-style fields ("Title: …", "Date: …", "URL: …") and a blank line.
_HEADER_KEYS = {
    "title": "title",
    "headline": "title",
    "date": "date",
    "published": "date",
    "publisher": "publisher",
    "source": "publisher",
    "outlet": "publisher",
    "url": "url",
    "link": "url",
}
_HEADER_LINE = re.compile(r"[ \t]*([A-Za-z]+)[ \t]*:[ \t]*(\S.*?)[ \t]*\r?\n")
_BLANK_LINE = re.compile(r"[ \t]*(?:\r?\n|\Z)")


def read_header_block(text: str) -> tuple[dict[str, object], int]:
    """Fields from a leading block of "Key: value" lines closed by a blank line, as front matter.

    Only a block made wholly of known keys counts, so a body that opens with "Update: Moscow said…" is
    left alone; the block leaves the quotable body, as YAML front matter does.
    """
    fields: dict[str, object] = {}
    pos = 1 if text.startswith("\ufeff") else 0
    while m := _HEADER_LINE.match(text, pos):
        key = _HEADER_KEYS.get(m.group(1).lower())
        if key is None or key in fields:
            return {}, 0
        fields[key] = m.group(2)
        pos = m.end()
    blank = _BLANK_LINE.match(text, pos)
    if not fields or blank is None or not text[blank.end() :].strip():
        return {}, 0
    if "date" in fields and _stated_date(str(fields["date"])) is None:
        raise ArticleError(
            f"its 'Date:' line {str(fields['date'])[:40]!r} is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)"
        )
    return fields, blank.end()


def _stated_date(value: str) -> str | None:
    """A metadata date as stored: YYYY-MM-DD, or YYYY-MM or YYYY when stated only to the month or year."""
    # A year alone is a date only here, where the field says it is one: in a page's text it is any number.
    year = re.fullmatch(r"\s*(\d{4})\s*", value)
    if year:
        return year.group(1) if int(year.group(1)) >= dt.MINYEAR else None
    return parse_date(value)


def normalise_date(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    # `date: 2018` reaches here as the number 2018.
    parsed = None if isinstance(value, bool) else _stated_date(str(value))
    if parsed is None:
        raise ArticleError(
            f"its front-matter date {str(value)!r} is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)"
        )
    return parsed
