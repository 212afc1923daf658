"""Work started in a thread and waited for where its result is needed.

An answer's steps that release the GIL (onnxruntime's run, FAISS's search, numpy's scans) can run beside
Python work that does not need their result: on a machine with a free core the answer then waits for the
longer of the two only (issue 13).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Pending(Generic[T]):
    """A call running in a thread; calling this waits for its result, or raises its exception."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        # Not a daemon: an interpreter that exits while the thread is inside onnxruntime aborts the process,
        # so exiting waits for the few milliseconds it has left.
        self._thread = threading.Thread(target=self._run, name=name)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # raised where the result is asked for, in the thread that needs it
            self._error = exc

    def __call__(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]
