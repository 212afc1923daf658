"""A model's rewrite of a follow-up is used only when it rewords: invented subjects are caught, faithful rewrites kept
(cases from the fifth session's outside attack)."""

from __future__ import annotations

import pytest

from retrieval.conversation import conversation_with
from retrieval.followup import ChatHistory, invented_words
from retrieval.service import AnsweringService
from tests.answer.test_llm import QUESTION, good_reply, llm_service, scripted

HISTORY_ANSWER = "Sergei Ryabkov said Moscow was open to talks on arms control [1]."


def _history() -> ChatHistory:
    history = ChatHistory()
    history.add(QUESTION, HISTORY_ANSWER)
    return history


@pytest.mark.parametrize(
    "rewrite",
    [
        "What did lavrov say about arms control talks?",  # a name in lower case
        "Lavrov: is Russia ready to resume arms control talks?",  # a name as the first word
        "What did Érdogan say about arms control talks?",  # a name opening with a non-ASCII capital
        "What did Рutin say about talks?",  # Cyrillic Р
        "What did Ｐｕｔｉｎ say about talks?",  # fullwidth
    ],
)
def test_an_invented_name_is_caught_whatever_its_spelling(rewrite: str) -> None:
    assert invented_words(rewrite, "and what did he say?", _history()) != []


def test_a_changed_date_is_caught() -> None:
    history = ChatHistory()
    history.add("What happened at the summit on 2018-07-16?", "Trump met Putin in Helsinki on 2018-07-16.")
    assert invented_words("What happened at the summit on 2018-07-30?", "and then?", history) != []


def test_a_lowercase_invented_name_is_not_searched(hashing_service: AnsweringService) -> None:
    model = scripted(good_reply, "what did navalny say about arms control talks?", good_reply)
    chat = conversation_with(llm_service(hashing_service, model))
    chat.ask(QUESTION)
    follow = chat.ask("and what did Putin say?")
    assert "navalny" not in follow.question.lower()


@pytest.mark.parametrize(
    "rewrite",
    [
        "Did Vladimir Putin say Russia is ready to resume arms control talks?",  # the full name
        "Did President Putin say Russia is ready to resume arms control talks?",  # the title
    ],
)
def test_a_faithful_rewrite_is_used(hashing_service: AnsweringService, rewrite: str) -> None:
    model = scripted(good_reply, rewrite, good_reply)
    chat = conversation_with(llm_service(hashing_service, model))
    chat.ask(QUESTION)
    assert chat.ask("and what did Putin say?").question == rewrite


def test_a_rewrite_keeps_the_follow_up_s_own_name(hashing_service: AnsweringService) -> None:
    # The user asks about Nebenzia; the model answers with the earlier subject and drops him.
    model = scripted(good_reply, "Is Russia ready to resume arms control talks?", good_reply)
    chat = conversation_with(llm_service(hashing_service, model))
    chat.ask(QUESTION)
    assert "Nebenzia" in chat.ask("and what did Nebenzia say?").question
