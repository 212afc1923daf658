"""The answer kinds beside names, numbers and dates: a condition, a weapon's model, a broadcaster's person."""

from __future__ import annotations

import pytest

from retrieval.details import asked_detail, holds_detail
from retrieval.people import asked_role

CONDITION = "Under what condition would the president-elect accept the intelligence findings?"
WEAPON = "What Russian weapon did Washington say violated the treaty?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (CONDITION, "condition"),
        ("On what terms did Moscow agree to the ceasefire?", "condition"),
        (WEAPON, "model"),
        ("Which missile was fired at the airliner?", "model"),
        # Aircraft are asked for by type as often as by model ("a drone").
        ("What aircraft was spotted above the site of the attack?", None),
        # Unless the question asks for its type: "Su-24" (dev d38), "AN-27".
        ("What type of Russian warplane did Turkey shoot down in November 2015?", "model"),
        ("What kind of Russian military plane did Finland's air force photograph?", "model"),
        ("What type of sanctions did Congress pass?", "name"),
        ("What range of missiles did the arms deal outlaw?", "name"),
        ("Which Reagan-era missile agreement does Moscow want to raise?", "name"),
        ("Which Fox News anchor interviewed the congressman?", "person"),
        # Four words before the role (holdout5 h5-21 was read as no detail question and lost the name).
        (
            "Which former top Pentagon intelligence official under Obama called it 'the equivalent of 9/11'?",
            "person",
        ),
        ("How did the foreign ministry characterize the accusations?", "quote"),
    ],
)
def test_the_kind_of_answer_asked_for(question: str, kind: str | None) -> None:
    assert asked_detail(question) == kind


def test_a_role_word_after_a_verb_asks_for_no_person() -> None:
    # "would the president-elect": the verb ends the noun phrase "what condition".
    assert asked_detail(CONDITION) != "person"
    assert asked_role("Which Fox News anchor interviewed the congressman?") == "anchor"


def test_a_condition_is_answered_by_the_clause_that_sets_it() -> None:
    said = "“I think he would accept the conclusion if they would get together,” Priebus said."
    assert holds_detail("condition", said, CONDITION)
    assert holds_detail("condition", "Moscow agreed unless the strikes resumed.", CONDITION)
    assert not holds_detail("condition", "Priebus said the president-elect will accept it.", CONDITION)


def test_provided_sets_a_condition_only_as_a_conjunction() -> None:
    bail = "Under what condition would Manafort and Gates have to post bail?"
    oligarchs = (
        "Both have ties to Russian oligarchs, who have provided millions of dollars to Manafort and Gates."
    )
    assert not holds_detail("condition", oligarchs, bail)
    assert not holds_detail("condition", "The U.S. is providing arms to Kiev.", bail)
    assert not holds_detail("condition", "The aides, provided with lawyers, pleaded not guilty.", bail)
    assert holds_detail("condition", "They stay home, provided they surrender their passports.", bail)
    assert holds_detail("condition", "Bail was set at $10 million, providing that he stays home.", bail)


def test_a_weapon_is_answered_by_its_model_not_any_capitalised_word() -> None:
    model = "It rejected a U.S. demand to destroy the new missile, the Novator 9M729."
    assert holds_detail("model", model, WEAPON)
    assert holds_detail("model", "S-400 systems were delivered in July.", WEAPON)
    assert holds_detail("model", "Investigators said a Buk missile downed the airliner.", WEAPON)
    assert not holds_detail("model", "There are no new NATO missiles in Europe, he said.", WEAPON)
    assert not holds_detail("model", "He said there are more and more new Russian missiles.", WEAPON)
    assert not holds_detail("model", "It is the worst crisis of the 21st century.", WEAPON)
