"""The presupposition checks (retrieval/presupposition.py) read the same sentences from PostgreSQL as from the folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import event_check, presupposition
from retrieval.api import open_store
from retrieval.embedding import load_embedder
from retrieval.settings import HASHING_MODEL, Settings
from tests.answer.test_presupposition import ARTICLES, PLEAS

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
    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate((*ARTICLES, *PLEAS)):
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
    for q in QUESTIONS:
        gaps = [(presupposition.presupposition_gap(v, q), presupposition.unsaid_act(v, q)) for v in versions]
        assert gaps[0] == gaps[1], q
    database = versions[1]
    assert presupposition.misplaced_year(database, QUESTIONS[0]) == ("Helsinki", "2016", ["2018"])
    assert presupposition.reversed_roles(database, QUESTIONS[2]) == ("shoot", "turkey")
    assert presupposition.unsaid_act(database, QUESTIONS[4]) is not None
