"""usru's answering core: articles, chunks, the index, hybrid search and the answer chains.

Public entry points (see README, "Using the index from LangChain"):
  retrieval.load_retriever(index_dir, k=4)   a LangChain BaseRetriever over an index `usru index` built
                                             (a folder, or a postgresql:// URL)
  retrieval.api                              the facade the CLI and the bot use
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.api import load_retriever

__all__ = ["load_retriever"]

# faiss tries its AVX-512 and AVX2 builds first and logs each miss ("Could not load library with AVX2
# support") at INFO, which reads like an error to anyone running the bot at INFO; the outcome is enough.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)


def __getattr__(name: str) -> Any:
    # Imported on first use: `import retrieval.x` must not load LangChain and the index for everyone.
    if name == "load_retriever":
        from retrieval.api import load_retriever

        return load_retriever
    raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
