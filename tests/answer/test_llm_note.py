"""LLM mode keeps the caveat the extractive steps found (outside attack, a12)."""

from __future__ import annotations

from retrieval.service import AnsweringService
from tests.answer.test_llm import good_reply, llm_service, scripted

# A name no seed mentions: the quotes cannot be about it, and the answer says so.
WITH_UNKNOWN_NAME = (
    "Is Russia ready to resume arms control talks at the expert level after the Zelenskyy meeting?"
)


def test_a_model_answer_keeps_the_note_on_what_the_articles_lack(hashing_service: AnsweringService) -> None:
    quoted = hashing_service.answer(WITH_UNKNOWN_NAME)
    assert quoted.status == "answered" and quoted.note is not None and "Zelenskyy" in quoted.note
    answer = llm_service(hashing_service, scripted(good_reply)).answer(WITH_UNKNOWN_NAME)
    assert answer.mode == "llm" and answer.status == "answered"
    assert answer.note == quoted.note
    assert answer.to_dict()["note"] == quoted.note


def test_a_model_refusal_keeps_the_note(hashing_service: AnsweringService) -> None:
    quoted = hashing_service.answer(WITH_UNKNOWN_NAME)
    assert quoted.status == "answered"  # so the model is asked
    answer = llm_service(hashing_service, scripted('{"answer": "", "citations": []}')).answer(
        WITH_UNKNOWN_NAME
    )
    assert answer.status == "not_found" and answer.mode == "llm"
    assert answer.note == quoted.note
