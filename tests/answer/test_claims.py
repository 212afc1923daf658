"""The deterministic check that a model's sentence says nothing its cited quote does not (no model)."""

from __future__ import annotations

from retrieval.claims import date_words, quoted_spans, unsupported_terms

QUOTE = (
    "Washington ordered Russia to cut the number of its diplomatic and technical staff in Russia to 455 "
    "people by September 1, the U.S. embassy said on Sunday."
)


def test_names_numbers_and_dates_in_the_quote_pass_in_any_usual_spelling() -> None:
    for claim in (
        "The United States told Russia to cut its staff to 455 [1].",
        "Russian diplomats had until September 1 [1].",
        "However, the American embassy spoke on Sunday [1].",
        "Washington's order cut staff [1].",
    ):
        assert unsupported_terms(claim, [QUOTE]) == [], claim


def test_what_the_quote_does_not_say_is_named() -> None:
    assert unsupported_terms("Russia and the US signed a peace treaty in 2030 [1].", [QUOTE]) == ["2030"]
    assert unsupported_terms("Staff fell to 4,550 in October [1].", [QUOTE]) == ["4,550", "October"]
    assert unsupported_terms("Lavrov said staff fell to four hundred [1].", [QUOTE]) == [
        "Lavrov",
        "four",
        "hundred",
    ]
    assert unsupported_terms("Staff were cut on Monday [1].", [QUOTE]) == ["Monday"]


def test_every_quotation_style_is_found_and_apostrophes_are_not_quotes() -> None:
    text = (
        "Russia's envoy said ‘we will win the war’, 'peace is near now', «guillemet text», "
        '„German text“, “curly text” and "straight text"; Putin’s aides didn\'t.'
    )
    assert sorted(quoted_spans(text, 8)) == sorted(
        [
            "we will win the war",
            "peace is near now",
            "guillemet text",
            "German text",
            "curly text",
            "straight text",
        ]
    )


def test_an_article_date_can_be_cited_as_words() -> None:
    assert unsupported_terms("It was published on 20 October 2017 [1].", [date_words("2017-10-20")]) == []
