"""A replaced index version is let go at the swap, with everything it brought in (a24, a25)."""

from __future__ import annotations

import weakref
from pathlib import Path

import pytest

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
