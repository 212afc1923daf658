"""The presupposition checks (retrieval/presupposition.py, wrong_doer.py) read the same sentences from PostgreSQL as from the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import event_check, presupposition, wrong_doer
from tests.answer.test_act_doer import ARTICLES as ACTS
from tests.answer.test_presupposition import ARTICLES, PLEAS
from tests.support.postgres import folder_and_database_versions

pytestmark = pytest.mark.postgres

QUESTIONS = [
    "What did Trump and Putin agree at their 2016 Helsinki summit?",
    "What did Trump and Putin agree at their 2018 Helsinki summit?",
    "Why did Russia shoot down the Turkish jet?",
    "Why did Turkey shoot down the Russian jet?",
    "Why did Jared Kushner plead guilty?",
    "Why did Michael Flynn plead guilty?",
]


def test_both_stores_give_the_same_presupposition_gaps(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # So few articles: count them as a large archive and every name and verb as rare.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    monkeypatch.setattr(presupposition, "NAME_SHARE", 1.0)
    monkeypatch.setattr(presupposition, "VERB_SHARE", 1.0)
    versions = folder_and_database_versions(tmp_path, postgres_url, (*ARTICLES, *PLEAS))
    for q in QUESTIONS:
        gaps = [(presupposition.presupposition_gap(v, q), presupposition.unsaid_act(v, q)) for v in versions]
        assert gaps[0] == gaps[1], q
    database = versions[1]
    assert presupposition.misplaced_year(database, QUESTIONS[0]) == ("Helsinki", "2016", ["2018"])
    assert presupposition.reversed_roles(database, QUESTIONS[2]) == ("shoot", "turkey")
    assert presupposition.unsaid_act(database, QUESTIONS[4]) is not None


def test_both_stores_name_the_same_other_doer(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    versions = folder_and_database_versions(tmp_path, postgres_url, ACTS)
    for q in (
        "Why did Michael Flynn fire Sally Yates?",
        "Why did Trump fire Sally Yates?",
        "Why did Jared Kushner plead guilty?",
    ):
        notes = [wrong_doer.other_doer(v, q) for v in versions]
        assert notes[0] == notes[1], q
    note = wrong_doer.other_doer(versions[1], "Why did Michael Flynn fire Sally Yates?")
    assert note is not None and "Trump" in note
