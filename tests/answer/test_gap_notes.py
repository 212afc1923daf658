"""The wording of the gap notes: one date, several later years, possessive names."""

from __future__ import annotations

from retrieval.coverage import Span as DateSpan
from retrieval.coverage import unknown_names
from retrieval.event_check import full_names, missing_words, screen_events
from retrieval.window import describe_window
from tests.answer.test_event_check import Span, large


def test_an_archive_of_one_date_is_all_from_it() -> None:
    assert describe_window(DateSpan("2017-12-01", "2017-12-01")) == "The articles are all from 2017-12-01"
    assert (
        describe_window(DateSpan("2017-12-01", "2017-12-03"))
        == "The articles run from 2017-12-01 to 2017-12-03"
    )


def test_a_window_with_undated_articles_speaks_of_the_dated_ones() -> None:
    # The seeds date one article of five: "The articles are all from 2017-10-20" said of all five.
    assert (
        describe_window(DateSpan("2017-10-20", "2017-10-20", dated=1, undated=4))
        == "The dated articles (1 of 5) are all from 2017-10-20"
    )
    assert (
        describe_window(DateSpan("2014-01-02", "2019-12-31", dated=22_811, undated=12))
        == "The dated articles (22,811 of 22,823) run from 2014-01-02 to 2019-12-31"
    )


def test_two_later_years_are_joined_with_and() -> None:
    archive = large(("2017-05-01",) * 5)
    kept, note = screen_events(archive, "What happened between 2018 and 2019?", [Span(0, 0, 20)])
    assert kept == [] and note is not None
    assert "before 2018 and 2019:" in note and "2018, 2019" not in note
    assert "are all from 2017-05-01" in note
    _, note = screen_events(archive, "Compare 2018, 2019 and 2020.", [Span(0, 0, 20)])
    assert note is not None and "before 2018, 2019 and 2020:" in note


def test_a_possessive_is_no_part_of_the_name_in_a_note() -> None:
    archive = large()
    assert unknown_names(archive, "Was Zelensky's protest in Moscow?") == ["Zelensky"]
    assert unknown_names(archive, "Was Zelensky’s protest in Moscow?") == ["Zelensky"]
    assert missing_words(archive, "Was Zelensky's protest in Moscow?") == ["Zelensky"]
    assert screen_events(archive, "Was Zelensky's protest in Moscow?", [Span(0, 0, 20)]) == (
        [],
        "No indexed article mentions Zelensky.",
    )
    # Names with an inner apostrophe keep it.
    assert unknown_names(archive, "Did O'Rourke meet Dell'Acqua?") == ["O'Rourke", "Dell'Acqua"]
    assert full_names("How did Alexei Navalny's brother fare?") == ["Alexei Navalny"]
