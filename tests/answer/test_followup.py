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
