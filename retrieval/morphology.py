"""Word forms by the Snowball (Porter2) English stemmer: "plugging" is a form of "plug", "happiness" of "happy".

The index's own tokens are stemmed lightly (plurals only, lexical.stem) and the event checks compare a
word's first letters (event_check.stem_root), which misses the inflections that double a consonant
("plugging" → "plugg", no vocabulary word starts with it where the archive says "plug") or change a
final letter ("happiness", "happy"). Snowball's rules reach those without a word list. Looked up only for
the few words of a question, against the sorted vocabulary: stemming every vocabulary word (pure Python,
~25 µs a word) would cost seconds on a large index.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from typing import Protocol, cast

import snowballstemmer

# Vocabulary words scanned per look-up: a stem as short as "us" starts thousands of words.
MAX_SCAN = 400


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # the package's name


@functools.lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    """The English Snowball stemmer (built once; it keeps no state between words)."""
    return cast(_Stemmer, snowballstemmer.stemmer("english"))


@functools.lru_cache(maxsize=4096)
def snowball_stem(word: str) -> str:
    """The word's Snowball stem, lower-cased ("Plugging" → "plug")."""
    return _stemmer().stemWord(word.lower())


def snowball_forms(vocab: Sequence[str], term: str) -> list[str]:
    """The words of the sorted vocabulary that share the term's Snowball stem ("plugging" → plug, plugged).

    A stem is the start of its words but for a final "y" it turned into "i" ("happi": happy, happiness),
    so the scan starts at the stem less that "i".
    """
    stem = snowball_stem(term)
    prefix = stem[:-1] if stem.endswith("i") and len(stem) > 1 else stem
    at = bisect.bisect_left(vocab, prefix)
    forms = []
    for word in vocab[at : at + MAX_SCAN]:
        if not word.startswith(prefix):
            break
        if snowball_stem(word) == stem:
            forms.append(word)
    return forms
