"""`retrieval.load_retriever` over an index kept in PostgreSQL: the same Documents as over the index folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever

import retrieval
from retrieval.api import index_sources
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import copy_seeds

pytestmark = pytest.mark.postgres

QUESTIONS = [
    "Is Russia ready to resume arms control talks with the US?",
    "What sanctions did the European Union impose on Moscow?",
    "What did Putin say about Ukraine?",
    "Who met in Helsinki?",
]


def same(metadata: dict[str, Any]) -> dict[str, Any]:
    """A Document's metadata but for its dense score."""
    return {k: v for k, v in metadata.items() if k != "dense"}


def test_the_database_gives_the_folders_documents_and_picks_up_a_new_version(
    postgres_url: str, tmp_path: Path
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    for url in (None, postgres_url):
        index_sources(
            Settings(
                _env_file=None,
                sources=sources,
                index_dir=tmp_path / "idx",
                embedding_model=HASHING_MODEL,
                database_url=url,
            )
        )
    local = retrieval.load_retriever(tmp_path / "idx", k=5)
    remote = retrieval.load_retriever(postgres_url, k=5)
    assert isinstance(remote, BaseRetriever)
    for q in QUESTIONS:
        a, b = local.invoke(q), remote.invoke(q)
        assert len(a) == 5
        assert [(d.page_content, same(d.metadata)) for d in a] == [
            (d.page_content, same(d.metadata)) for d in b
        ], q
        # The dense score is summed by FAISS in one store and numpy in the other: equal to float32's last bits.
        assert [d.metadata["dense"] for d in a] == pytest.approx([d.metadata["dense"] for d in b], abs=1e-6)
    assert {d.metadata["index_version"] for d in remote.invoke(QUESTIONS[0])} == {"v000001"}

    (sources / "zz_new.txt").write_text(
        "Title: Lighthouse keepers\nPublisher: Coast Gazette\nDate: 2020-05-01\n\n"
        "The Baltic lighthouse keepers union said the foghorn at Kaliningrad will be rebuilt next spring.\n",
        encoding="utf-8",
    )
    index_sources(
        Settings(
            _env_file=None,
            sources=sources,
            index_dir=tmp_path / "idx-pg",
            embedding_model=HASHING_MODEL,
            database_url=postgres_url,
        )
    )
    docs = remote.invoke("the foghorn at Kaliningrad lighthouse keepers", k=1)
    assert [(d.metadata["source"], d.metadata["index_version"]) for d in docs] == [("zz_new.txt", "v000002")]


@pytest.mark.model
def test_an_int8_database_index_is_asked_at_int8_with_the_export_in_a_cache_folder(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database has no index folder: the int8 export goes to USRU_INDEX_DIR's folder or `cache_dir`."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        sources=copy_seeds(tmp_path / "sources"),
        index_dir=tmp_path / "cache",
        database_url=postgres_url,
        embed_precision="int8",
    )
    index_sources(settings)
    monkeypatch.setenv("USRU_INDEX_DIR", str(tmp_path / "cache"))
    for retriever in (
        retrieval.load_retriever(postgres_url, k=3),
        retrieval.load_retriever(postgres_url, k=3, cache_dir=tmp_path / "cache"),
    ):
        assert retriever.embedder.name.endswith("[int8]")  # type: ignore[attr-defined]
        assert len(retriever.invoke(QUESTIONS[0])) == 3
