""" "How many …" is answered by a number beside what the question counts or does, not by any number."""

from __future__ import annotations

from retrieval.details import asked_detail, holds_detail

HIRED = "How many prosecutors did Mueller hire to chase financial crimes?"


def test_a_number_beside_the_asked_act_or_thing_counts_it() -> None:
    assert holds_detail("count", "Since taking over the probe in May, Mueller has hired 16 lawyers.", HIRED)
    assert holds_detail("count", "The counsel, who this year hired a staff of 16 lawyers, is focused.", HIRED)


def test_a_number_counting_something_else_does_not() -> None:
    charged = "So far the Mueller team has brought charges against 35 people and entities."
    assert not holds_detail("count", charged, HIRED)
    # The question's names stand beside every count about them: "Mueller brought dozens" counts no prosecutor.
    assert not holds_detail(
        "count", "Mr. Mueller brought dozens of charges against some in the Trump orbit.", HIRED
    )


def test_news_counts_people_by_other_nouns_for_them() -> None:
    paying = "How many lawyers has the special counsel's budget been paying for?"
    assert holds_detail("count", "That money has helped fund 17 attorneys working on the probe.", paying)
    soldiers = "How many American soldiers did Trump order withdrawn from Syria?"
    assert holds_detail("count", "Trump told the Pentagon to extricate its estimated 2,000 troops.", soldiers)
    assert not holds_detail(
        "count", "In August, there were as many as 14,500 Isis fighters in Syria.", soldiers
    )


def test_a_question_counting_nothing_but_names_takes_any_number() -> None:
    assert holds_detail("count", "Some 60 of them signed the letter.", "How many Democrats and Republicans?")
    assert not holds_detail("count", "Some 60 of them signed the letter.", "How many Democrats voted?")


def test_a_russian_question_s_rendering_asking_a_price_asks_for_a_sum() -> None:
    # "Сколько стоила сделка …" is rendered "how many cost worth deal …": a price, not a count of things, so
    # the count's nearness rule must not take its "two warships" for the answer.
    assert asked_detail("how many cost worth deal France French Russia military warships ships") == "money"
    assert asked_detail("How many journalists did Fusion GPS pay, according to court filings?") == "count"
