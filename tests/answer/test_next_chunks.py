"""A "who" question scores the chunk after each retrieved one too: stories name the doer after telling the act, in
other words than the question's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import retrieval.neighbours as neighbours
from retrieval.neighbours import add_next_chunks, find_chunks
from retrieval.search import ChunkHit

# Chunks 0-2 are one article's, 3-4 another's; chunk i's vector is the i-th unit vector.
ARTICLES = np.array([0, 0, 0, 1, 1])
QVEC = np.array([0.0, 0.3, 0.0, 0.0, 0.6], dtype=np.float32)


def _index() -> SimpleNamespace:
    return SimpleNamespace(chunks=SimpleNamespace(article=ARTICLES), chunk_vector=lambda cid: np.eye(5)[cid])


def _hit(cid: int) -> ChunkHit:
    return ChunkHit(cid, 1.0, 0.5, 1.0)


def test_the_chunk_after_each_hit_in_its_article_is_added_with_its_own_cosine() -> None:
    out = add_next_chunks(_index(), [_hit(0), _hit(3)], QVEC)  # type: ignore[arg-type]
    assert [h.chunk_id for h in out] == [0, 3, 1, 4]
    assert out[2].dense == pytest.approx(0.3)
    assert out[3].dense == pytest.approx(0.6)


def test_no_chunk_of_another_article_past_the_end_or_already_retrieved_is_added() -> None:
    assert [h.chunk_id for h in add_next_chunks(_index(), [_hit(2), _hit(4)], QVEC)] == [2, 4]  # type: ignore[arg-type]
    assert [h.chunk_id for h in add_next_chunks(_index(), [_hit(1), _hit(0)], QVEC)] == [1, 0, 2]  # type: ignore[arg-type]


def test_only_a_question_asking_for_a_person_scores_the_next_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    def search(*_: Any, **__: Any) -> list[ChunkHit]:
        return [_hit(0)]

    monkeypatch.setattr(neighbours, "search_chunks", search)
    who = "Which television journalist asked Trump whether he blamed Putin?"
    why = "Why did Trump decline to blame Putin?"
    assert [h.chunk_id for h in find_chunks(_index(), None, who, 16, QVEC)] == [0, 1]  # type: ignore[arg-type]
    assert [h.chunk_id for h in find_chunks(_index(), None, why, 16, QVEC)] == [0]  # type: ignore[arg-type]
    monkeypatch.setattr(neighbours, "search_chunks", lambda *_, **__: [_hit(3)])
    assert [h.chunk_id for h in find_chunks(_index(), None, who, 16, QVEC)] == [3, 4]  # type: ignore[arg-type]
    # Not the lead of the hit's article: it lost a holdout answer (h4-34).
    monkeypatch.setattr(neighbours, "search_chunks", lambda *_, **__: [_hit(4)])
    assert [h.chunk_id for h in find_chunks(_index(), None, who, 16, QVEC)] == [4]  # type: ignore[arg-type]
