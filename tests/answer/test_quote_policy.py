"""Chosen quotes that add no asked-for fact are left out (retrieval/quote_policy.py); none is ever cut."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.extractive import Candidate
from retrieval.quote_policy import RESTATES, drop_extra_quotes


@dataclass
class _Article:
    text: str


class _Index:
    """Articles by id, as drop_extra_quotes reads them (index.article(id).text)."""

    def __init__(self, texts: list[str]) -> None:
        self.articles = [_Article(t) for t in texts]

    def article(self, article_id: int) -> _Article:
        return self.articles[article_id]


def _quotes(texts: list[str], scores: list[float], details: list[bool]) -> tuple[_Index, list[Candidate]]:
    """One article per text, quoted whole."""
    index = _Index(texts)
    chosen = [
        Candidate(i, i, 0, len(t), 0.5, 0.5, 0.5, s, detail=d)
        for i, (t, s, d) in enumerate(zip(texts, scores, details, strict=True))
    ]
    return index, chosen


COUNT = "How many Yahoo accounts were stolen in the theft blamed on Russian agents?"


def test_a_further_detail_stays_however_far_below_the_best_quote() -> None:
    # The best quote's number may answer another question: the reader sees the others holding one too.
    texts = [
        "Russian agents were charged with the theft of 500 million Yahoo accounts.",
        "Hackers stole 1.2 billion passwords from websites.",
        "The theft of 3 billion Yahoo accounts was disclosed later.",
    ]
    index, chosen = _quotes(texts, [1.4, 0.6, 1.1], [True] * 3)
    assert [c.sentence_id for c in drop_extra_quotes(index, COUNT, chosen)] == [0, 1, 2]


def test_beside_a_detail_a_quote_without_one_stays_only_if_it_adds_a_question_word() -> None:
    texts = [
        "Russian agents were charged with the theft of 500 million Yahoo accounts.",
        "The Russian agents denied the charges.",
        "Yahoo said the theft was blamed on hackers working for Moscow.",
    ]
    # The second adds no question word the best lacks; the third adds "blamed": it may say the fact in
    # words the detail rules miss, so it stays even far below the best.
    index, chosen = _quotes(texts, [1.4, 1.3, 0.9], [True, False, False])
    assert [c.sentence_id for c in drop_extra_quotes(index, COUNT, chosen)] == [0, 2]


def test_without_a_detail_in_the_best_quote_or_asked_for_the_quotes_stay() -> None:
    texts = [
        "Russian agents were charged with the theft of Yahoo accounts.",
        "The Russian agents denied the charges.",
        "Hackers stole 1.2 billion passwords from websites.",
    ]
    index, chosen = _quotes(texts, [1.4, 1.3, 0.9], [False, False, True])
    assert [c.sentence_id for c in drop_extra_quotes(index, COUNT, chosen)] == [0, 1, 2]
    why = "Why were Russian agents charged over the Yahoo theft?"
    index, chosen = _quotes(texts, [1.4, 1.3, 0.9], [True, False, True])
    assert [c.sentence_id for c in drop_extra_quotes(index, why, chosen)] == [0, 1, 2]


def test_a_restatement_from_another_article_is_left_out_the_best_copy_shown() -> None:
    wire = "Putin won re-election with 76.6% of the vote, his highest score ever."
    copy = "Putin won re-election with 76.6% of the vote."
    other = "Turnout was lower than the Kremlin had hoped."
    question = "How did Putin fare in the 2018 presidential vote?"
    # The copy scores above the wire sentence: the copy is shown, in the quotes' order.
    index, chosen = _quotes([wire, copy, other], [1.0, 1.1, 0.9], [False] * 3)
    assert [c.sentence_id for c in drop_extra_quotes(index, question, chosen)] == [1, 2]
    # Two sentences of one article are never taken for copies of each other.
    index = _Index([wire + " " + copy])
    same = [
        Candidate(0, 0, 0, len(wire), 0.5, 0.5, 0.5, 1.0),
        Candidate(1, 0, len(wire) + 1, len(wire) + 1 + len(copy), 0.5, 0.5, 0.5, 0.9),
    ]
    assert drop_extra_quotes(index, question, same) == same


def test_quotes_sharing_names_but_not_the_fact_are_no_restatement() -> None:
    texts = [
        "Special counsel Robert Mueller charged Paul Manafort with money laundering.",
        "Paul Manafort met Robert Mueller's team on Friday, his lawyer said.",
    ]
    index, chosen = _quotes(texts, [1.0, 0.9], [False, False])
    assert drop_extra_quotes(index, "What was Paul Manafort charged with?", chosen) == chosen
    words = [set(t.lower().replace(".", "").replace(",", "").split()) for t in texts]
    assert len(words[0] & words[1]) / len(words[0] | words[1]) < RESTATES


def test_a_single_quote_is_never_left_out() -> None:
    index, chosen = _quotes(["Nothing here names a number."], [0.6], [False])
    assert drop_extra_quotes(index, COUNT, chosen) == chosen
    assert drop_extra_quotes(index, COUNT, []) == []
