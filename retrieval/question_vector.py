"""A question's vector, embedded in a thread while the answer does the work that does not need it.

The question's embedding (6-10 ms on one ONNX thread, which releases the GIL) and the lexical half of
hybrid search (stemmed BM25 over every chunk and the question's focus, 3-5 ms on the whole AllSides corpus)
do not depend on each other: run side by side, a warm answer on a machine with a free core waits for the
longer of the two only (issue 13).
"""

from __future__ import annotations

from collections.abc import Callable

from retrieval.embedding import Embedder, Vectors
from retrieval.pending import Pending

QuestionVector = Vectors | Callable[[], Vectors]


class PendingVector(Pending[Vectors]):
    """The question's vector, being embedded in a thread; calling it waits for the vector."""

    def __init__(self, embedder: Embedder, question: str) -> None:
        super().__init__(lambda: embedder.embed_query(question), "usru-question-vector")


def resolve_vector(qvec: QuestionVector) -> Vectors:
    """The vector itself, waiting for it if it is still being embedded."""
    return qvec() if callable(qvec) else qvec
