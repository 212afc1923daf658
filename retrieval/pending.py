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
        self._work: Callable[[], T] | None = work
        self._result: T | None = None
        self._error: BaseException | None = None
        # Not a daemon: an interpreter that exits while the thread is inside onnxruntime aborts the process,
        # so exiting waits for the few milliseconds it has left.
        self._thread = threading.Thread(target=self._run, name=name)
        self._thread.start()

    def _run(self) -> None:
        work, self._work = self._work, None  # its closure (an index version) is not held past the call
        try:
            self._result = work()  # type: ignore[misc]
        except BaseException as exc:  # raised where the result is asked for, in the thread that needs it
            self._error = exc
            # The error's traceback holds this frame: without these locals it holds neither this object (which
            # holds the error: a cycle) nor the work's closure (a failed search's index version, a25).
            del self, work

    def __call__(self) -> T:
        self._thread.join()
        if self._error is not None:
            try:
                raise self._error
            finally:
                del self  # as in _run: the raised traceback holds this frame
        return self._result  # type: ignore[return-value]
