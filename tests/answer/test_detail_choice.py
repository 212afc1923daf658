"""When no chosen quote holds the asked-for detail, the detail sentence is taken from the best quote's own article
first, and names that run through the archive are no detail."""

from __future__ import annotations

from retrieval.details import holds_detail
from retrieval.extractive import ARTICLE_REACH, DETAIL_REACH, Candidate, _with_detail


def _sentence(sid: int, article: int, score: float, detail: bool) -> Candidate:
    return Candidate(sid, article, sid * 100, sid * 100 + 90, 0.5, 0.5, 0.5, score, detail=detail)


def test_the_detail_sentence_of_the_best_article_is_preferred_to_another_article_s() -> None:
    lead = _sentence(0, 1, 1.3, False)
    elsewhere = _sentence(1, 2, 1.3 - DETAIL_REACH + 0.01, True)
    own = _sentence(3, 1, 1.3 - ARTICLE_REACH + 0.01, True)
    candidates = [lead, elsewhere, own]
    assert _with_detail(candidates, [lead], 0.5, 4) == [lead, own]
    # Past ARTICLE_REACH the own article's sentence is too far; the other article's, within DETAIL_REACH, is taken.
    far = _sentence(3, 1, 1.3 - ARTICLE_REACH - 0.01, True)
    assert _with_detail([lead, elsewhere, far], [lead], 0.5, 4) == [lead, elsewhere]
    # A chosen quote that holds the detail needs nothing added.
    assert _with_detail(candidates, [elsewhere], 0.5, 4) == [elsewhere]


def test_a_name_common_in_the_archive_is_no_new_person() -> None:
    question = "Who is defending Manafort's associate Gates now?"
    lead = (
        "A grand jury indicted Manafort and Gates as part of Special Counsel Robert Mueller's investigation."
    )
    assert holds_detail("person", lead, question)
    assert not holds_detail("person", lead, question, common=lambda term: term == "mueller")
    named = "Gates hired attorney Walter Mack of New York."
    assert holds_detail("person", named, question, common=lambda term: term == "mueller")


def test_a_designation_is_no_count() -> None:
    # "How many times…" is not answered by the G-20 or an S-400: a number joined to letters names a thing.
    question = "How many times had Trump and Putin talked by telephone before they first met in Hamburg?"
    assert not holds_detail(
        "count", "Trump and Putin greeted each other at the G-20 summit in Hamburg.", question
    )
    assert not holds_detail(
        "count", "Russia sold Turkey its S-400 system and an F-35 was grounded.", question
    )
    assert holds_detail("count", "They have spoken by phone three times since the G-20.", question)
    assert holds_detail("count", "They spoke 3 times at the G20.", question)
