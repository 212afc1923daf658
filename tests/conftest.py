"""Shared fixtures: the seed corpus, copies of it to index, and a service over the hashing embedder.

The hashing embedder (`EMBEDDING_MODEL=hashing`) is a deterministic bag-of-words fake: it needs no
model files, so everything built on it is fast. Tests that need the real model have their own fixtures.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.service import AnsweringService, build_service
from retrieval.settings import HASHING_MODEL, Settings

# The fake Telegram Bot API's fixtures (fake_bot_api) and the real PostgreSQL's (postgres_url); registered here
# so pytest rewrites their asserts.
pytest_plugins = ["bench.fakebotapi", "tests.support.postgres"]
# The support modules' own asserts, rewritten so a failure shows the values.
pytest.register_assert_rewrite("tests.support.pages", "tests.support.in_process")

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_NAMES = [
    "000_45b60604108e829c.txt",
    "001_5d6ff2fecad26ce2.txt",
    "002_364ee98a1bc9817b.txt",
    "003_a81f25c9946499be.txt",
    "004_d8420f329212aa7b.txt",
]


def copy_seeds(target: Path) -> Path:
    """Copy the seed articles into `target` (created) and return it."""
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.iterdir()):
        if f.is_file():
            shutil.copy(f, target / f.name)
    return target


def hashing_settings_for(sources: Path, index_dir: Path) -> Settings:
    """Settings for the hashing embedder; a developer's `.env` is not read."""
    return Settings(_env_file=None, sources=sources, index_dir=index_dir, embedding_model=HASHING_MODEL)


def score_articles(
    tmp_path: Path, articles: dict[str, str], question: str, k: int
) -> list[tuple[str, str, Any]]:
    """(source, span, candidate) for each sentence score_sentences offers for the question from the top k chunks
    of an index of these articles (name -> text), built with the hashing embedder."""
    from retrieval.extractive import score_sentences
    from retrieval.search import chunk_document, search_chunks

    sources = tmp_path / "src"
    sources.mkdir()
    for name, text in articles.items():
        (sources / name).write_text(text, encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    index = service.index
    qvec = service.embedder.embed_query(question)
    docs = [chunk_document(index, h) for h in search_chunks(index, service.embedder, question, k, qvec=qvec)]
    out = []
    for c in score_sentences(index, service.embedder, question, docs, qvec):
        article = index.article(c.article_id)
        out.append((article.source, article.text[c.start : c.end], c))
    return out


@pytest.fixture(autouse=True)
def _no_telegram_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own TELEGRAM_* settings must not leak into the tests."""
    for name in list(os.environ):
        if name.startswith("TELEGRAM_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The repository's seed articles (read-only: copy them before changing anything)."""
    assert SEEDS.is_dir(), f"the seed corpus is missing at {SEEDS}"
    return SEEDS


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may add to, change or delete."""
    return copy_seeds(tmp_path / "sources")


@pytest.fixture
def hashing_settings(corpus: Path, tmp_path: Path) -> Settings:
    """Settings over the private copy, with the index in tmp/idx and the hashing embedder."""
    return hashing_settings_for(corpus, tmp_path / "idx")


@pytest.fixture(scope="session")
def hashing_service(tmp_path_factory: pytest.TempPathFactory) -> AnsweringService:
    """One answering service over a copy of the seeds, indexed once with the hashing embedder.

    Shared by the whole session: tests must not change its sources or index.
    """
    root = tmp_path_factory.mktemp("hashing_corpus")
    settings = hashing_settings_for(copy_seeds(root / "sources"), root / "idx")
    return build_service(settings)


@pytest.fixture(scope="session")
def real_seeds(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a copy of the seeds indexed once with the real model (which writes the ONNX export).

    Shared by the real-model tests, each building its own service on it: tests must not change its sources
    or index.
    """
    root = tmp_path_factory.mktemp("real_seeds")
    settings = Settings(_env_file=None, sources=copy_seeds(root / "sources"), index_dir=root / "idx")  # type: ignore[call-arg]
    build_service(settings)
    return settings


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    """Python's cycle collector off: what must go by reference counting alone is then seen to."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
