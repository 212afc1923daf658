"""A question's names written as the articles write them, when it was typed in one case.

The checks that refuse or caveat a false premise know a name by its capital letter ("Why did Kushner plead
guilty?"). Chat users often type all in lower case, all in capitals or With Every Word Capitalised, and the same
question then slipped past every check. The index's own chunks say how each word is written: "kushner",
"comey" and "nato" are written "Kushner", "Comey" and "NATO" inside sentences nearly always, "fire" and
"may" nearly never. Only the checks see the restored question; the user's words are shown as typed.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrieval.arrays import common
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, tokenize

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)*")  # "mh17" is one word, written "MH17"
# How many chunks holding a word are read for its spelling: a handful settles a name ("Comey" in every one);
# a common word read once per index version, so a question costs a few dozen short reads at most.
SAMPLE = 24
# Inside a sentence, a word the articles capitalise at least this often is a name (or its title: "President").
# Not a bare majority: "east" is "East" 56% of the time (the Middle East), and "Ukraine's east" is no name;
# a word that is part of a name is told by its neighbour in the question ("cold war", "black sea").
NAME_SHARE = 0.7
# Times the articles must put the word next to the question's neighbour for that pairing to decide.
MIN_PAIRS = 2
_INITIALS = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_SENTENCE_START = re.compile(r"[.!?:;\"“”(\[\n]\s*$")


@dataclass(frozen=True)
class Spelling:
    """How the articles write one word inside sentences: its usual capitalised form, and how often."""

    form: str | None
    capitalised: int
    seen: int

    @property
    def share(self) -> float:
        """The share of occurrences read that are capitalised."""
        return self.capitalised / self.seen if self.seen else 0.0


_CACHE: dict[tuple[str, int, str, str, str], Spelling] = {}
_LOCK = threading.Lock()


def spelling(index: StoredVersion, word: str, before: str = "", after: str = "") -> Spelling:
    """How the indexed chunks write the word (any case) where it does not open a sentence.

    With a neighbour (`before` or `after`), only where it stands next to that word: "cold" is "Cold" before
    "war" but not elsewhere, "east" is "East" after "Middle" but not after "Ukraine's".
    """
    key = (index.version, id(index.bm25), word.lower(), before.lower(), after.lower())
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    found = _read_spelling(index, *key[2:])
    with _LOCK:
        if len(_CACHE) > 20_000:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _forms(index: StoredVersion, lower: str) -> list[str]:
    """The vocabulary terms the word is indexed as, or else those sharing its stem ("fire" → fired)."""
    from retrieval.event_check import sorted_vocabulary
    from retrieval.morphology import snowball_forms

    terms = tokenize(lower)
    if len(terms) != 1:
        return []
    return [terms[0]] if terms[0] in index.bm25.vocab else snowball_forms(sorted_vocabulary(index), terms[0])


def _chunks_with(index: StoredVersion, forms: list[str]) -> npt.NDArray[np.int32]:
    """The chunks that hold any of the terms, in order (event_check.chunks_with, as an array)."""
    from retrieval.event_check import chunks_with

    return np.array(sorted(chunks_with(index, forms)), dtype=np.int32)


def _alternatives(lower: str, forms: list[str]) -> str:
    """A pattern for the word in any of its forms, with a possessive."""
    words = "|".join(re.escape(w) for w in sorted({lower, *forms}, key=len, reverse=True))
    return rf"(?:{words})(?:['’]s)?"


def _read_spelling(index: StoredVersion, lower: str, before: str, after: str) -> Spelling:
    """Count the word's capitalised and lower-case occurrences in a spread of the chunks that hold it.

    A word the archive has only in other forms is read in those ("Fire" in "Trump fired Yates").
    """
    forms = _forms(index, lower)
    if not forms:
        return Spelling(None, 0, 0)
    chunks = _chunks_with(index, forms)
    word = _alternatives(lower, forms)
    lead, trail = "", ""
    for neighbour, is_before in ((before, True), (after, False)):
        if neighbour:
            other = _forms(index, neighbour)
            if not other:
                return Spelling(None, 0, 0)
            chunks = common(chunks, _chunks_with(index, other))
            if is_before:
                lead = _alternatives(neighbour, other) + r"\s+"
            else:
                trail = r"\s+" + _alternatives(neighbour, other)
    step = max(1, len(chunks) // SAMPLE)
    pattern = re.compile(rf"(?<![\w'’-]){lead}({word}){trail}(?![\w-])", re.IGNORECASE)
    spelled: Counter[str] = Counter()
    seen = 0
    for chunk_id in chunks[::step][:SAMPLE]:
        aid, start, end, _lo, _hi = index.chunks.row(int(chunk_id))
        text = index.article(aid).text[start:end]
        for m in pattern.finditer(text):
            at = m.start(1)
            if at == 0 or _SENTENCE_START.search(text[max(0, at - 3) : at]):
                continue  # capitalised because it opens a sentence, heading or quote
            seen += 1
            if m.group(1)[0].isupper():
                spelled[m.group(1)] += 1
    form = spelled.most_common(1)[0][0] if spelled else None
    return Spelling(form, sum(spelled.values()), seen)


def typed_in_one_case(question: str) -> bool:
    """All lower case, all capitals, or every content word capitalised: its capitals tell no names apart.

    "Why did Obama Fire Comey?" capitalises "Fire" as it does the names; "Why did Obama fire Comey?" is
    taken as typed.
    """
    words = _WORD.findall(question)
    if not words:
        return False
    letters = "".join(words)
    content = [w for w in words if w.lower() not in STOPWORDS]
    return letters.islower() or letters.isupper() or (bool(content) and all(w[0].isupper() for w in content))


def _in_context(index: StoredVersion, m: re.Match[str]) -> Spelling:
    """How the articles write the matched word next to its content-word neighbours in the question, or alone.

    Of the neighbours, the one the word stands next to more often in the articles speaks for it.
    """
    text = m.string
    before = _WORD.search(text[: m.start()][::-1])
    after = _WORD.match(text[m.end() :].lstrip())
    gap = text[m.start() - before.start() : m.start()] if before else ""
    prev = before.group(0)[::-1] if before and gap and gap.isspace() else ""
    next_ = after.group(0) if after and text[m.end() : m.end() + 1].isspace() else ""
    best = Spelling(None, 0, 0)
    for found in (
        spelling(index, m.group(0), before=prev) if prev and prev.lower() not in STOPWORDS else best,
        spelling(index, m.group(0), after=next_) if next_ and next_.lower() not in STOPWORDS else best,
    ):
        if found.seen > best.seen:
            best = found
    return best if best.seen >= MIN_PAIRS else spelling(index, m.group(0))


def restore_case(index: StoredVersion, question: str) -> str:
    """The question with each word in the case the articles write it, if it was typed in one case.

    A word the articles write capitalised at least NAME_SHARE of the time inside sentences is a name; a word
    they never use keeps the case it was typed in (a lower-case typo or chat word is no name).
    """
    if not typed_in_one_case(question):
        return question

    def respell(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.lower() in STOPWORDS or len(word) < 2:
            lower = word.lower()
            return lower.capitalize() if m.start() == 0 else lower
        found = _in_context(index, m)
        if found.form is not None and found.share >= NAME_SHARE:
            # The form read may carry a possessive the question lacks ("Comey's" for "comey").
            form = found.form[: len(word)]
            return form if form.lower() == word.lower() else word.capitalize()
        if found.seen == 0 and word[0].isupper() and not word.isupper():
            return word  # no evidence against the capital it was typed with ("O’Brien")
        # A word no article uses is no name by that alone: "pls", "lol", "abut", "fier" typed in lower case were
        # refused as unknown names (the fifth session's second attack); "order of lenin" goes uncaught.
        if m.start() == 0:
            return word.capitalize()
        return word.lower()

    # Initials are capitals whatever the typing ("the u.s. expelled" → "the U.S. expelled").
    return _INITIALS.sub(lambda m: m.group(0).upper(), _WORD.sub(respell, question))
