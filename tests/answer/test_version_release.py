"""A replaced index version is let go at the swap, with everything it brought in (a24, a25)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from retrieval.event_check import is_dated, sorted_vocabulary
from retrieval.service import build_service
from tests.conftest import copy_seeds, hashing_settings_for

QUESTIONS = (
    "What did Lavrov say about the sanctions imposed by Washington in 2016?",
    "What did Лавров say about the sanctions?",  # a Cyrillic name: the version's sound index is built
    "Что сказал Лавров о санкциях?",
)


@pytest.mark.usefixtures("no_cycle_collector")
@pytest.mark.parametrize("prefetch", [False, True])
def test_each_replaced_version_goes_at_the_swap(tmp_path: Path, prefetch: bool) -> None:
    sources = copy_seeds(tmp_path / "sources")
    service = build_service(hashing_settings_for(sources, tmp_path / "index"))
    if prefetch:
        service.prefetch()
    replaced = []
    for edit in range(3):
        for question in QUESTIONS:
            service.answer(question)
        replaced.append(weakref.ref(service.index))
        article = sorted(p for p in sources.iterdir() if p.is_file())[0]
        article.write_text(article.read_text(encoding="utf-8") + f"\n\nEdit {edit}: Lavrov spoke again.\n")
        service.reindex()
        assert service.index is not replaced[-1]()
        # By reference counting alone: the sound index held its version until the next Russian question.
        assert [r() for r in replaced] == [None] * len(replaced)


class _Articles(list[Any]):
    """A version's article list, which a weak reference can watch."""


@dataclass
class _Article:
    date: str | None


@dataclass
class _Bm25:
    vocab: dict[str, int]


@dataclass(eq=False)
class _Version:
    version: str
    articles: _Articles
    bm25: _Bm25


@pytest.mark.usefixtures("no_cycle_collector")
def test_the_event_checks_let_a_replaced_versions_articles_and_postings_go() -> None:
    # Keyed by version name, they kept the article list (its texts hold a SQLite connection) and the BM25
    # postings of up to 8 and 4 replaced versions.
    held: list[weakref.ref[Any]] = []
    for n in range(3):
        version = _Version(
            f"v{n}", _Articles([_Article(f"2017-01-0{n + 1}")]), _Bm25({"putin": 0, f"w{n}": 1})
        )
        assert is_dated(cast(Any, version))
        assert sorted_vocabulary(cast(Any, version)) == sorted(["putin", f"w{n}"])
        held += [weakref.ref(version.articles), weakref.ref(version.bm25)]
        del version
    assert [r() for r in held] == [None] * len(held)
