"""Holding a model's sentences to the quotes they cite: names, numbers and dates must be in them.

Deterministic and deliberately narrow: a sentence passes when every name (a capitalised word),
number and date it states can be found in what it cites (the verified quotes, plus the cited
articles' titles, outlets and dates). Verbs, negation, common nouns and who did what to whom are not
checked; README "Answer with an LLM" lists exactly what is and is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.lexical import STOPWORDS, shared_prefix

# Sentence openers that are capitalised only because they open the sentence.
_OPENERS = frozenset(
    """according however moreover furthermore meanwhile additionally also first second third finally
    overall yes no instead still separately earlier later today yesterday here there thus therefore
    indeed likewise similarly sure certainly in on at by for from with without as while since although
    though but and or nor so yet after before during despite unlike like asked sources articles article
    one two three several many some most all both neither either none each every""".split()
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "thousand": "1000",
    "million": "million",
    "billion": "billion",
    "trillion": "trillion",
    "dozen": "12",
    "dozens": "dozens",
    "hundreds": "hundreds",
    "thousands": "thousands",
    "millions": "millions",
}
_MONTHS = "january february march april may june july august september october november december".split()
# Ways the same country is written across outlets ("U.S.", "United States", "American").
_VARIANTS = (
    (
        re.compile(r"\bu\.\s?s\.(?:\s?a\.)?|\bunited states(?: of america)?\b|\bamerica(?:n|ns)?\b|\busa\b"),
        " us ",
    ),
    (re.compile(r"\bu\.\s?k\.|\bunited kingdom\b|\bbritain\b|\bbritish\b"), " uk "),
    (re.compile(r"\bu\.\s?n\.|\bunited nations\b"), " un "),
    (re.compile(r"\beuropean union\b"), " eu "),
    (re.compile(r"[’']s\b"), ""),
)
_MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")
# Opening and closing marks of every quotation style a model may use; ’ and ' close only before a non-letter.
_QUOTED = (
    re.compile(r"“([^“”„]+)”"),
    re.compile(r"„([^„“”]+)[“”]"),
    re.compile(r"«([^«»]+)»"),
    re.compile(r"»([^«»]+)«"),
    re.compile(r'(?<![\w"])"([^"]+)"(?!\w)'),
    re.compile(r"‘([^‘’]+?)’(?![^\W_])"),
    re.compile(r"‚([^‚‘’]+?)[‘’](?![^\W_])"),
    re.compile(r"(?<![\w'])'([^']+?)'(?![^\W_])"),
    re.compile(r"‹([^‹›]+)›"),
)


def _normalise(text: str) -> str:
    low = text.lower()
    for pattern, replacement in _VARIANTS:
        low = pattern.sub(replacement, low)
    return low


def _numbers(text: str) -> set[str]:
    return {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}


def quoted_spans(sentence: str, min_chars: int) -> list[str]:
    """The text inside quotation marks of any style (“” „“ «» "" ‘’ '' ‹›), at least `min_chars` long."""
    found = []
    for pattern in _QUOTED:
        for m in pattern.finditer(sentence):
            inner = m.group(1).strip()
            if len(inner) >= min_chars and inner not in found:
                found.append(inner)
    return found


def claim_terms(sentence: str, common: frozenset[str] = frozenset()) -> list[str]:
    """The names, numbers and dates a sentence states, in order (its [n] markers left out).

    A sentence's first word is a name unless it is a stopword, a usual opener or in `common` (words
    the supporting text has in lower case).
    """
    text = _MARKER.sub(" ", sentence)
    for pattern, replacement in _VARIANTS[:-1]:
        # Written the one way the supporting text is normalised to ("United States" → "US").
        text = re.compile(pattern.pattern, re.IGNORECASE).sub(replacement.upper(), text)
    terms: list[str] = []
    for m in _NUMBER.finditer(text):
        terms.append(m.group(0))
    start = True
    for m in re.finditer(r"[^\W\d_]+(?:[-’'.][^\W\d_]+)*\.?|[.!?:;]", text):
        word = m.group(0)
        if word in ".!?":
            start = True
            continue
        if word in ":;":
            continue
        bare = word.rstrip(".")
        low = bare.lower()
        opener, start = start, False
        if low in NUMBER_WORDS or low in _MONTHS:
            terms.append(bare)
            continue
        if not bare[:1].isupper() or len(bare) < 2 or low in STOPWORDS:
            continue
        if opener and (
            low in common or low in _OPENERS or low in STOPWORDS or (low.endswith("ly") and len(low) > 4)
        ):
            continue  # capitalised only because it opens the sentence ("However", "Exactly")
        terms.append(bare)
    return terms


def _supported(term: str, words: set[str], numbers: set[str]) -> bool:
    # "U.S." loses its last dot as a word; put it back so that it reads as the country.
    low = _normalise(term + "." if "." in term else term).strip()
    if _NUMBER.fullmatch(term):
        return term.replace(",", "") in numbers
    if low in NUMBER_WORDS:
        return low in words or NUMBER_WORDS[low] in numbers
    for part in [p for p in _WORD.findall(low) if len(p) > 1]:
        if part in words:
            continue
        # "Russia"/"Russian", "Ukraine"/"Ukrainian": a shared stem of all but the last letter or so.
        if not any(_shared_stem(part, w) for w in words):
            return False
    return True


def _shared_stem(a: str, b: str) -> bool:
    """Whether two words share all but the last letter or so of the shorter one, and at least four."""
    n = shared_prefix(a, b)
    return n >= 4 and n >= min(len(a), len(b)) - 1


def unsupported_terms(sentence: str, support: Iterable[str]) -> list[str]:
    """The sentence's names, numbers and dates that appear nowhere in the supporting texts."""
    joined = " ".join(support)
    common = frozenset(re.findall(r"(?<![^\W\d_])[a-z]+\b", joined))
    text = _normalise(joined)
    words = set(_WORD.findall(text))
    numbers = _numbers(text)
    return [t for t in claim_terms(sentence, common) if not _supported(t, words, numbers)]


def date_words(date: str | None) -> str:
    """An ISO date also as words ("2017-10-20" → "2017-10-20 20 October 2017"), so either form matches."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", date or "")
    if not m:
        return date or ""
    year, month, day = m.groups()
    return f"{date} {int(day)} {_MONTHS[int(month) - 1]} {year}"
