"""A loaded version's sentence terms are computed on demand and only the most recent kept (sentence_terms.py)."""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

import pytest

from retrieval.asked_time import article_dates
from retrieval.coverage import date_span, outlet_terms
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.index.sentence_terms import SentenceTerms, weak_text_of
from retrieval.lexical import tokenize
from tests.conftest import copy_seeds

TEXTS = [f"Russia and the United States spoke about arms control in round {n}." for n in range(40)]


def test_the_terms_are_the_sentence_s_bm25_tokens() -> None:
    terms = SentenceTerms(TEXTS.__getitem__)
    assert terms.get(7) == frozenset(tokenize(TEXTS[7]))
    assert {"7", "russia", "arm"} <= terms.get(7)


def test_only_the_most_recent_are_kept_and_the_rest_are_made_again() -> None:
    asked: list[int] = []

    def text_of(sid: int) -> str:
        asked.append(sid)
        return TEXTS[sid]

    terms = SentenceTerms(text_of, kept=3)
    for sid in range(10):
        terms.get(sid)
    assert len(terms) == 3
    terms.get(9)  # kept: not read again
    assert asked == list(range(10))
    assert terms.get(0) == frozenset(tokenize(TEXTS[0]))  # forgotten: read again, the same terms
    assert asked[-1] == 0 and len(terms) == 3


def test_threads_sharing_a_small_cache_get_the_right_terms() -> None:
    terms = SentenceTerms(TEXTS.__getitem__, kept=5)
    wrong: list[int] = []

    def ask(offset: int) -> None:
        for k in range(2_000):
            sid = (k * 7 + offset) % len(TEXTS)
            if terms.get(sid) != frozenset(tokenize(TEXTS[sid])):
                wrong.append(sid)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [] and len(terms) <= 5


@pytest.mark.usefixtures("no_cycle_collector")
def test_a_version_no_one_holds_goes_at_once_with_its_terms_and_dates(tmp_path: Path) -> None:
    """A version and its terms made a cycle, and caches by version name kept its articles: replaced versions
    waited for the garbage collector or for 8 to 16 newer ones (a24, a25)."""
    build_index(copy_seeds(tmp_path / "sources"), tmp_path / "index", HashingEmbedder())
    version = load_index(tmp_path / "index")
    assert version.sentence_terms(3)  # the terms read the version's texts
    assert date_span(version).first and outlet_terms(version) and article_dates(version).any()
    assert date_span(version) is date_span(version)  # kept while the version lives
    text_of = weak_text_of(version)
    held = weakref.ref(version)
    article = weakref.ref(version.articles[0])
    del version
    assert held() is None  # let go by reference counting alone, not by a collection
    assert article() is None  # and its articles with it (their texts hold a SQLite connection)
    with pytest.raises(ReferenceError):
        text_of(3)
