"""compare and timeline on PostgreSQL give what they give on the local index, over the same AllSides slice."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from retrieval import api
from retrieval.service import AnsweringService, build_service

pytestmark = pytest.mark.postgres


def test_compare_and_timeline_are_the_same_on_both_backends(
    slice_service: AnsweringService, postgres_url: str
) -> None:
    local = slice_service.settings
    remote = build_service(
        local.model_copy(
            update={"database_url": SecretStr(postgres_url), "index_dir": local.index_dir.parent / "idx-pg"}
        )
    )
    assert remote.store is not None and type(remote.store).__name__ == "PostgresStore"
    assert {a.source: a.leaning for a in remote.list_articles()} == {
        a.source: a.leaning for a in slice_service.list_articles()
    }
    for question in ("What did Trump and Putin say at the Helsinki summit?", "Who wrote War and Peace?"):
        here = api.compare_leanings(slice_service, question).to_dict()
        there = api.compare_leanings(remote, question).to_dict()
        assert here == there, question
    for topic in ("Helsinki summit", "sanctions"):
        assert (
            api.topic_timeline(slice_service, topic).to_dict() == api.topic_timeline(remote, topic).to_dict()
        )
    assert (
        api.compare_leanings(remote, "What did Trump and Putin say at the Helsinki summit?").status
        == "answered"
    )
