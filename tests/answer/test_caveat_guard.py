"""An act caveat is not shown above a quote that tells the act (retrieval/caveat_guard.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.caveat_guard import quotes_tell_act
from retrieval.index import StoredVersion
from retrieval.unreported_act import unreported_act
from tests.answer.test_presupposition import build
from tests.answer.test_unreported_act import ARTICLES

MAGNITSKY = (
    (
        "The Magnitsky Act, a 2012 bill passed by Congress and signed by then-President Barack Obama, "
        "froze assets of Russian officials.",
        "2017-07-20",
    ),
    ("The Magnitsky Act angered Moscow, which banned adoptions.", "2017-07-21"),
)
SIGNED = MAGNITSKY[0][0]
QUESTION = "Why did Obama sign the Magnitsky Act?"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoredVersion:
    """The act articles and the Magnitsky ones, counted as a large archive."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    return build(tmp_path, (*ARTICLES, *MAGNITSKY)).index


def test_the_passive_with_its_doer_after_by_tells_the_act(index: StoredVersion) -> None:
    # The act check reads only "Obama signed ...", so it would caveat the very sentence quoted.
    assert unreported_act(index, QUESTION) is not None
    assert quotes_tell_act(index, QUESTION, [SIGNED])


def test_an_active_sentence_with_the_doer_and_the_object_tells_the_act(index: StoredVersion) -> None:
    assert quotes_tell_act(index, "Why did Trump fire James Comey?", [ARTICLES[0][0]])
    assert quotes_tell_act(index, "Why did Obama expel 35 Russian diplomats?", [ARTICLES[-2][0]])


def test_a_count_beside_the_verb_tells_a_counted_act_in_its_own_noun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dev cv-17: "How many prosecutors did Mueller hire" was caveated "No indexed article reports that
    Mueller did this (“hire prosecutors”)" over "Mueller has hired 16 lawyers": the counted noun is the
    answer's kind, and news counts in its own noun."""
    quote = (
        "Since taking over the probe in May, Mueller has hired 16 lawyers with expertise in financial crime."
    )
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(tmp_path, (*ARTICLES, (quote, "2017-08-03"))).index
    assert quotes_tell_act(index, "How many prosecutors did Mueller hire to chase financial crimes?", [quote])
    # No count beside the verb tells no count.
    assert not quotes_tell_act(index, "How many prosecutors did Mueller hire?", ["Mueller hired lawyers."])
    # Another doer's count is none of the asked doer's (dev v25: Trump, not Russia, expelled 60).
    other = "President Donald Trump ordered 60 Russian diplomats to leave and expelled 60 more."
    assert not quotes_tell_act(index, "How many American diplomats did Russia expel?", [other])


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        # Denied.
        (QUESTION, "Obama never signed the Magnitsky Act."),
        # Only supposed, or called for: the doer is too far from the verb, or the verb is an agentless passive.
        ("Why did Trump fire Robert Mueller?", "Trump would face risks if he fired Mueller, Giuliani said."),
        ("Why did Trump fire Robert Mueller?", "Trump has called for Mueller to be fired."),
        # The act done to someone else.
        ("Why did Trump fire Robert Mueller?", "President Trump fired FBI Director James Comey in May."),
        # Someone else doing it.
        ("Why did Putin sign the Magnitsky Act?", SIGNED),
        # Another count: Trump expelled 60, not 35.
        ("Why did Trump expel 35 Russian diplomats?", "Trump expelled 60 Russian diplomats on Monday."),
        # A counted act with no count beside the verb tells no count.
        (
            "How many prosecutors did Mueller hire?",
            "Mueller hired lawyers with expertise in financial crime.",
        ),
    ],
)
def test_a_quote_that_does_not_tell_the_act_leaves_the_caveat(
    index: StoredVersion, question: str, quote: str
) -> None:
    assert not quotes_tell_act(index, question, [quote])


def test_the_answer_quoting_the_act_carries_no_note_that_denies_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    service = build(tmp_path, (*ARTICLES, *MAGNITSKY), min_relevance=0.0)
    answer = service.answer(QUESTION)
    assert answer.status == "answered"
    assert any("signed by then-President Barack Obama" in c.quote for c in answer.citations), answer
    assert answer.note is None, answer.note
    # The caveat still stands where no quote tells the act.
    mueller = service.answer("Why did Trump fire Robert Mueller?")
    assert mueller.note is not None and "fire Robert Mueller" in mueller.note


def test_the_noun_the_objects_name_qualifies_tells_the_act(index: StoredVersion) -> None:
    """a28: "No indexed article reports that the Senate did this (“pass Russia sanction”)" sat under "the Senate
    passed a bill 98-2 that calls for ... sanctions": the bill is what was passed, "Russia" only names it."""
    quote = "In June, the Senate passed a bill 98-2 that calls for a new set of sanctions against Russia."
    assert quotes_tell_act(index, "Why did the Senate pass the Russia sanctions bill 98-2?", [quote])
    # Another thing passed is no report of it.
    assert not quotes_tell_act(
        index, "Why did the Senate pass the Russia sanctions bill?", ["The Senate passed a budget in June."]
    )


def test_the_acts_noun_after_the_doers_possessive_tells_the_act(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a30: "No indexed article reports that Trump did this (“label US media”)" sat above "Trump’s label of
    the media as the enemy of the people"."""
    quote = "Critics decried Trump’s label of the media as the enemy of the people."
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path, (*ARTICLES, (quote, "2018-08-16"), ("Obama labeled it a hoax.", "2016-01-01"))
    ).index
    question = "Why did Trump label US media the enemy of the people?"
    assert quotes_tell_act(index, question, [quote])
    assert not quotes_tell_act(index, question, ["Obama’s label of the media stuck."])
