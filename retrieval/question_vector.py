"""A question's vector, embedded in a thread while the answer does the work that does not need it.

The question's embedding (6-10 ms on one ONNX thread, which releases the GIL) and the lexical half of
hybrid search (stemmed BM25 over every chunk and the question's focus, 3-5 ms on the whole AllSides corpus)
do not depend on each other: run side by side, a warm answer on a machine with a free core waits for the
longer of the two only (issue 13).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from retrieval.embedding import Embedder, Vectors
from retrieval.pending import run_in_thread

QuestionVector = Vectors | Callable[[], Vectors]


def embed_in_thread(embedder: Embedder, question: str) -> Future[Vectors]:
    """The question's vector, being embedded in a thread (inside onnxruntime: not a daemon)."""
    return run_in_thread(lambda: embedder.embed_query(question), "usru-question-vector", daemon=False)


def resolve_vector(qvec: QuestionVector) -> Vectors:
    """The vector itself, waiting for it if it is still being embedded."""
    return qvec() if callable(qvec) else qvec
