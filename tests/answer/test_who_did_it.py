""" "Who <did> <whom>?" is answered by the doer of that act, even a name every story has or a country."""

from __future__ import annotations

import pytest

from retrieval.details import holds_detail
from retrieval.extractive import W_DETAIL, Candidate, _doers_only


def test_who_did_an_act_is_answered_by_its_doer_whoever_it_is() -> None:
    # Trump runs through every story and is no new person's name, but he is who fired Yates (dev c12).
    fired = "Who fired Sally Yates?"
    assert holds_detail("person", "Trump fired Yates, who had kept serving into his administration.", fired)
    assert holds_detail(
        "person", "Sally Yates, the same Sally Yates fired by Trump for insubordination, spoke.", fired
    )
    assert not holds_detail("person", "Days before she was fired, Sally Yates warned the White House.", fired)
    # A country or its jets did it (dev c02); the object is the first name after the verb.
    downed = "Who shot down the Russian warplane near the Syrian border in 2015?"
    assert holds_detail("person", "Turkey shot down a Russian warplane near the border.", downed)
    assert holds_detail("person", "After 10 warnings, two of its F-16s shot down a Russian warplane.", downed)
    assert not holds_detail(
        "person", "In 2014, Turkey shot down a Syrian fighter jet over its airspace.", downed
    )
    assert not holds_detail("person", "The Turkish military says it shot down the warplane.", downed)


def test_the_doer_must_have_done_it_to_the_asked_object() -> None:
    shot = "Who shot the Russian ambassador to Turkey in December 2016?"
    jets = "Two of its F-16s shot down a Russian warplane over the border."
    assert not holds_detail("person", jets, shot)
    assert holds_detail("person", "Mevlut Mert Altintas shot the Russian ambassador at a gallery.", shot)


def test_once_a_sentence_names_the_doer_other_names_are_no_answer() -> None:
    caption = Candidate(1, 1, 0, 90, 0.5, 0.5, 0.5, 1.3 + W_DETAIL, detail=True)
    doer = Candidate(2, 2, 0, 90, 0.5, 0.5, 0.5, 1.2 + W_DETAIL, detail=True)
    lead = Candidate(3, 3, 0, 90, 0.5, 0.5, 0.5, 1.25, detail=False)
    kept = _doers_only([caption, doer, lead], [False, True, False])
    assert [c.detail for c in kept] == [False, True, False]
    assert kept[0].score == pytest.approx(1.3) and kept[1:] == [doer, lead]
    # No sentence names the doer: every name may be the answer in other words.
    assert _doers_only([caption, lead], [False, False]) == [caption, lead]
