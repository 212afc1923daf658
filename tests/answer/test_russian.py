"""Russian questions over the English seed articles (tests/eval/questions_ru.yaml), with the real model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml

from retrieval.answer import Answer
from retrieval.russian import in_russian, is_russian, render_in_english, too_partial
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.conftest import REPO
from tests.support.telegram import running_bot

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

EVAL = REPO / "tests" / "eval"
ENGLISH = {q["id"]: q for q in yaml.safe_load((EVAL / "questions.yaml").read_text(encoding="utf-8"))}
RUSSIAN: list[dict[str, str]] = yaml.safe_load((EVAL / "questions_ru.yaml").read_text(encoding="utf-8"))
AIM = 0.80
_CYRILLIC_LEAD = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def test_russian_is_told_from_english_and_rendered_by_stem() -> None:
    assert is_russian("Сколько американских дипломатов могло остаться в России?")
    assert not is_russian("How many US diplomats stayed in Russia? (Россия)")
    rendering = render_in_english("Сколько американских дипломатов могло остаться в России?")
    assert rendering.english.split()[:2] == ["how", "many"]
    assert {"American", "diplomats", "Russia"} <= set(rendering.english.split())
    assert not too_partial(rendering)
    assert too_partial(render_in_english("Как испечь хлеб на закваске дома?"))


def test_a_refusal_to_a_russian_question_is_in_russian() -> None:
    english = Answer("x", "not_found", "The indexed articles don't cover this.", "…", (), "extractive", {})
    russian = in_russian(english, render_in_english("Кто выиграл чемпионат по футболу?"))
    assert russian.language == "ru" and any(ch in _CYRILLIC_LEAD for ch in russian.lead.lower())


@pytest.fixture(scope="module")
def real_service(real_seeds: Settings) -> AnsweringService:
    """The seeds indexed with the real model."""
    return build_service(real_seeds)


def cites_expected(answer: Answer, expected: dict[str, list[str]]) -> bool:
    """Whether a quote from an expected article contains an expected phrase (as in test_eval)."""
    return any(
        c.source in expected["expect_sources"]
        and any(p.lower() in c.quote.lower() for p in expected["expect_phrases"])
        for c in answer.citations
    )


@pytest.mark.model
def test_russian_questions_get_the_fact_quoted_or_a_russian_reply(real_service: AnsweringService) -> None:
    assert len(RUSSIAN) >= 30
    answerable = [q for q in RUSSIAN if ENGLISH[q["id"]]["expect_sources"]]
    hits, russian_replies, misses = 0, 0, []
    for q in RUSSIAN:
        answer = real_service.answer(q["question"])
        lead_is_russian = any(ch in _CYRILLIC_LEAD for ch in answer.lead.lower())
        russian_replies += answer.language == "ru" and lead_is_russian
        expected = ENGLISH[q["id"]]
        if expected["expect_sources"]:
            hit = cites_expected(answer, expected)
            hits += hit
            if not hit:
                misses.append(f"{q['id']} {answer.status}: {answer.question}")
        else:
            assert answer.status == "not_found", f"{q['question']} was answered: {answer.answer[:200]}"
    print(
        f"Russian questions: {hits}/{len(answerable)} with the fact quoted ({hits / len(answerable):.1%}); "
        f"{russian_replies}/{len(RUSSIAN)} replies in Russian; misses: {misses}"
    )
    assert russian_replies == len(RUSSIAN)
    assert hits / len(answerable) >= AIM


async def test_the_bot_replies_to_russian_in_russian(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, settings = fake_bot_api, hashing_service.settings
    async with running_bot(api, hashing_service, settings):
        api.send_text("Как испечь хлеб на закваске дома?", user_id=71)
        api.send_text("Сколько американских дипломатов могло остаться в России?", user_id=72)
        update = api.send_text("/help", user_id=73)
        update["message"]["from"]["language_code"] = "ru"
        for chat in (71, 72, 73):
            await api.wait_for(lambda c=chat: api.sent(c), 10.0, f"a reply in {chat}")
    refusal, answer, help_text = (api.sent(c)[0].text for c in (71, 72, 73))
    assert "по-английски" in refusal and "«хлеб»" in refusal
    assert answer.startswith(("Об этом", "В статьях нет ответа"))
    assert "Как мной пользоваться" in help_text
