"""BM25 by stems: a paraphrase's inflection of the article's word scores as the word itself."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import stemmed_bm25
from retrieval.lexical import Bm25, tokenize
from retrieval.morphology import snowball_stem, vocabulary_forms
from retrieval.stemmed_bm25 import stemmed_scores

CHUNKS = (
    "NATO has invoked Article 5 only once, after the September 11 attacks.",
    "The alliance said members would invoke the clause if attacked.",
    "Negotiators met in Geneva; the negotiation on missiles stalled.",
    "Staff plugged memory sticks into the computers, so the Pentagon filled the ports with superglue.",
    "The happy crowd cheered in Moscow.",
    "An organ recital was held in the cathedral.",
)


def index() -> Bm25:
    return Bm25.build([tokenize(c) for c in CHUNKS])


def test_an_inflection_the_archive_never_uses_still_finds_its_chunks() -> None:
    bm25 = index()
    question = tokenize("How often has the clause been invoking, and who is plugging sticks?")
    assert not bm25.scores(tokenize("plugging"))[3]  # the plain index knows only "plugged"
    scores = stemmed_scores(bm25, question)
    assert scores[3] > 0 and scores[0] > 0 and scores[1] > 0
    assert scores[2] == 0 and scores[4] == 0


def test_the_scores_are_bm25_over_a_stemmed_index() -> None:
    bm25 = index()
    stemmed = Bm25.build([[snowball_stem(t) for t in tokenize(c)] for c in CHUNKS])
    for question in ("Did the negotiators invoke the clause?", "Which happiness did the organisers see?"):
        tokens = tokenize(question)
        expected = stemmed.scores([snowball_stem(t) for t in tokens])
        np.testing.assert_allclose(stemmed_scores(bm25, tokens), expected, rtol=1e-5)


def test_forms_are_found_by_their_stem_and_checked_by_it() -> None:
    vocab = index().vocab
    assert vocabulary_forms(vocab, "negotiations") == ["negotiation", "negotiator"]
    assert vocabulary_forms(vocab, "happiness") == ["happy"]
    # "organization" is no form of "organ": Snowball keeps them apart, and so does the look-up.
    assert vocabulary_forms(vocab, "organization") == []
    assert vocabulary_forms(vocab, "organ") == ["organ"]


def test_a_common_stem_s_kept_scores_add_up_to_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [
        f"Russia said talks on item {i} went on." if i % 2 else f"Moscow spoke of item {i}."
        for i in range(64)
    ]
    bm25 = Bm25.build([tokenize(c) for c in chunks])
    questions = [
        "Did Russia say the talks went on?",
        "What did Russia's envoy say?",
        "Russians spoke of talks",
    ]
    monkeypatch.setattr(stemmed_bm25, "DENSE_SHARE", 2.0)  # nothing kept: every stem's postings read
    expected = [stemmed_scores(bm25, tokenize(q)) for q in questions]
    assert not stemmed_bm25._DENSE.get(bm25)
    monkeypatch.setattr(stemmed_bm25, "DENSE_SHARE", 0.25)
    for _ in range(2):  # the first pass keeps "russia"'s and "talk"'s scores, the second adds them as kept
        for q, want in zip(questions, expected, strict=True):
            assert np.array_equal(stemmed_scores(bm25, tokenize(q)), want)
    kept = stemmed_bm25._DENSE[bm25]
    assert ("russia",) in kept and all(len(forms) for forms in kept)
    assert not any("item" in forms for forms in kept)  # "item" is in every chunk but each number in one


def test_the_kept_scores_stay_within_their_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    words = [f"w{i}" for i in range(40)]
    bm25 = Bm25.build([words for _ in range(200)])  # every word in every chunk: each stem would be kept
    monkeypatch.setattr(stemmed_bm25, "DENSE_BYTES", 3 * 200 * 4)  # room for three stems' arrays
    for w in words:
        stemmed_scores(bm25, [w])
    kept = stemmed_bm25._DENSE[bm25]
    assert len(kept) == 3 and kept.currsize <= 3 * 200 * 4
    assert list(kept) == [("w37",), ("w38",), ("w39",)]  # the most recent


def test_one_question_of_many_common_words_keeps_only_a_few_of_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question listing many common words must not turn the whole cache over for everyone else (a24, a25)."""
    words = [f"w{i}" for i in range(40)]
    bm25 = Bm25.build([words for _ in range(200)])
    monkeypatch.setattr(stemmed_bm25, "DENSE_BYTES", 100 * 200 * 4)  # room for all 40
    stemmed_scores(bm25, words[:2])
    before = list(stemmed_bm25._DENSE[bm25])
    assert before == [("w0",), ("w1",)]
    some = words[:20]  # within ADMITTING_STEMS: at most NEW_PER_QUESTION new ones kept
    expected = stemmed_scores(bm25, some)
    assert len(stemmed_bm25._DENSE[bm25]) == len(before) + stemmed_bm25.NEW_PER_QUESTION
    for _ in range(5):  # past ADMITTING_STEMS, asked again and again: none kept
        stemmed_scores(bm25, words)
    kept = list(stemmed_bm25._DENSE[bm25])
    assert len(kept) == len(before) + stemmed_bm25.NEW_PER_QUESTION and kept[:2] == before
    monkeypatch.setattr(stemmed_bm25, "DENSE_SHARE", 2.0)
    assert np.array_equal(stemmed_scores(bm25, some), expected)  # the same scores, kept or read
