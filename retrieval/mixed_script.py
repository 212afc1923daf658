"""Cyrillic names in an English question ("What did Лавров say?"), written as the articles spell them.

An English question is searched and checked word by word against English articles: a name typed in
Cyrillic is a word no article uses, so the question was refused although the archive quotes Lavrov. The
index's words by sound (retrieval/transliteration.py), which find the names of Russian questions, find
these too; a Cyrillic word the articles use as it is (a Russian passage) or that sounds like none of their
words is left alone, and a name no article spells in any way is still refused.
"""

from __future__ import annotations

import re

from retrieval.lexical import Bm25, tokenize
from retrieval.transliteration import SoundIndex

_CYRILLIC_WORD = re.compile(r"[а-яёА-ЯЁ]+(?:-[а-яёА-ЯЁ]+)*")


def has_cyrillic(text: str) -> bool:
    """Whether the text has a Cyrillic word."""
    return _CYRILLIC_WORD.search(text) is not None


def latin_names(question: str, bm25: Bm25, names: SoundIndex) -> str:
    """The question with each Cyrillic word the articles lack but write in Latin letters so written."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        if any(bm25.doc_freq(t) for t in tokenize(word)):
            return word
        # A capital after the question's first word says "name"; the articles must write it as one.
        found = names.find(word, proper=word[:1].isupper() and m.start() > 0)
        return found.capitalize() if found else word

    return _CYRILLIC_WORD.sub(swap, question)
