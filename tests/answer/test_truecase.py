"""A question typed in one case gets its names' capitals from the articles (retrieval/truecase.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.coverage import unknown_names
from retrieval.truecase import restore_case, typed_in_one_case
from tests.answer.test_presupposition import PLEAS, build, rare_names  # noqa: F401 (the fixture)


def test_only_a_question_whose_capitals_tell_nothing_is_restored() -> None:
    assert typed_in_one_case("why did jared kushner plead guilty?")
    assert typed_in_one_case("WHY DID JARED KUSHNER PLEAD GUILTY?")
    assert typed_in_one_case("Why did Jared Kushner Plead Guilty?")
    assert not typed_in_one_case("Why did Jared Kushner plead guilty?")
    assert not typed_in_one_case("Why did obama fire Comey?")


def test_names_get_the_capitals_the_articles_give_them(tmp_path: Path) -> None:
    index = build(tmp_path, PLEAS).index
    for typed in (
        "who met kislyak before flynn pleaded guilty to lying to the fbi?",
        "WHO MET KISLYAK BEFORE FLYNN PLEADED GUILTY TO LYING TO THE FBI?",
        "Who Met Kislyak Before Flynn Pleaded Guilty To Lying To The FBI?",
    ):
        assert (
            restore_case(index, typed) == "Who met Kislyak before Flynn pleaded guilty to lying to the FBI?"
        )
    # A word only ever opening a sentence ("Rex") says nothing, nor does one the archive lacks ("Lie"),
    # which keeps the capital it was typed with; ordinary typing is left as it is.
    assert restore_case(index, "Why Did Flynn Lie?") == "Why did Flynn Lie?"
    assert restore_case(index, "why did jared kushner plead guilty?") == "Why did Jared Kushner plead guilty?"
    assert restore_case(index, "what did rex tillerson receive?") == "What did rex Tillerson receive?"
    assert restore_case(index, "Why did jared Kushner plead guilty?") == "Why did jared Kushner plead guilty?"


@pytest.mark.usefixtures("rare_names")
def test_a_word_no_article_uses_keeps_the_case_it_was_typed_in(tmp_path: Path) -> None:
    # A capitalised unknown word is a name the archive lacks; a lower-case one may be a typo or a chat word
    # ("pls", "lol", "abut"): the fifth session's second attack got those refused as unknown names.
    index = build(tmp_path, PLEAS).index
    assert unknown_names(index, "When did Rex Tillerson receive the Order of Lenin?") == ["Lenin"]
    assert unknown_names(index, "WHEN DID REX TILLERSON RECEIVE THE ORDER OF LENIN?") == []
    for question in (
        "when did rex tillerson receive the order of lenin?",
        "what did tillerson say pls",
        "lol",
    ):
        assert unknown_names(index, question) == [], question


def test_a_small_archive_reads_no_unknown_word_as_a_name(tmp_path: Path) -> None:
    index = build(tmp_path, PLEAS).index
    assert unknown_names(index, "when did rex tillerson receive the order of lenin?") == []


def test_a_possessive_in_the_articles_lends_the_question_only_its_capital(tmp_path: Path) -> None:
    index = build(tmp_path, (("Officials said Comey's memo was leaked in May.", "2017-05-16"),)).index
    assert restore_case(index, "why was comey fired?") == "Why was Comey fired?"
