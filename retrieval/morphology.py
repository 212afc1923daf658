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
from collections.abc import Mapping, Sequence
from typing import Protocol, cast

# Vocabulary words scanned per look-up: a stem as short as "us" starts thousands of words.
MAX_SCAN = 400


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # the package's name


@functools.lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    """The English Snowball stemmer (built once; it keeps no state between words)."""
    # PyStemmer, Snowball's C build: 1 ms to import where the pure-Python snowballstemmer imports all of
    # its 35 languages (0.3 s of a cold `usru ask`), and 26 times faster a word, with the same stems
    # (0 differences over 45,432 words of the AllSides corpus).
    import Stemmer

    return cast(_Stemmer, Stemmer.Stemmer("english"))


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


# The endings English adds to a stem, to find a stem's forms in a vocabulary by dictionary look-ups: sorting
# a large index's vocabulary to scan it by prefix (~0.1 s for 200,000 terms) would be paid by every cold ask.
_ENDINGS = (
    "",
    *"e s es ed ing er ers or ors ee ees y ies ied ion ions ation ations ication ications ition ment ments".split(),
    *"ement ements al als ally ial ially ian ians ly ness ity ities ive ives ively ative ize izes ized izing".split(),
    *"ization izations ise ised ising isation ism isms ist ists ful fully ous ously ence ences ance ances".split(),
    *"ent ents ant ants able ably ible ate ates ated ating ator ators ure ures ic ics ical ically ify ified".split(),
    *"ifies ery ory".split(),
)
# A consonant doubled before these ("plug" → plugged, plugging).
_DOUBLED = ("ed", "ing", "er", "ers", "y")


def vocabulary_forms(vocab: Mapping[str, int], term: str) -> list[str]:
    """The vocabulary's words that share the term's Snowball stem, found by adding endings to the stem.

    A stem is the start of its words but for a final "y" that became "i" ("happi": happy, happiness).
    Each word found is checked by stemming it, so an ending never joins words Snowball keeps apart.
    """
    stem = snowball_stem(term)
    bases = {stem}
    if stem.endswith("i") and len(stem) > 1:
        bases.add(stem[:-1] + "y")
        bases.add(stem[:-1])
    found = {term} if term in vocab else set()
    for base in bases:
        found.update(base + end for end in _ENDINGS if base + end in vocab)
        if base and base[-1] not in "aeiouwxy":
            found.update(base + base[-1] + end for end in _DOUBLED if base + base[-1] + end in vocab)
    return sorted(w for w in found if w == term or snowball_stem(w) == stem)


# The doer of a verb's act, as news names them: "founded" → founder, "advise" → adviser, "prosecute" → prosecutor.
_AGENT_ENDINGS = ("er", "or", "ator")


def related_terms(vocab: Mapping[str, int], term: str) -> frozenset[str]:
    """The term and the vocabulary's agent nouns of its Snowball stem.

    "Who founded Fusion GPS?" is answered by "Fusion GPS founder Glenn Simpson"; Snowball keeps "founder"
    apart from "found", so the agent nouns are added by ending, found by dictionary look-ups.
    """
    stem = snowball_stem(term)
    agents = {stem + end for end in _AGENT_ENDINGS} | {stem.removesuffix("e") + end for end in _AGENT_ENDINGS}
    return frozenset({term, *(a for a in agents if a in vocab)})
