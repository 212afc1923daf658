"""A question about what was planned or expected for a year after the archive ends (outside attack, a12).

On the Reuters archive (Oct-Dec 2017), "When is Papadopoulos's sentencing scheduled in 2018?" and "Will the
Senate intelligence committee's Russia probe last into 2018?" were refused as events the archive cannot
report, although its articles state both ("scheduled for April 6, 2018", "would last into 2018").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.event_check import asks_ahead, screen_events
from tests.answer.test_event_check import Span, dated_service, large


def test_questions_about_plans_and_expectations_ask_ahead() -> None:
    for question in (
        "Will the Senate probe last into 2018?",
        "When is his sentencing scheduled in 2018?",
        "Should the special counsel investigation continue in 2018?",
        "What did Republicans expect from the 2018 midterms?",
        "What were the plans for 2018?",
        # a28: refused with "they cannot report what happened then", though 2019 articles tell each.
        "Is New START due to expire in 2021?",
        "What did Putin say about extending New START beyond 2021?",
        "How are intelligence agencies preparing for Russian interference in the 2020 election?",
        "Who is running for president in 2020?",
        "What did Mueller say about Russian interference in the 2020 election?",
        "What did Dan Coats warn about the 2020 election?",
        "What did Putin say about the 2020 presidential race?",
        "What did Republicans fear about the 2022 midterms?",
        # a31: set ahead too.
        "What did Russia say about New START expiring in 2021?",
        "What did Democrats say about the 2020 Iowa caucuses?",
        "What did Biden say about the 2020 Democratic nomination?",
    ):
        assert asks_ahead(question), question
    for question in (
        "Who won the 2024 Russian presidential election?",
        "What did Putin say about 2022?",
        # The year is the time of what was said, or the question asks what came of it.
        "What did the Kremlin say about Alexei Navalny's poisoning in August 2020?",
        "What did Trump say after losing the 2020 election?",
        "What did Putin say about the results of the 2024 election?",
        "How did Russia interfere in the 2020 election?",
        "Who won the 2020 election?",
        "What did Trump say about Russia in the 2020 presidential debates?",
        # Events of the later year, not set before it (a30).
        "What did the Kremlin say about the 2020 poisoning of Navalny?",
        "What did Biden say about the 2021 Capitol riot?",
        "What did Putin say about the 2020 constitutional referendum?",
    ):
        assert not asks_ahead(question), question


def test_a_later_year_asked_ahead_keeps_its_candidates_with_a_caveat() -> None:
    archive = large()
    spans = [Span(1, 0, 30)]
    kept, note = screen_events(archive, "Will Putin's term end in 2024?", spans)
    assert kept == spans
    assert note is not None and "2019-07-29" in note and "2024" in note and "expected" in note
    # What happened in that year stays refused.
    assert screen_events(archive, "Who won the 2024 presidential election?", spans)[0] == []


def test_an_answer_about_a_later_year_asked_ahead_quotes_the_article_that_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = dated_service(tmp_path, monkeypatch)
    ahead = service.answer("Will Putin's six-year term end in 2024?")
    assert ahead.status == "answered" and [c.source for c in ahead.citations] == ["a1.md"]
    assert ahead.note is not None and "2024" in ahead.note and "expected" in ahead.note
    assert service.answer("Who won the 2024 presidential election?").status == "not_found"


def test_words_that_only_look_ahead_do_not_count() -> None:
    for question in (
        "What did Russian forces do at the nuclear plant in 2022?",
        "What did Mueller look into in 2020?",
        "Why did the ruble fall due to the 2022 sanctions?",
        "Which deal was due to the 2021 talks?",
    ):
        assert not asks_ahead(question), question


def test_a_question_spanning_a_covered_and_a_later_year_keeps_the_covered_part() -> None:
    # "What did Trump say about Russia in 2017 and 2018?" was refused whole on Reuters articles from late 2017.
    archive = large()
    spans = [Span(1, 0, 30)]
    kept, note = screen_events(archive, "What did Putin win in 2018 and 2024?", spans)
    assert kept == spans
    assert note is not None and "2024" in note and "2018" not in note.replace("2018-", "")
    assert screen_events(archive, "What did Putin win in 2024 and 2025?", spans)[0] == []
