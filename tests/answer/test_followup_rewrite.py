"""A model's rewrite of a follow-up is used only when it rewords: invented subjects are caught, faithful rewrites kept
(cases from the fifth session's outside attack)."""

from __future__ import annotations

import pytest

from retrieval.conversation import conversation_with
from retrieval.followup import ChatHistory, dropped_words, invented_words
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


def test_an_invented_name_before_a_known_name_is_caught() -> None:
    # The fifth session's second attack: a capitalised word before a known name passed as its first name.
    history = ChatHistory()
    history.add(QUESTION, "Putin said Moscow was open to talks on arms control [1].")
    assert "Medvedev" in invented_words(
        "What did Medvedev, Putin's ally, say about arms control?", "and?", history
    )
    assert (
        invented_words(
            "Did Vladimir Putin say Russia is ready to resume arms control talks?", "and?", history
        )
        == []
    )


@pytest.mark.parametrize(
    ("said", "rewrite"),
    [
        ("Ukraine", "Ukrainian"),
        ("China", "Chinese"),
        ("Britain", "British"),
        ("Germany", "German"),
        ("Turkey", "Turkish"),
        ("US", "United States"),
    ],
)
def test_a_country_s_adjective_or_full_name_is_no_new_name(said: str, rewrite: str) -> None:
    history = ChatHistory()
    history.add(f"What did the {said} government say about arms control?", f"{said} said it was ready [1].")
    follow = "and what did they say later?"
    assert (
        invented_words(f"What did the {rewrite} government say about arms control later?", follow, history)
        == []
    )
    assert dropped_words(f"What did the {rewrite} say?", f"and what did {said} say?") == []
