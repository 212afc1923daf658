""" "Who <did> <whom>?" is answered by the doer of that act, even a name every story has or a country."""

from __future__ import annotations

from retrieval.details import holds_detail


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
