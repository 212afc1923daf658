"""A question asking for several things by a plural noun ("Which parts of …", "What changes …") is answered by the
sentence listing them, not by the lead that names them in one word."""

from __future__ import annotations

import pytest

from retrieval.details import asked_detail, holds_detail

PARTS = "Which parts of the Russian economy were the new penalties expected to hit?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (PARTS, "list"),
        ("What changes did Tillerson promise diplomats at a meeting with staff?", "list"),
        ("What crimes was Manafort charged with?", "list"),
        # Other rules know their plural nouns: places, named things, people.
        ("Which countries did Putin visit?", "place"),
        ("Which encrypted messaging apps do the experts recommend?", "name"),
        ("Which senators voted against the bill?", "person"),
        # A singular noun or a verb after "what" asks for no list.
        ("What does Tehran get out of keeping Assad in power?", None),
        ("What change did Tillerson promise?", None),
        ("What was the attorney campaigning against?", None),
    ],
)
def test_a_plural_noun_asks_for_a_list(question: str, kind: str | None) -> None:
    assert asked_detail(question) == kind


def test_a_list_is_answered_by_three_things_listed() -> None:
    listed = (
        "The U.S. and European sanctions are likely to target Russia's energy, arms and financial sectors."
    )
    assert holds_detail("list", listed, PARTS)
    steps = "He laid out steps such as merging email lists, allowing more telecommuting and easing a hiring freeze."
    assert holds_detail("list", steps, PARTS)
    lead = "The allies plan new sanctions, including penalties targeting key sectors of the Russian economy."
    assert not holds_detail("list", lead, PARTS)
    assert not holds_detail("list", "The United States and Europe imposed the penalties on Tuesday.", PARTS)
