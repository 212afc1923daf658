"""The project's question set with the real embedding model, answered through both index backends:
the answers must be identical, word for word and offset for offset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import SecretStr

from bench.evaluation import load_questions, score_usru
from retrieval.api import load_settings_embedder, open_store
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.conftest import copy_seeds

pytestmark = [pytest.mark.postgres, pytest.mark.model]


def test_the_seeds_eval_gives_identical_answers_on_both_backends(postgres_url: str, tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    folder_settings = Settings(_env_file=None, sources=sources, index_dir=tmp_path / "idx")
    pg_settings = folder_settings.model_copy(update={"database_url": SecretStr(postgres_url)})
    # One embedder for both, as two processes on one machine would load the same model and export.
    embedder = load_settings_embedder(folder_settings)
    services = []
    for settings in (folder_settings, pg_settings):
        store = open_store(settings)
        store.update(sources, embedder)
        services.append(AnsweringService(settings, embedder, store.load(), store=store))
    questions = load_questions()
    answers = [[s.answer(q["question"]) for q in questions] for s in services]
    for q, a, b in zip(questions, *answers, strict=True):
        da, db = dataclasses.asdict(a), dataclasses.asdict(b)
        del da["timings_ms"], db["timings_ms"]
        assert da == db, q["id"]
    scores = [score_usru(questions, [a.to_dict() for a in run], sources) for run in answers]
    assert scores[0].as_dict() == scores[1].as_dict()
    # The same bar as tests/answer/test_eval.py, so identical does not mean identically broken.
    assert scores[1].hit_rate >= 0.90 and scores[1].verbatim == scores[1].quotes > 40
