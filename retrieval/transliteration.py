"""Names in Russian questions found in the articles' own vocabulary by how they sound.

A Russian user writes foreign names in Cyrillic and declines them ("Манафорта", "с Флинном"). No
dictionary can list every name in an archive, but the index knows every word its articles use: a Cyrillic
word is transliterated, its case ending dropped, and matched to an indexed word with the same rough sound
(a consonant skeleton where s/z/sh, c/k, y/i and so on meet), the closest spelling and then the most
frequent winning. "Флинна" finds "flynn", "Мюллера" "mueller", "Контрераса" "contreras".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
# Case endings, longest first: a declined name loses one of them before it is matched.
_ENDINGS = tuple(
    sorted(
        (
            "ами ями ого его ому ему ыми ими ой ей ом ем ам ям ах ях ую юю ая яя ые ие ых их ым им ов ев "
            "а я у ю е ы и"
        ).split(),
        key=len,
        reverse=True,
    )
)
# Spellings of one sound, in English and in transliterated Russian, folded to one letter (order matters).
_SOUNDS = (
    ("shch", "s"), ("sch", "s"), ("tch", "C"), ("dzh", "j"), ("dj", "j"), ("zh", "s"), ("sh", "s"),
    ("kh", "h"), ("ch", "C"), ("ph", "f"), ("th", "t"), ("ck", "k"), ("ee", "i"), ("x", "ks"), ("w", "v"),
    ("q", "k"), ("z", "s"), ("c", "k"), ("yu", "u"), ("y", "i"),
)  # fmt: skip
# English spells s as c before e, i, y (Prince: Принс) and often j as g (Page: Пейдж); Russian never does.
_SOFT_C = re.compile(r"c(?=[eiy])")
_SOFT_G = re.compile(r"g(?=[eiy])")
_HARD_CH = re.compile(r"ch(?=[aeiourl])")
_VOWELS = re.compile(r"[aeiou]+")
_VOWEL_RUN = "V"
_REPEATS = re.compile(r"(.)\1+")
_LATIN_WORD = re.compile(r"[a-z]{3,}")


def transliterate(word: str) -> str:
    """The Cyrillic word in Latin letters, as a Russian would spell a foreign name back."""
    low = word.lower().replace("ё", "е").replace("дж", "j")
    return "".join(_LETTERS.get(ch, ch) for ch in low)


def spelling(latin: str) -> str:
    """The word with spellings of one sound folded together, vowels kept, doubled letters single."""
    s = latin.lower()
    for written, sound in _SOUNDS:
        s = s.replace(written, sound)
    return _REPEATS.sub(r"\1", s)


def sound_key(folded: str) -> str:
    """A folded spelling's consonant skeleton: one name in English and in Russian meets on it."""
    head = "A" if folded[:1] in "aeiou" else ""
    return head + _REPEATS.sub(r"\1", _VOWELS.sub("", folded))


def english_spellings(term: str) -> set[tuple[str, str]]:
    """An indexed word's folded spellings, each with the word to write for it.

    English reads g soft or hard and ch as in Chicago or Michael; the index keeps words without a plural
    or possessive s (Nunes is indexed as "nune"), so each is also spelt with the s put back.
    """
    out = set()
    for written in (term, term + "s"):
        soft_c = _SOFT_C.sub("s", written)
        for variant in (soft_c, _SOFT_G.sub("j", soft_c), _HARD_CH.sub("k", soft_c)):
            out.add((spelling(variant), written))
    return out


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (the strings are single words)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _forms(word: str) -> list[str]:
    """The word and the word without one case ending, transliterated and folded."""
    low = word.lower().replace("ё", "е")
    forms = [low] + [low[: -len(e)] for e in _ENDINGS if low.endswith(e) and len(low) - len(e) >= 3]
    return list(dict.fromkeys(spelling(transliterate(f)) for f in forms))


@dataclass(frozen=True)
class SoundIndex:
    """The articles' words by sound key: folded spelling, the word to write, how many documents use it."""

    by_key: dict[str, tuple[tuple[str, str, int], ...]]

    @classmethod
    def build(cls, terms: Iterable[tuple[str, int]]) -> SoundIndex:
        """Index Latin words of three letters or more that some document uses."""
        grouped: dict[str, list[tuple[str, str, int]]] = {}
        for term, freq in terms:
            if freq > 0 and _LATIN_WORD.fullmatch(term):
                for folded, written in english_spellings(term):
                    grouped.setdefault(sound_key(folded), []).append((folded, written, freq))
        return cls({k: tuple(v) for k, v in grouped.items()})

    def find(self, word: str, proper: bool = True) -> str | None:
        """The indexed word the Cyrillic word sounds like, if one is close enough in spelling.

        Vowels are where the two spellings differ most (Гейтс: Gates), so closeness is measured with each
        run of vowels as one letter, and may differ by one; among words as close the more common wins
        (an archive names its Mueller far more often than a Muller). A word not capitalised as a name
        (proper=False) must be spelt alike and have four consonants or more: a long word spelt alike is a
        loan (стратегия: "strategy"), a short one a common word that happens to sound English (стал: "stall").
        """
        best: tuple[int, int, int, str] | None = None
        for folded in _forms(word):
            key = sound_key(folded)
            if len(key) < (2 if proper else 4):
                continue
            shape = _VOWELS.sub(_VOWEL_RUN, folded)
            for their, written, freq in self.by_key.get(key, ()):
                # One letter apart at most: Грайнер (Griner) must not become "garner".
                near = _distance(shape, _VOWELS.sub(_VOWEL_RUN, their))
                spelt = _distance(folded, their)
                if near > 1 or (spelt > 0 and not proper):
                    continue
                # The more common of two alike words: an archive's Mueller, not its Muller.
                rank = (near, -freq, spelt, written)
                if best is None or rank < best:
                    best = rank
        return best[3] if best else None
