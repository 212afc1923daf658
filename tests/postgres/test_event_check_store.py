"""The event checks (retrieval/event_check.py) read the same words and articles from PostgreSQL as from the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import event_check
from tests.answer.test_event_check import DATES, TEXTS
from tests.support.postgres import folder_and_database_versions

pytestmark = pytest.mark.postgres

QUESTIONS = [
    "Who blew up the Nord Stream pipelines?",
    "Who built the Nord Stream pipelines?",
    "Did Alexei Navalny see the plane that crashed?",
    "What did Putin say about the coronavirus vaccine?",
    "Who won the 2024 presidential election?",
]


def test_both_stores_give_the_same_gaps(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Five articles: count them as a large archive and every word in them as rare.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    monkeypatch.setattr(event_check, "PIN_SHARE", 1.0)
    versions = folder_and_database_versions(tmp_path, postgres_url, zip(TEXTS, DATES, strict=True))
    database = versions[1]
    navalny = next(a.id for a in database.articles if "jail" in a.text)
    for q in QUESTIONS:
        gaps = [
            (
                event_check.screen_events(v, q, [])[1],
                event_check.quoted_gap(
                    v, q, [a.id for a in v.articles if "Nord" in a.text or "jail" in a.text]
                ),
            )
            for v in versions
        ]
        assert gaps[0] == gaps[1], q
    nord = next(a.id for a in database.articles if "Nord Stream" in a.text)
    assert event_check.unsaid_events(database, QUESTIONS[0], [nord]) == [("Nord Stream", "blew", False)]
    assert event_check.unsaid_events(database, QUESTIONS[2], [navalny]) == [
        ("Alexei Navalny", "plane", True),
        ("Alexei Navalny", "crashed", True),
    ]
    assert event_check.unused_words(database, QUESTIONS[3]) == ["coronavirus"]
    assert event_check.later_years(database, QUESTIONS[4]) == ["2024"]
