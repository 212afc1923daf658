"""Fixtures shared by the end-to-end bot tests in this folder."""

from __future__ import annotations

import random

import pytest

from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings


@pytest.fixture
def seeded(hashing_service: AnsweringService) -> tuple[Settings, AnsweringService]:
    """The shared service over the seed articles (conftest), with its settings."""
    return hashing_service.settings, hashing_service


@pytest.fixture(scope="session")
def long_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, AnsweringService]:
    """Articles with very long sentences full of HTML, so a real answer needs splitting.

    A quote is at most 600 characters, so the answer is made of many; each piece of a long sentence
    names different (made-up) firms, so no two pieces are near-duplicates that the answer would drop. The
    HTML comes every sixth firm only: repeated in every one, it made the fake vectors of two pieces more
    than 0.85 alike, the threshold at which a quote counts as a duplicate of a shown one.
    """
    root = tmp_path_factory.mktemp("long")
    (root / "sources").mkdir()
    rng = random.Random(11)
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"

    def firm() -> str:
        return "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(4)).capitalize()

    for a in range(8):
        listed = ", ".join(
            f"{firm()} {firm()}" + (f" (<b>&amp;</blockquote> note {a}{r})" if r % 6 == 0 else "")
            for r in range(60)
        )
        body = (
            "The United States imposed new sanctions on Russia in March, and the sanctions that Washington "
            f"imposed on Moscow cover {listed}. Officials in Moscow said the sanctions would fail.\n"
        )
        front = f"---\ntitle: Sanctions <script> {a}\npublisher: Wire & Co {a}\ndate: 2024-03-0{a + 1}\n---\n"
        (root / "sources" / f"art{a}.txt").write_text(front + body, encoding="utf-8")
    # Relevance floor off: the fake hashing embedder scores very long sentences low.
    settings = Settings(
        _env_file=None,
        sources=root / "sources",
        index_dir=root / "idx",
        embedding_model="hashing",
        min_relevance=0.0,
        max_quotes=10,
        max_answer_chars=0,
    )
    return settings, build_service(settings)
