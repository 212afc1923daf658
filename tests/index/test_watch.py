"""`usru index --watch` and the bot's watcher: re-index after bursts of arriving, changed and deleted articles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.errors import SourcesError
from retrieval.index import IndexSummary, build_index, current_version, index_lock, load_index
from retrieval.service import build_service
from retrieval.settings import Settings
from retrieval.watch import describe_changes, is_article_path, watch_sources
from tests.conftest import SEED_NAMES, copy_seeds
from tests.support.telegram import running_bot

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


DEBOUNCE_S = 0.5
BOUND_S = 20.0  # generous: CI machines are slow, and a pass normally takes about a second


def article(n: int | str) -> str:
    return (
        f"---\ntitle: Envoys meet, round {n}\npublisher: Test Wire\ndate: 2024-05-0{int(str(n)[-1]) % 9 + 1}\n---\n"
        f"American and Russian envoys met in Geneva for round {n} of talks on arms control, officials said.\n"
    )


class Watcher:
    """watch_sources running in a thread over a private corpus, recording every summary and error."""

    def __init__(self, sources: Path, index_dir: Path) -> None:
        self.sources, self.index_dir = sources, index_dir
        self.summaries: list[IndexSummary] = []
        self.errors: list[Exception] = []
        self.stop = threading.Event()

        def reindex(paths: list[Path] | None) -> IndexSummary:
            return build_index(sources, index_dir, HashingEmbedder(), wait=True, paths=paths)

        self.thread = threading.Thread(
            target=watch_sources,
            args=(sources, index_dir, reindex),
            kwargs={
                "stop": self.stop,
                "on_summary": self.summaries.append,
                "on_error": self.errors.append,
                "debounce_s": DEBOUNCE_S,
            },
            daemon=True,
        )
        self.thread.start()
        self.wait_for(lambda: len(self.summaries) >= 1, "the initial index")

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = BOUND_S) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.thread.is_alive(), "the watcher thread died"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    def next_summary(self, after: int, what: str) -> IndexSummary:
        self.wait_for(lambda: len(self.summaries) > after, what)
        return self.summaries[after]

    def quiet(self, seconds: float = 3 * DEBOUNCE_S) -> None:
        """Let any pending burst settle."""
        time.sleep(seconds)

    def sources_indexed(self) -> list[str]:
        return [a.source for a in load_index(self.index_dir).articles]


@pytest.fixture
def watcher(corpus: Path, tmp_path: Path) -> Iterator[Watcher]:
    w = Watcher(corpus, tmp_path / "idx")
    try:
        yield w
    finally:
        w.stop.set()
        w.thread.join(10)


def test_a_dropped_file_appears_in_a_new_version(watcher: Watcher) -> None:
    initial = watcher.summaries[0]
    assert initial.new == SEED_NAMES and current_version(watcher.index_dir) == initial.version
    n = len(watcher.summaries)
    (watcher.sources / "arrived.txt").write_text(article(1), encoding="utf-8")
    summary = watcher.next_summary(n, "the dropped file to be indexed")
    assert summary.new == ["arrived.txt"] and summary.version != initial.version
    assert current_version(watcher.index_dir) == summary.version
    assert "arrived.txt" in watcher.sources_indexed()


def test_a_burst_of_five_files_gives_one_or_two_rebuilds(watcher: Watcher) -> None:
    n = len(watcher.summaries)
    names = [f"burst{i}.txt" for i in range(5)]
    for i, name in enumerate(names):
        (watcher.sources / name).write_text(article(i), encoding="utf-8")
        time.sleep(0.05)
    watcher.wait_for(lambda: set(names) <= set(watcher.sources_indexed()), "all five files to be indexed")
    watcher.quiet()
    rebuilds = watcher.summaries[n:]
    assert 1 <= len(rebuilds) <= 2, [s.new for s in rebuilds]
    assert sorted(x for s in rebuilds for x in s.new) == names


def test_deleting_changing_and_moving_files(watcher: Watcher) -> None:
    n = len(watcher.summaries)
    (watcher.sources / SEED_NAMES[0]).unlink()
    summary = watcher.next_summary(n, "the deletion")
    assert summary.removed == [SEED_NAMES[0]] and SEED_NAMES[0] not in watcher.sources_indexed()

    n = len(watcher.summaries)
    with (watcher.sources / SEED_NAMES[1]).open("a", encoding="utf-8") as f:
        f.write("\nA late paragraph added to the story: the envoys will meet again in Vienna next week.\n")
    assert watcher.next_summary(n, "the change").changed == [SEED_NAMES[1]]

    n = len(watcher.summaries)
    (watcher.sources / "sub").mkdir()
    os.replace(watcher.sources / SEED_NAMES[2], watcher.sources / "sub" / "moved.txt")
    watcher.wait_for(lambda: "sub/moved.txt" in watcher.sources_indexed(), "the move")
    watcher.quiet()
    moved = (
        [x for s in watcher.summaries[n:] for x in s.new],
        [x for s in watcher.summaries[n:] for x in s.removed],
    )
    assert moved == (["sub/moved.txt"], [SEED_NAMES[2]])


def test_a_folder_of_articles_moved_in_is_indexed(watcher: Watcher, tmp_path: Path) -> None:
    outside = tmp_path / "incoming"
    outside.mkdir()
    (outside / "a.txt").write_text(article(3), encoding="utf-8")
    os.replace(outside, watcher.sources / "incoming")
    watcher.wait_for(lambda: "incoming/a.txt" in watcher.sources_indexed(), "the moved-in folder")


def test_hidden_temporary_and_other_files_do_not_trigger_a_rebuild(watcher: Watcher) -> None:
    n = len(watcher.summaries)
    (watcher.sources / ".draft.txt").write_text(article(4), encoding="utf-8")
    (watcher.sources / "draft.txt~").write_text(article(5), encoding="utf-8")
    (watcher.sources / "~$draft.txt").write_text(article(6), encoding="utf-8")
    (watcher.sources / "notes.pdf").write_bytes(b"%PDF-1.4")
    (watcher.sources / ".git").mkdir()
    (watcher.sources / ".git" / "x.txt").write_text(article(7), encoding="utf-8")
    watcher.quiet()
    assert len(watcher.summaries) == n


def test_the_watcher_waits_for_another_indexer_holding_the_lock(watcher: Watcher) -> None:
    n = len(watcher.summaries)
    with index_lock(watcher.index_dir):
        (watcher.sources / "while-locked.txt").write_text(article(8), encoding="utf-8")
        watcher.quiet()
        assert len(watcher.summaries) == n and watcher.errors == []
    summary = watcher.next_summary(n, "the re-index after the lock is released")
    assert summary.new == ["while-locked.txt"]


def test_an_error_is_reported_and_watching_goes_on(watcher: Watcher) -> None:
    for name in SEED_NAMES:
        (watcher.sources / name).unlink()
    watcher.wait_for(lambda: watcher.errors, "the error for an empty folder")
    assert isinstance(watcher.errors[0], SourcesError)
    assert len(watcher.sources_indexed()) == 5, "the live version is kept"
    n = len(watcher.summaries)
    (watcher.sources / "fresh.txt").write_text(article(9), encoding="utf-8")
    summary = watcher.next_summary(n, "the re-index after the error")
    assert summary.new == ["fresh.txt"] and watcher.sources_indexed() == ["fresh.txt"]


def test_every_summary_lists_the_bad_files_still_in_the_folder(corpus: Path, tmp_path: Path) -> None:
    # A re-index reads only the changed files; its summary said "Skipped 0 files" beside bad ones.
    (corpus / "bad1.txt").write_bytes(b"bad\x00file\n")
    w = Watcher(corpus, tmp_path / "idx")
    try:
        assert [s for s, _ in w.summaries[0].skipped] == ["bad1.txt"]
        n = len(w.summaries)
        (corpus / "good.txt").write_text(article(1), encoding="utf-8")
        summary = w.next_summary(n, "the good file")
        assert summary.new == ["good.txt"]
        assert summary.skipped == [("bad1.txt", "binary file (contains NUL bytes)")]
        n = len(w.summaries)
        (corpus / "bad2.txt").write_bytes(b"bad\x00file\n")
        assert [s for s, _ in w.next_summary(n, "the bad file").skipped] == ["bad1.txt", "bad2.txt"]
        n = len(w.summaries)
        (corpus / "bad1.txt").unlink()
        (corpus / "good2.txt").write_text(article(2), encoding="utf-8")
        w.wait_for(lambda: "good2.txt" in w.sources_indexed(), "the second good file")
        w.quiet()
        assert [s for s, _ in w.summaries[-1].skipped] == ["bad2.txt"]
    finally:
        w.stop.set()
        w.thread.join(10)


def test_setting_the_stop_event_ends_the_thread(corpus: Path, tmp_path: Path) -> None:
    w = Watcher(corpus, tmp_path / "idx")
    started = time.monotonic()
    w.stop.set()
    w.thread.join(5)
    assert not w.thread.is_alive() and time.monotonic() - started < 5


def test_a_missing_sources_folder_is_a_sources_error(tmp_path: Path) -> None:
    with pytest.raises(SourcesError):
        watch_sources(
            tmp_path / "nope",
            tmp_path / "idx",
            lambda paths: pytest.fail("must not index"),
            stop=threading.Event(),
            on_summary=lambda s: None,
        )


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("a.txt", True),
        ("sub/b.MD", True),
        ("c.html", True),
        ("d.htm", True),
        ("e.pdf", False),
        (".hidden.txt", False),
        (".git/f.txt", False),
        ("g.txt~", False),
        ("~$h.txt", False),
        (".#i.txt", False),
        ("idx/versions/j.txt", False),
    ],
)
def test_which_paths_count_as_articles(tmp_path: Path, rel: str, expected: bool) -> None:
    assert is_article_path(tmp_path / rel, tmp_path, tmp_path / "idx") is expected


def test_describe_changes_format() -> None:
    summary = IndexSummary("v000007", 3, 9, 20, 0.1, 1, 2, new=["a", "b"], changed=["c"], removed=[])
    assert describe_changes(summary) == "2 new, 1 changed, 0 removed articles; index version v000007"


# ---------------------------------------------------------------------------- usru index --watch


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child before exec: SIGINT handled by default and not blocked."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _signal_state(pid: int) -> str:
    """The process's ignored, blocked and pending signal masks (Linux), for a failure message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"{pid}: {exc}"
    return f"{pid}: " + " ".join(
        x for x in lines if x.startswith(("SigIgn", "SigBlk", "SigPnd", "ShdPnd", "State"))
    )


