"""A quote that only describes the person asked for runs on into the next sentence that names them (dev n15)."""

from __future__ import annotations

from types import SimpleNamespace

from retrieval.extractive import Candidate
from retrieval.neighbours import with_named_roles
from retrieval.people import named_roles, roles

ARTICLE = (
    "Voters chose Rohrabacher over Democrat Suzanne Savary in 2016. "
    "Through a spokesman, Rohrabacher indicated he was not prepared to return the donation. "
    "“The Congressman advises his opponents to observe the presumption of innocence,” spokesman Ken Grubbs said.\n\n"
    "Separately, campaign manager Jane Doe said the race was close."
)


def _span(text: str, sentence: str, sid: int, detail: bool) -> Candidate:
    start = ARTICLE.index(sentence)
    return Candidate(sid, 1, start, start + len(sentence), 0.5, 0.5, 0.5, 1.0, detail=detail)


def _index() -> SimpleNamespace:
    return SimpleNamespace(article=lambda aid: SimpleNamespace(text=ARTICLE))


def test_roles_named_and_unnamed() -> None:
    assert roles("Through a spokesman, Rohrabacher indicated he would not.") == {"spokesman"}
    assert named_roles("Through a spokesman, Rohrabacher indicated he would not.") == set()
    assert named_roles("“We will not,” spokesman Ken Grubbs said.") == {"spokesman"}
    assert named_roles("Natalia Veselnitskaya, a Russian lawyer, met them.") == {"lawyer"}


def test_a_quote_describing_a_spokesman_runs_on_into_the_sentence_naming_him() -> None:
    savary = _span(ARTICLE, "Voters chose Rohrabacher over Democrat Suzanne Savary in 2016.", 0, True)
    spokesman = _span(
        ARTICLE,
        "Through a spokesman, Rohrabacher indicated he was not prepared to return the donation.",
        1,
        False,
    )
    grubbs = _span(
        ARTICLE,
        "“The Congressman advises his opponents to observe the presumption of innocence,” spokesman Ken Grubbs said.",
        2,
        True,
    )
    doe = _span(ARTICLE, "Separately, campaign manager Jane Doe said the race was close.", 3, True)
    (joined,) = with_named_roles(_index(), [savary, grubbs, doe], [spokesman])
    assert ARTICLE[joined.start : joined.end] == ARTICLE[spokesman.start : grubbs.end]
    assert joined.detail
    # The name before it (a Democrat, not a spokesman) is not taken, nor one in another paragraph.
    assert with_named_roles(_index(), [savary, doe], [spokesman]) == [spokesman]
    # A quote that holds a detail already, or names no role, is left as it is.
    assert with_named_roles(_index(), [grubbs], [savary]) == [savary]


def test_a_title_written_short_gives_the_role_a_question_asks_for() -> None:
    # "Which senator said Trump has echoed Putin?" asks for a senator: "Sen. Mark Warner" is one (dev p43).
    assert named_roles(
        "Sen. Mark Warner said Sunday that President Trump has “parroted” Russian policies."
    ) == {"senator"}
    assert named_roles("Rep. Adam Schiff told reporters the panel would meet.") == {"representative"}
    assert roles("The Senate voted on Tuesday.") == set()


def test_plural_short_titles_give_roles_and_a_lone_letter_is_no_name() -> None:
    # "Sens. John McCain and Lindsey Graham" are senators; "Gen. Z" names a generation, not a general (a22).
    assert roles("Sens. John McCain and Lindsey Graham said it.") == {"senator"}
    assert roles("Reps. Adam Schiff and Eric Swalwell said so.") == {"representative"}
    assert roles("Gen. Z voters turned out.") == set()
