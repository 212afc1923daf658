"""The hybrid search of search.py as a LangChain retriever, for chains that compose one."""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.embedding import Embedder, Vectors
from retrieval.filters import Filters
from retrieval.index import StoredVersion
from retrieval.search import chunk_document, search_chunks


class HybridRetriever(BaseRetriever):
    """Retrieves article chunks by dense and lexical similarity together."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    get_index: Callable[[], StoredVersion]
    embedder: Embedder
    k: int = 8
    filters: Filters | None = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        qvec: Vectors | None = None,
    ) -> list[Document]:
        """The best chunks: `k` of them (the retriever's own k unless given); `qvec` is the query's vector."""
        index = self.get_index()
        hits = search_chunks(
            index, self.embedder, query, self.k if k is None else k, qvec=qvec, filters=self.filters
        )
        return [chunk_document(index, hit) for hit in hits]