def test_usru_index_watch_indexes_arrivals_and_stops_cleanly_on_ctrl_c(corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USRU_") and k != "EMBEDDING_MODEL"}
    env.update(
        EMBEDDING_MODEL="hashing",
        USRU_SOURCES=str(corpus),
        USRU_INDEX_DIR=str(tmp_path / "idx"),
        PYTHONUNBUFFERED="1",
    )
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "index", "--watch"],
            stdout=out,
            stderr=err,
            env=env,
            cwd=tmp_path,
            # As from a terminal: a child inherits ignored and blocked signals, and a test run from a
            # background job (or a runner that masks SIGINT) would otherwise test a process that cannot
            # see Ctrl-C at all.
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        try:

            def wait_output(fragment: str) -> None:
                deadline = time.monotonic() + BOUND_S * 2
                while fragment not in out_path.read_text():
                    assert proc.poll() is None, err_path.read_text()
                    assert time.monotonic() < deadline, f"no {fragment!r} in: {out_path.read_text()}"
                    time.sleep(0.1)

            wait_output("5 new, 0 changed, 0 removed")
            (corpus / "arrived.txt").write_text(article(1), encoding="utf-8")
            wait_output("1 new, 0 changed, 0 removed")
            proc.send_signal(signal.SIGINT)
            # A hang guard, not a speed goal: Ctrl-C lets a re-index already under way finish (the
            # watcher's close joins it). Two clean-clone CI runs of the whole suite saw no stop at all
            # (no "Stopping the watcher" line); the signal state of both sides goes into the message.
            try:
                code = proc.wait(BOUND_S * 4)
            except subprocess.TimeoutExpired:
                code = None
            assert code == 0, (err_path.read_text(), _signal_state(proc.pid), _signal_state(os.getpid()))
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "Watching" in err_path.read_text() and "Traceback" not in err_path.read_text()
    # The notice before a re-index must not contradict its summary ("1 changed" then "1 new, 0 changed").
    assert "Noticed 1 file" in err_path.read_text() and "changed:" not in err_path.read_text()


