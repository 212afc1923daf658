"""Names in Russian questions found in the articles' own vocabulary by how they sound.

A Russian user writes foreign names in Cyrillic and declines them ("Манафорта", "с Флинном"). No
dictionary can list every name in an archive, but the index knows every word its articles use: a Cyrillic
word is transliterated, its case ending dropped, and matched to an indexed word with the same rough sound
(a consonant skeleton where s/z/sh, c/k, y/i and so on meet), the closest spelling and then the most
frequent winning. "Флинна" finds "flynn", "Мюллера" "mueller", "Контрераса" "contreras".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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


# All of _SOUNDS in one pass, longest spelling first where one begins another (sh before s): a word is
# read once rather than once per rule, which made the sound index of a large archive slow to build.
_SOUND_OF = dict(_SOUNDS)
_ANY_SOUND = re.compile("|".join(sorted(map(re.escape, _SOUND_OF), key=len, reverse=True)))


def _sound(m: re.Match[str]) -> str:
    return _SOUND_OF[m.group(0)]


def spelling(latin: str) -> str:
    """The word with spellings of one sound folded together, vowels kept, doubled letters single."""
    return _REPEATS.sub(r"\1", _ANY_SOUND.sub(_sound, latin.lower()))


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
    soft_c = _SOFT_C.sub("s", term)
    variants = {soft_c}
    if "g" in soft_c:
        variants.add(_SOFT_G.sub("j", soft_c))
    if "ch" in soft_c:
        variants.add(_HARD_CH.sub("k", soft_c))
    for variant in variants:
        folded = spelling(variant)
        out.add((folded, term))
        # An s put back after the folded word folds the same way (no rule reads s as a second letter).
        out.add((folded if folded.endswith("s") else folded + "s", term + "s"))
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
    forms = [low] + [
        low[: -len(e)] for e in _ENDINGS if low.endswith(e) and len(low) - len(e) >= 3 and _declined(low, e)
    ]
    return list(dict.fromkeys(spelling(transliterate(f)) for f in forms))


def _declined(word: str, ending: str) -> bool:
    """Whether the ending can be a case ending here: a foreign name ending in и after most consonants is
    not declined (Бритни, Гарри, Пелоси), while Моники and Натальи are."""
    return ending != "и" or word[-2] in "кгхжшчщьи"


@dataclass(frozen=True)
class SoundIndex:
    """The articles' words by sound key: folded spelling, the word to write, how many documents use it."""

    by_key: dict[str, tuple[tuple[str, str, int], ...]]
    # Whether the articles write a word as a name (capitalised mid-sentence); None takes every word.
    is_name: Callable[[str], bool] | None = None

    @classmethod
    def build(
        cls, terms: Iterable[tuple[str, int]], is_name: Callable[[str], bool] | None = None
    ) -> SoundIndex:
        """Index Latin words of three letters or more that some document uses."""
        grouped: dict[str, list[tuple[str, str, int]]] = {}
        keys: dict[str, str] = {}  # many words share a folded spelling's key work; each is computed once
        for term, freq in terms:
            if freq > 0 and _LATIN_WORD.fullmatch(term):
                for folded, written in english_spellings(term):
                    key = keys.get(folded)
                    if key is None:
                        key = keys[folded] = sound_key(folded)
                    grouped.setdefault(key, []).append((folded, written, freq))
        return cls({k: tuple(v) for k, v in grouped.items()}, is_name)

    def find(self, word: str, proper: bool = True) -> str | None:
        """The indexed word the Cyrillic word sounds like, if one is close enough in spelling.

        The vowels must agree run for run (Поттер is no "peter", Бритни no "britain"), though English may
        spell one vowel Russian leaves out (Michael: Майкл) and a silent e (Gates: Гейтс); among words as
        close the more common wins (an archive names its Mueller far more often than a Muller). A name
        (proper) must be one the articles write as a name (`is_name`: Стил is no "still"), tried in that
        order. A word not capitalised as a name (proper=False) must be spelt alike and have four consonants
        or more: a long word spelt alike is a loan (стратегия: "strategy"), a short one a common word that
        happens to sound English (стал: "stall").
        """
        ranked: list[tuple[int, int, int, str]] = []
        for folded in _forms(word):
            key = sound_key(folded)
            if len(key) < (2 if proper else 4):
                continue
            for their, written, freq in self.by_key.get(key, ()):
                spelt = _distance(folded, their)
                apart = 0 if spelt == 0 else vowel_gap(folded, their) if proper else None
                if apart is None:
                    continue
                # Vowel for vowel first, then the more common of two alike words: the archive's Mueller.
                ranked.append((apart, -freq, spelt, written))
        seen: set[str] = set()
        for *_, written in sorted(ranked):
            if written in seen:
                continue
            seen.add(written)
            if not proper or self.is_name is None or self.is_name(written):
                return written
            if len(seen) >= _MOST_NAME_CHECKS:
                break
        return None


# A name's candidates checked against the articles at most: each check reads a few chunks.
_MOST_NAME_CHECKS = 4
# Which English vowels a Russian one may stand for, by its first letter (Trump: Трамп, Paul: Пол,
# Jack: Джек, Peter: Питер, Woodward: Вудворд); a Russian diphthong (Клаус) needs an English one.
_VOWEL_FOR = {"a": "auo", "o": "oa", "e": "ea", "i": "ie", "u": "uoe"}
_SILENT_E = re.compile(r"(?<=[^aeiou])e(?=s?$)")


def _vowel_runs_agree(ours: str, theirs: str) -> bool:
    if ours.startswith("ai"):  # Майк: Mike
        return theirs[0] in "ia"
    if ours.startswith("ei"):  # Гейтс: Gates, Крейг: Craig
        return theirs[0] in "ae"
    if len(ours) > 1 and ours[1] in "ou" and len(theirs) < 2:  # Клаус: no "clash"
        return False
    return theirs[0] in _VOWEL_FOR.get(ours[-1] if ours[0] == "i" and len(ours) > 1 else ours[0], ours[0])


def vowel_gap(ours: str, theirs: str) -> int | None:
    """How far a folded Russian spelling is from an English one with the same consonants: 0 when their
    vowels agree run for run, 1 when English has one vowel more, None when they are no match.

    English may write a silent e (Gates) and one vowel a Russian ear does not hear (Michael: Майкл);
    Russian may add none (Мадонна is no "madden", Санта no "sent").
    """
    theirs = _SILENT_E.sub("", theirs) if len(theirs) > 3 else theirs
    shape, their_shape = _VOWELS.sub(_VOWEL_RUN, ours), _VOWELS.sub(_VOWEL_RUN, theirs)
    our_runs, their_runs = _VOWELS.findall(ours), _VOWELS.findall(theirs)
    gap = 0
    if shape != their_shape:
        # One English vowel run Russian leaves out, and nothing else.
        drops = [i for i in range(len(their_runs)) if _without_run(their_shape, i) == shape]
        if not drops:
            return None
        del their_runs[drops[0]]
        gap = 1
    agree = all(_vowel_runs_agree(a, b) for a, b in zip(our_runs, their_runs, strict=True))
    return gap if agree else None


def _without_run(shape: str, index: int) -> str:
    """The shape without its index-th vowel run."""
    places = [i for i, ch in enumerate(shape) if ch == _VOWEL_RUN]
    at = places[index]
    return shape[:at] + shape[at + 1 :]
