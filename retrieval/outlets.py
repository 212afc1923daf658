"""Outlets' names as articles give them, and whether a name is dressed up as another outlet's."""

from __future__ import annotations

import re
import unicodedata

# Characters that show as nothing: in an outlet's name they only serve to make it look like another.
_INVISIBLE = re.compile(
    r"[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2060-\u2064\u3164\ufeff\uffa0]"
)
_LETTERS = re.compile(r"[^\W\d_]+")
# Alphabets with letters that pass for Latin ones (or for each other); Japanese kana beside kanji is fine.
_LOOKALIKE_SCRIPTS = {
    "LATIN",
    "CYRILLIC",
    "GREEK",
    "ARMENIAN",
    "CHEROKEE",
    "COPTIC",
    "FULLWIDTH",
    "MATHEMATICAL",
}


def trusted_publisher(name: str | None) -> str | None:
    """The publisher's name, or None when it is dressed up as another outlet's.

    Real outlets' names have no invisible characters and no word that mixes alphabets; a "Reuters"
    spelt with a Cyrillic "е" or a zero-width space exists only to pass for Reuters. Citations then
    name the article's file instead.
    """
    if name is None:
        return None
    if _INVISIBLE.search(name):
        return None
    for word in _LETTERS.findall(name):
        if len({_script(ch) for ch in word} & _LOOKALIKE_SCRIPTS) > 1:
            return None
    return name


def _script(ch: str) -> str:
    """The alphabet of a letter as its Unicode name starts ("LATIN", "CYRILLIC", "GREEK", …)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]