# ---------------------------------------------------------------------------- the bot (TELEGRAM_WATCH)


async def test_the_bot_tells_admins_when_the_watcher_indexes_a_dropped_file(
    fake_bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    api = fake_bot_api
    settings = Settings(
        _env_file=None,
        sources=copy_seeds(tmp_path / "sources"),
        index_dir=tmp_path / "idx",
        embedding_model="hashing",
    )
    service = build_service(settings)
    old = service.stats().version
    async with running_bot(
        api, service, settings, watch=True, watch_debounce_s=0.3, admins=["999", "@boss"]
    ) as app:
        usru = app.bot_data["usru"]
        assert usru.watcher is not None
        (settings.sources / "arrived.txt").write_text(article(2), encoding="utf-8")
        sent = await api.wait_for(lambda: api.sent(999), BOUND_S, "the admin's notification")
        new = service.stats().version
        assert new != old
        assert sent[0].text == f"1 new, 0 changed, 0 removed articles; index version {new}"
        assert "arrived.txt" in {a.source for a in service.list_articles()}
        # Only admins hear about it; a non-admin chat gets nothing.
        assert api.sent(111) == []
        thread = usru.watcher[0]
    assert not thread.is_alive(), "shutting the bot down stops the watcher"


def test_the_watcher_tells_the_indexer_which_files_changed(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    calls: list[list[Path] | None] = []
    done = threading.Event()

    def reindex(paths: list[Path] | None) -> IndexSummary:
        calls.append(paths)
        summary = build_index(corpus, index_dir, HashingEmbedder(), wait=True, paths=paths)
        if paths:
            done.set()
        return summary

    stop = threading.Event()
    thread = threading.Thread(
        target=watch_sources,
        args=(corpus, index_dir, reindex),
        kwargs={"stop": stop, "on_summary": lambda s: None, "debounce_s": 0.3},
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        (corpus / "arrived.txt").write_text(article(3), encoding="utf-8")
        assert done.wait(15), "no targeted re-index happened"
    finally:
        stop.set()
        thread.join(10)
    assert calls[0] is None  # the first run scans the folder
    assert calls[-1] == [corpus / "arrived.txt"]
    assert "arrived.txt" in {a.source for a in load_index(index_dir).articles}
