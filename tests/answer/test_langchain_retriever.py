"""`retrieval.load_retriever`: a LangChain retriever that passes LangChain's own standard retriever tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

import retrieval
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.search import search_chunks
from tests.conftest import copy_seeds

QUESTION = "Is Russia ready to resume arms control talks with the US?"
_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds indexed once with the hashing embedder, for every test here."""
    root = tmp_path_factory.mktemp("retriever")
    build_index(copy_seeds(root / "sources"), root / "index", HashingEmbedder())
    _BUILT["index"] = root / "index"
    return root / "index"


class TestLoadRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> Any:
        return retrieval.load_retriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"index_dir": _BUILT["index"]}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_a_k_given_to_invoke_wins_over_the_retrievers_own(seed_index: Path) -> None:
    retriever = retrieval.load_retriever(seed_index, k=4)
    assert isinstance(retriever, BaseRetriever)
    assert len(retriever.invoke(QUESTION)) == 4
    assert len(retriever.invoke(QUESTION, k=1)) == 1
    assert len(retriever.invoke(QUESTION, k=6)) == 6
    assert len(retriever.invoke(QUESTION)) == 4  # the retriever's own k is untouched


def test_documents_are_the_hybrid_searchs_best_chunks_with_their_offsets(seed_index: Path) -> None:
    docs = retrieval.load_retriever(seed_index, k=3).invoke(QUESTION)
    index = load_index(seed_index)
    hits = search_chunks(index, HashingEmbedder(), QUESTION, 3)
    assert [d.metadata["chunk_id"] for d in docs] == [h.chunk_id for h in hits]
    for doc in docs:
        article = index.article_by_source(doc.metadata["source"])
        assert article is not None
        assert doc.metadata["start"] < doc.metadata["end"] <= len(article.text)
        assert doc.metadata["index_version"] == index.version
