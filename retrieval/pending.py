"""Work started in a thread and waited for where its result is needed.

An answer's steps that release the GIL (onnxruntime's run, FAISS's search, numpy's scans) can run beside
Python work that does not need their result: on a machine with a free core the answer then waits for the
longer of the two only (issue 13). Loading runs the model's session beside the index, and a Russian
question's sound index is read in the background.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def run_in_thread(work: Callable[[], T], name: str, *, daemon: bool) -> Future[T]:
    """Run `work` in a thread; its result (or error, raised to whoever waits) in the future.

    A daemon is not waited for by an exit or Ctrl-C (a ThreadPoolExecutor's worker is joined at exit): for
    long work whose result may never be wanted. Not a daemon for work inside onnxruntime: an interpreter
    that exits while a thread is in it aborts the process, so exiting waits for the milliseconds it has left.
    """
    future: Future[T] = Future()
    threading.Thread(target=_run, args=(future, work), name=name, daemon=daemon).start()
    return future


def _run(future: Future[T], work: Callable[[], T]) -> None:
    try:
        result = work()
    except BaseException as error:
        future.set_exception(error)
        # The error's traceback holds this frame: without these locals it holds neither the future (which holds
        # the error: a cycle) nor the work (whose closure holds an index version), as concurrent.futures' own
        # workers do (a25).
        del future, work
    else:
        future.set_result(result)
