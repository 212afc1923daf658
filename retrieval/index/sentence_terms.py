"""The BM25 terms of a loaded version's sentences, computed when scored and the most recent kept.

An answer scores about 180 candidate sentences, and the next question often scores many of them again. Kept
without a bound, they grew a bot's memory by about 0.1 MB a question on the whole AllSides corpus (1.05
million sentences, about 1.7 KB each once tokenised): a bot up for weeks would reach gigabytes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Protocol

from cachetools import LRUCache

from retrieval.index.records import SentenceTable, StoredArticle
from retrieval.lexical import tokenize

KEPT = 50_000  # sentences: about 85 MiB, the candidates of the last ~300 questions


class HasSentences(Protocol):
    """A loaded version, folder or PostgreSQL, as far as its sentences' texts go."""

    @property
    def articles(self) -> Sequence[StoredArticle]:
        """Every article, by row id."""

    @property
    def sentences(self) -> SentenceTable:
        """Every sentence, by sentence id."""


def sentence_text(version: HasSentences, sentence_id: int) -> str:
    """One sentence's text, from its article's."""
    s = version.sentences.row(sentence_id)
    return version.articles[s.article].text[s.start : s.end]


def weak_text_of(version: HasSentences) -> Callable[[int], str]:
    """sentence_text for this version, holding it by a weak reference.

    A version keeps its SentenceTerms, which kept the version: the cycle left every replaced version (its
    mapped files, kept terms and stem scores) to the garbage collector, and a re-indexing bot held up to
    three of them at once (a24). Unreferenced, a version now goes when its last reader lets it go.
    """
    ref = weakref.ref(version)

    def text_of(sentence_id: int) -> str:
        held = ref()
        if held is None:  # only a version's own terms call this, and they go with it
            raise ReferenceError("the index version was let go")
        return sentence_text(held, sentence_id)

    return text_of


class SentenceTerms:
    """Sentence id → its BM25 terms, from the sentence's text; thread-safe."""

    def __init__(self, text_of: Callable[[int], str], kept: int = KEPT) -> None:
        self._text_of = text_of
        self._kept: LRUCache[int, frozenset[str]] = LRUCache(kept)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe on their own

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, sentence_id: int) -> frozenset[str]:
        """The sentence's terms, tokenised now unless kept."""
        with self._lock:
            terms = self._kept.get(sentence_id)
        if terms is None:
            terms = frozenset(tokenize(self._text_of(sentence_id)))
            with self._lock:
                self._kept[sentence_id] = terms  # a racing thread computes the same value
        return terms
