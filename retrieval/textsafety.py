"""The one rule for characters of article or user text that must not reach a reader as they are.

Terminals obey C0/C1 controls (ESC starts colour, cursor, screen-clearing and OSC title or hyperlink
sequences); line and paragraph separators fake extra lines; bidi overrides, isolates and marks
re-order what is shown; zero-width and tag characters hide text or make one name look like another;
a lone surrogate cannot even be encoded. Human output shows every such character escaped (`\\x1b`,
`\\u202e`), cleaned fields and questions drop it, and JSON output keeps the text exact.
"""

from __future__ import annotations

import functools
import re

# Characters a terminal obeys, and line breaks of every kind.
CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
# Marks, embeddings, overrides and isolates that change the order text is shown in.
REORDERING = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u206a-\u206f"
# Characters that show as nothing: zero-width spaces and joiners, invisible operators, the BOM,
# interlinear annotations (which hide the annotated text) and tag characters (invisible ASCII).
INVISIBLE = "\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
SURROGATES = "\ud800-\udfff"
UNSAFE = CONTROLS + REORDERING + INVISIBLE + SURROGATES


@functools.cache
def _pattern(chars: str, keep: str) -> re.Pattern[str]:
    exempt = f"(?![{re.escape(keep)}])" if keep else ""
    return re.compile(f"{exempt}[{chars}]")


def _escaped(m: re.Match[str]) -> str:
    return m.group(0).encode("unicode_escape").decode("ascii")


def escape_unsafe(text: str, keep: str = "") -> str:
    """Text for human output: every unsafe character written as its escape, except those in `keep`."""
    return _pattern(UNSAFE, keep).sub(_escaped, text)


def one_line(text: str) -> str:
    """Text promised to stay on one line (a name, a title, an error): line breaks and tabs escaped too."""
    return escape_unsafe(text)


# A word longer than this in a one-sentence error (a path, nearly always) is cut around an ellipsis; above
# the 60 characters a setting's value is cut to, so that is not cut again.
LONG_WORD_CHARS = 80


def cut(text: str, limit: int = LONG_WORD_CHARS) -> str:
    """The text, or its start and end around an ellipsis when longer than limit.

    The end is kept because a path's last parts (the file, the folder made) say most.
    """
    if len(text) <= limit:
        return text
    return f"{text[: limit * 2 // 3]}…{text[-(limit // 3) :]}"


def shorten_long_words(message: str, limit: int = LONG_WORD_CHARS) -> str:
    """An error message with each word longer than limit cut, its length said, as a setting's value is:
    a 300-character --index-dir named in a sentence would fill the screen."""

    def shorten(m: re.Match[str]) -> str:
        # The sentence's own punctuation after the word ("…/a);") stays after the length.
        word = m.group(0).rstrip(").,;:!?]'\"”")
        if len(word) <= limit:
            return m.group(0)
        return f"{cut(word, limit)} ({len(word)} characters){m.group(0)[len(word) :]}"

    return re.sub(rf"\S{{{limit + 1},}}", shorten, message)


def error_line(exc: BaseException) -> str:
    """An error as one printable line, its long words (paths) shortened."""
    return one_line(shorten_long_words(str(exc)))


def replace_unsafe(text: str, chars: str = UNSAFE, keep: str = "", by: str = " ") -> str:
    """Text with the unsafe characters (or the given subset of them) replaced, except those in `keep`."""
    return _pattern(chars, keep).sub(by, text)


def find_unsafe(text: str) -> str | None:
    """The first unsafe character of text, or None."""
    m = _pattern(UNSAFE, "").search(text)
    return m.group(0) if m else None
