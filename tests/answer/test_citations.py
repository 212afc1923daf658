"""How quotes are shown (retrieval/citations.py): the same story from the same outlet is not called another's."""

from __future__ import annotations

from retrieval.answer import Citation
from retrieval.citations import render_citations, same_story_note


def _cite(n: int, publisher: str, source: str) -> Citation:
    return Citation(n, source, "Title", publisher, "2017-05-10", "Trump fired Comey.", 0, 18)


def test_the_same_story_from_another_outlet_says_so() -> None:
    note = same_story_note(_cite(1, "Reuters", "a.md"), _cite(2, "CNN", "b.md"))
    assert "another outlet" in note and "[1]" in note


def test_the_same_story_from_the_same_outlet_does_not_claim_another_outlet() -> None:
    # The fifth session's attacker: two Reuters articles were noted as "from another outlet".
    note = same_story_note(_cite(1, "Reuters", "a.md"), _cite(2, "Reuters", "b.md"))
    assert "another outlet" not in note and "same outlet" in note
    lines = render_citations([_cite(1, "Reuters", "a.md"), _cite(2, "Reuters", "b.md")], [(0, 1)])
    assert any("same outlet" in line for line in lines)
