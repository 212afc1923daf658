"""A question's vector, embedded in a thread while the answer does the work that does not need it.

The question's embedding (6-10 ms on one ONNX thread, which releases the GIL) and the lexical half of
hybrid search (stemmed BM25 over every chunk and the question's focus, 3-5 ms on the whole AllSides corpus)
do not depend on each other: run side by side, a warm answer on a machine with a free core waits for the
longer of the two only (issue 13).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from retrieval.embedding import Embedder, Vectors

QuestionVector = Vectors | Callable[[], Vectors]


class PendingVector:
    """The question's vector, being embedded in a thread; calling it waits for the vector."""

    def __init__(self, embedder: Embedder, question: str) -> None:
        self._embedder = embedder
        self._question = question
        self._vector: Vectors | None = None
        self._error: BaseException | None = None
        # Not a daemon: an interpreter that exits while the thread is inside onnxruntime aborts the process,
        # so exiting waits for the few milliseconds it has left.
        self._thread = threading.Thread(target=self._embed, name="usru-question-vector")
        self._thread.start()

    def _embed(self) -> None:
        try:
            self._vector = self._embedder.embed_query(self._question)
        except BaseException as exc:  # raised where the vector is asked for, in the answering thread
            self._error = exc

    def __call__(self) -> Vectors:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._vector is not None
        return self._vector


def resolve_vector(qvec: QuestionVector) -> Vectors:
    """The vector itself, waiting for it if it is still being embedded."""
    return qvec() if callable(qvec) else qvec
