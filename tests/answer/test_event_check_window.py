"""The notes and the later-year check work on the window a filtered question searched, not the whole archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.conversation import Conversation
from retrieval.coverage import years_covered
from retrieval.event_check import later_years, screen_events
from retrieval.filters import make_filters
from tests.answer.test_event_check import Span, dated_service, large


def test_a_year_after_the_filtered_window_is_later() -> None:
    archive = large()
    until = make_filters(until="2017-11-15")
    assert later_years(archive, "Who won the 2018 presidential election?") == []
    assert later_years(archive, "Who won the 2018 presidential election?", until) == ["2018"]
    # An outlet or date filter that admits the 2019 articles leaves 2018 inside the window.
    assert later_years(archive, "Who won the 2018 election?", make_filters(since="2018")) == []


def test_screen_events_names_the_window_searched() -> None:
    archive = large()
    spans = [Span(0, 0, 20)]
    kept, note = screen_events(
        archive, "Who won the 2018 presidential election?", spans, filters=make_filters(until="2017-11-15")
    )
    assert kept == [] and note is not None
    assert "2017-11-15 or earlier" in note and "2017-05-01" in note and "2019" not in note


def test_the_years_note_names_the_window_searched() -> None:
    archive = large()
    kept, note = years_covered(archive, "What happened in 2016?", [2], make_filters(since="2019-07"))
    assert kept == set() and note is not None
    assert "2019-07-01 or later" in note and "2019-07-29" in note and "2017-05-01" not in note


def test_a_filtered_answer_is_refused_for_a_year_after_its_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the service, as `usru ask --until` and the bot's `/ask until:…` call it."""
    service = dated_service(tmp_path, monkeypatch)
    question = "Who won the 2018 presidential election?"
    assert service.answer(question).status == "answered"
    filtered = service.answer(question, filters=make_filters(until="2017-11-15"))
    assert filtered.status == "not_found" and filtered.note is not None
    assert "2017-11-15 or earlier" in filtered.note and "2019" not in filtered.note
    # The bot's and the REPL's filter words reach the same check.
    chat = Conversation(service, max_question_chars=500, max_turns=4)
    asked = chat.ask(f"until:2017-11-15 {question}")
    assert asked.status == "not_found" and asked.note == filtered.note


def test_a_month_after_the_window_is_later_like_a_year() -> None:
    archive = large()  # the last article is dated 2019-07-29
    assert later_years(archive, "What did Putin say in December 2019?") == ["December 2019"]
    assert later_years(archive, "What did Putin say in Dec. 2019?") == ["Dec. 2019"]
    assert later_years(archive, "What did Putin say in July 2019?") == []
    assert later_years(archive, "What did Putin say in December 2018?") == []
    until = make_filters(until="2017-11-15")  # the last admitted article is dated 2017-05-01
    assert later_years(archive, "What happened in December 2017?", until) == ["December 2017"]
    assert later_years(archive, "What happened in May 2017?", until) == []


def test_screen_events_refuses_a_later_month_unless_asked_ahead_or_beside_a_covered_one() -> None:
    archive = large()
    spans = [Span(0, 0, 20)]
    until = make_filters(until="2017-11-15")
    kept, note = screen_events(archive, "What did Putin say in December 2017?", spans, filters=until)
    assert kept == [] and note is not None and "December 2017" in note and "2017-05-01" in note
    kept, note = screen_events(archive, "What was planned for December 2017?", spans, filters=until)
    assert kept == spans and note is not None and "planned or expected" in note
    kept, note = screen_events(
        archive, "What changed between May 2017 and December 2017?", spans, filters=until
    )
    assert kept == spans and note is not None and "December 2017" in note
