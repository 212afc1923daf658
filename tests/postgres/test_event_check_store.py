"""The event checks (retrieval/event_check.py) read the same words and articles from PostgreSQL as from the folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.api import open_store
from retrieval.embedding import load_embedder
from retrieval.settings import HASHING_MODEL, Settings
from tests.answer.test_event_check import DATES, TEXTS

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
    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate(zip(TEXTS, DATES, strict=True)):
        (sources / f"a{n}.md").write_text(f"---\ndate: {json.dumps(date)}\n---\n\n{text}\n", encoding="utf-8")
    embedder = load_embedder(HASHING_MODEL)
    versions = []
    for url in (None, postgres_url):
        settings = Settings(
            _env_file=None,
            sources=sources,
            index_dir=tmp_path / "idx",
            embedding_model=HASHING_MODEL,
            database_url=url,
        )
        store = open_store(settings)
        store.update(sources, embedder)
        versions.append(store.load())
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
