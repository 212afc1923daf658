"""Work run in a thread and waited for where its result is needed (retrieval/pending.py)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future

import pytest

from retrieval.pending import run_in_thread


class Version:
    """Stands for an index version: what a failed search must not keep alive."""


def search(version: Version) -> int:
    raise ConnectionError("the database went away")


def start(work: Callable[[Version], int]) -> tuple[Future[int], weakref.ref[Version]]:
    """The work on a new version, in a thread (its closure holds the version as a search's lambda does), and
    a weak reference to the version, which nothing else holds."""
    version = Version()
    return run_in_thread(lambda: work(version), "usru-test", daemon=False), weakref.ref(version)


def test_the_result_is_the_work_s_and_comes_from_another_thread() -> None:
    names: list[str] = []
    pending = run_in_thread(
        lambda: names.append(threading.current_thread().name) or 42, "usru-test", daemon=False
    )
    assert pending.result() == 42 and pending.result() == 42
    assert names == ["usru-test"]


@pytest.mark.usefixtures("no_cycle_collector")
def test_a_failed_call_raises_each_time_and_keeps_nothing_it_read() -> None:
    """A failed search held its index version in a cycle until the collector ran (a25)."""
    pending, held = start(search)
    for _ in range(2):
        with pytest.raises(ConnectionError, match="went away"):
            pending.result()
    del pending
    assert held() is None  # by reference counting alone


@pytest.mark.usefixtures("no_cycle_collector")
def test_a_finished_call_keeps_nothing_it_read() -> None:
    pending, held = start(id)
    assert pending.result()
    assert held() is None  # the pending call itself still lives
