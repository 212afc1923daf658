"""Telling a follow-up from a new question (fast: no model)."""

from __future__ import annotations

import pytest

from retrieval.followup import ChatHistory, is_follow_up, standalone_by_rule

FOLLOW_UPS = [
    "and what did he say about Obama?",
    "why?",
    "when was that?",
    "What about 2018?",
    "Was it in 2017?",
    "Where did it happen?",
    "How many people were killed there?",
    "tell me more",
    "Whom did he task with it?",
]
NEW = [
    "Who is the president of France?",
    "How many US diplomats were expelled?",
    "What is the recipe for borscht?",
    "Did Putin say he was ready?",  # "he" is Putin, named before it
    "Is there a deal on arms control?",  # "there is", not a place
    "What did Lavrov say?",
]


@pytest.mark.parametrize("question", FOLLOW_UPS)
def test_follow_ups_are_recognised(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize("question", NEW)
def test_new_questions_are_not_taken_for_follow_ups(question: str) -> None:
    assert not is_follow_up(question)


def test_a_new_question_is_asked_as_it_is_and_a_follow_up_does_not_pile_up_subjects() -> None:
    history = ChatHistory(4)
    history.add("What did Putin write to Trump at Christmas?", "…")
    assert standalone_by_rule("Who is the president of France?", history) == "Who is the president of France?"
    assert standalone_by_rule("why?", history) == "Putin write Trump Christmas: why?"
    # The follow-up's own name replaces the earlier names rather than competing with them.
    history.add("What did Lavrov say about a new meeting in 2019?", "…")
    assert standalone_by_rule("and what did Nebenzia say?", history) == (
        "new meeting 2019: and what did Nebenzia say?"
    )


@pytest.mark.parametrize(
    ("previous", "follow_up", "standalone"),
    [
        ("Why did Putin resign?", "and Lavrov?", "Why did Lavrov resign?"),
        # The name replaced is the one of the same kind: a person for a person, a place for a place.
        (
            "What did Putin say about Ukraine?",
            "what about Sergei Lavrov?",
            "What did Sergei Lavrov say about Ukraine?",
        ),
        ("What did Putin say about Ukraine?", "And Syria?", "What did Putin say about Syria?"),
        ("Did Russia hack the DNC?", "and the RNC?", "Did Russia hack the RNC?"),
        (
            "What did the Fed say about Russia?",
            "and the Bank of England?",
            "What did the Fed say about the Bank of England?",
        ),
        # a30: a name follow-up with its own time swaps both.
        (
            "What did Lavrov say about the Skripal case in 2018?",
            "And Peskov in 2017?",
            "What did Peskov say about the Skripal case in 2017?",
        ),
        (
            "What did Trump say about Putin in 2017?",
            "And Obama in 2016?",
            "What did Obama say about Putin in 2016?",
        ),
        # A month is a time, not a name that replaces the earlier ones.
        (
            "What did Trump say about the Mueller report in April 2019?",
            "And in March 2019?",
            "Trump Mueller report: And in March 2019?",
        ),
    ],
)
def test_a_follow_up_that_is_only_a_name_asks_the_last_question_of_it(
    previous: str, follow_up: str, standalone: str
) -> None:
    history = ChatHistory(4)
    history.add(previous, "…")
    assert standalone_by_rule(follow_up, history) == standalone


def test_a_name_follow_up_that_could_replace_two_names_carries_the_subject_instead() -> None:
    history = ChatHistory(4)
    history.add("Why did Trump fire Comey?", "…")  # Tillerson for Trump or for Comey: nobody can tell
    assert standalone_by_rule("and Tillerson?", history) == "fire: and Tillerson?"
    # Words after the name are no name: the follow-up asks more than a name.
    history.add("What did Lavrov say?", "…")
    assert standalone_by_rule("What about Putin and arms control?", history).endswith(
        ": What about Putin and arms control?"
    )


@pytest.mark.parametrize(
    ("previous", "follow_up"),
    [
        ("WHY DID TILLERSON RESIGN?", "and Flynn?"),  # in capitals every word reads as a name
        ("What happened in Helsinki?", "and Trump?"),  # a person is not swapped in for a place
        ("Why did Putin resign?", "and The?"),
        ("Why did Putin resign?", "and Why?"),
        ("Why did Putin resign?", "and I?"),
    ],
)
def test_a_name_is_swapped_only_for_one_of_its_kind(previous: str, follow_up: str) -> None:
    history = ChatHistory(4)
    history.add(previous, "…")
    assert standalone_by_rule(follow_up, history).endswith(f": {follow_up}") or (
        standalone_by_rule(follow_up, history) == follow_up
    )


def test_a_possessive_or_a_stop_after_the_name_is_not_part_of_it() -> None:
    history = ChatHistory(4)
    history.add("Why did Putin resign?", "…")
    assert standalone_by_rule("And Lavrov's?", history) == "Why did Lavrov resign?"
    assert standalone_by_rule("as for Lavrov.", history) == "Why did Lavrov resign?"
    history.add("What did Putin say in Helsinki?", "…")
    assert standalone_by_rule("and Lavrov?", history) == "What did Lavrov say in Helsinki?"


def test_a_name_follow_up_to_what_someone_said_asks_it_of_the_new_speaker() -> None:
    """a28: "And Peskov?" after "What did Lavrov say about the Skripal case?" was asked as "case: And
    Peskov?", which lost Skripal; the speaker is the name replaced, the matter stays."""
    history = ChatHistory(4)
    history.add("What did Lavrov say about the Skripal case?", "…")
    assert standalone_by_rule("And Peskov?", history) == "What did Peskov say about the Skripal case?"
    history.add("How did Peskov react to the Mueller report?", "…")
    assert standalone_by_rule("and Lavrov?", history) == "How did Lavrov react to the Mueller report?"
    # Not an act done to someone: whether Tillerson fired or was fired, nobody can tell.
    history.add("Why did Trump fire Comey?", "…")
    assert standalone_by_rule("and Tillerson?", history) == "fire: and Tillerson?"


def test_a_follow_up_with_its_own_year_drops_the_earlier_one() -> None:
    """a28: "And in 2018?" after a question about 2025 was asked of both years and refused for 2025."""
    history = ChatHistory(4)
    history.add("What did Peskov say about the Skripal case in 2025?", "…")
    standalone = standalone_by_rule("And in 2018?", history)
    assert "2018" in standalone and "2025" not in standalone and "Skripal" in standalone, standalone
