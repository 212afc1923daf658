"""Hardening (issue 7): re-indexing that fails half-way, because the disk is full or the index folder
is not writable. kill -9 at every step is tests/index/test_crash_safety.py; these failures are reported.

Each case checks that the version live before the failure is still served, that `usru index` says
what happened in one sentence (status 2, no traceback) and that a bot admin's /reindex says so too.
"""

from __future__ import annotations

import errno
import io
import os
import re
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from bot.cli import main as usru_main
from retrieval.errors import UsruError
from retrieval.index import current_version, durability, load_index
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.index.test_crash_safety import (
    FIRST_LIVE_STEP,
    NEW_ARTICLE,
    NEW_NAME,
    NEW_QUESTION,
    OLD_QUESTION,
    STEPS,
)
from tests.support.telegram import QUESTION, answers_in, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


# Every point where the indexer has just written a file and the new version is not yet live.
WRITE_STEPS = [s for s in STEPS[:FIRST_LIVE_STEP] if s not in ("read", "embedded")]


def disk_full_at(step: str) -> Callable[[str], None]:
    """A stand-in for durability.checkpoint that fails like a write to a full disk at `step`."""

    def checkpoint(at: str) -> None:
        if at == step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return checkpoint


def leftovers(index_dir: Path) -> list[Path]:
    """Temporary folders and pointer files a failed run left behind."""
    return [p for p in index_dir.rglob("*") if p.name.startswith((".tmp", ".CURRENT"))]


# What a piped `usru index` prints as each stage ends (issue 13), before any error.
STAGE_SUMMARY = re.compile(r"[A-Z][a-z ]+: \d+ in [\d.]+ s, [\d.]+/s\.")


def error_of(stderr: str) -> str:
    """The error line of a failed run's stderr; every line before it must be a stage summary."""
    *stages, last = stderr.strip().splitlines() or [""]
    assert all(STAGE_SUMMARY.fullmatch(line) for line in stages), stderr
    return last + "\n"


def assert_one_sentence(text: str) -> None:
    """A message a person reads: one line, one sentence, no traceback."""
    assert "Traceback" not in text and "\n" not in text.strip(), text
    assert text.strip().endswith("."), text


def new_article_cited(service: AnsweringService) -> bool:
    """Whether the article added after the first build is what answers its question."""
    answer = service.answer(NEW_QUESTION)
    return any(c.source == NEW_NAME for c in answer.citations)


def assert_old_version_served(settings: Settings, service: AnsweringService, version: str | None) -> None:
    """The live version is the old one, for the running service and for a freshly started one."""
    assert current_version(settings.index_dir) == version
    load_index(settings.index_dir)
    for svc in (service, build_service(settings)):
        assert svc.index.version == version
        assert svc.answer(OLD_QUESTION).status == "answered"
        assert not new_article_cited(svc)


@pytest.fixture
def indexed(hashing_settings: Settings) -> tuple[Settings, AnsweringService, str]:
    """A service over a private copy of the seeds, then one new article waiting to be indexed."""
    service = build_service(hashing_settings)
    version = current_version(hashing_settings.index_dir)
    assert version is not None
    (hashing_settings.sources / NEW_NAME).write_text(NEW_ARTICLE, encoding="utf-8")
    return hashing_settings, service, version


@pytest.mark.parametrize("step", WRITE_STEPS)
def test_a_full_disk_at_any_write_keeps_the_old_version_live(
    step: str, indexed: tuple[Settings, AnsweringService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, service, version = indexed
    with monkeypatch.context() as patch:
        patch.setattr(durability, "checkpoint", disk_full_at(step))
        with pytest.raises(UsruError) as failure:
            service.reindex()
    message = str(failure.value)
    assert_one_sentence(message)
    assert "No space left on device" in message and version in message
    assert_old_version_served(settings, service, version)
    assert leftovers(settings.index_dir) == [], "the failed run's partial files were removed"
    # Once there is room again, the next run completes.
    summary = service.reindex()
    assert summary.new == [NEW_NAME] and new_article_cited(service)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`usru ...` in this process (so that faults can be patched in), with its exit status and output."""
    code = usru_main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_args(
    indexed: tuple[Settings, AnsweringService, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> list[str]:
    """`usru index` over the `indexed` folders with the hashing embedder; a developer's .env is not read."""
    settings = indexed[0]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    return ["index", "--sources", str(settings.sources), "--index-dir", str(settings.index_dir)]


def test_usru_index_on_a_full_disk_says_so_in_one_sentence(
    indexed: tuple[Settings, AnsweringService, str],
    cli_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, service, version = indexed
    monkeypatch.setattr(durability, "checkpoint", disk_full_at("wrote:articles.sqlite"))
    code, out, err = run_cli(cli_args, capsys)
    assert code == 2 and out == ""
    err = error_of(err)
    assert err.startswith("usru: ") and "No space left on device" in err
    assert_one_sentence(err)
    assert_old_version_served(settings, service, version)


def _limit_file_size() -> None:
    # Writes past 64 KiB fail with EFBIG, as on a full disk; ignoring SIGXFSZ keeps the process alive.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))


def test_usru_index_survives_real_failing_writes(
    indexed: tuple[Settings, AnsweringService, str], tmp_path: Path
) -> None:
    """No patching: the kernel refuses the writes, wherever in the indexer they happen to be."""
    settings, service, version = indexed
    # An article big enough that its segment's files outgrow the limit.
    paragraphs = [f"Paragraph {i}: {NEW_ARTICLE.splitlines()[4]}" for i in range(600)]
    (settings.sources / "901_long_report.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("USRU_", "EMBEDDING_"))}
    env.update(EMBEDDING_MODEL="hashing", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "index",
            "--sources",
            str(settings.sources),
            "--index-dir",
            str(settings.index_dir),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    # numpy reports a short write without its errno: the message says what failed and what is live.
    error = error_of(done.stderr)
    assert error.startswith("usru: Could not update the index"), done.stderr
    assert f"version {version} is still the one in use" in error
    assert_one_sentence(error)
    assert_old_version_served(settings, service, version)
    assert leftovers(settings.index_dir) == []


def test_a_faiss_index_that_cannot_be_written_raises(tmp_path: Path) -> None:
    """faiss.write_index only prints a failed close; the store must notice a truncated file."""
    script = (
        "import numpy as np, faiss\n"
        "from pathlib import Path\n"
        "from retrieval.index import write_faiss\n"
        "index = faiss.IndexFlatIP(64)\n"
        "index.add(np.ones((5000, 64), dtype='float32'))\n"
        "try:\n"
        f"    write_faiss(index, Path({str(tmp_path / 'chunks.faiss')!r}))\n"
        "except OSError as exc:\n"
        "    print('OSError', exc.errno)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_file_size,
    )
    assert done.stdout.strip() == f"OSError {errno.EFBIG}", (done.stdout, done.stderr)


def modes_are_obeyed(scratch: Path) -> bool:
    """Whether this process is refused a write by a folder's mode (root usually is not)."""
    probe = scratch / "mode-probe"
    probe.mkdir()
    probe.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        (probe / "x").write_text("x")
    except PermissionError:
        return True
    else:
        (probe / "x").unlink()
        return False
    finally:
        probe.chmod(stat.S_IRWXU)
        probe.rmdir()


@pytest.fixture
def read_only_index(indexed: tuple[Settings, AnsweringService, str]) -> Iterator[Path]:
    """The index folder made unwritable: chmod where modes are obeyed; where they are not (root, or
    CAP_DAC_OVERRIDE), every attempt to create or write a file or folder in it fails with EACCES."""
    index_dir = indexed[0].index_dir
    if modes_are_obeyed(index_dir.parent):
        modes = {p: p.stat().st_mode for p in [index_dir, *index_dir.rglob("*")]}
        for p, mode in modes.items():
            p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield index_dir
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    with pytest.MonkeyPatch.context() as patch:
        inside = str(index_dir.resolve())

        def denied(path: Any) -> bool:
            return isinstance(path, str | Path) and os.path.abspath(path).startswith(inside)

        def refuse(path: Any) -> OSError:
            return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

        real_open, real_os_open, real_mkdir = io.open, os.open, os.mkdir

        def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
            if denied(file) and any(c in mode for c in "wax+"):
                raise refuse(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if denied(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise refuse(path)
            return real_os_open(path, flags, *args, **kwargs)

        def guarded_mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
            if denied(path):
                raise refuse(path)
            real_mkdir(path, *args, **kwargs)

        patch.setattr(io, "open", guarded_open)
        patch.setattr("builtins.open", guarded_open)
        patch.setattr(os, "open", guarded_os_open)
        patch.setattr(os, "mkdir", guarded_mkdir)
        yield index_dir


def test_an_unwritable_index_folder_keeps_the_old_version_and_says_why(
    indexed: tuple[Settings, AnsweringService, str],
    read_only_index: Path,
    cli_args: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, service, version = indexed
    with pytest.raises(UsruError) as failure:
        service.reindex()
    assert_one_sentence(str(failure.value))
    assert "Permission denied" in str(failure.value)
    code, _, err = run_cli(cli_args, capsys)
    assert code == 2 and err.startswith("usru: ") and "Permission denied" in err
    assert_one_sentence(err)
    assert_old_version_served(settings, service, version)


async def test_reindex_in_the_bot_reports_a_full_disk_to_the_admin(
    fake_bot_api: FakeBotAPI,
    indexed: tuple[Settings, AnsweringService, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, (settings, service, version) = fake_bot_api, indexed
    monkeypatch.setattr(durability, "checkpoint", disk_full_at("wrote:chunks.faiss"))
    async with running_bot(api, service, settings, admins=["999"]):
        api.send_text("/reindex", user_id=999, username="boss")
        started, failed = await wait_sent(api, 999, 2)
        api.send_text(QUESTION, user_id=999, username="boss")
        await wait_sent(api, 999, 3)
    assert started.text == "Re-indexing the articles…"
    assert_one_sentence(failed.text)
    assert "No space left on device" in failed.text and version in failed.text
    assert len(answers_in(api, 999)) == 1, "questions are still answered, from the old version"
    assert service.index.version == version


class ExplodingService:
    """The real service, except that re-indexing fails with an error nobody anticipated."""

    def __init__(self, inner: AnsweringService) -> None:
        self.inner = inner

    def reindex(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Error in faiss::write_index: /secret/path/chunks.faiss")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_reindex_in_the_bot_reports_an_unexpected_failure_in_one_sentence(
    fake_bot_api: FakeBotAPI, indexed: tuple[Settings, AnsweringService, str]
) -> None:
    api, (settings, service, version) = fake_bot_api, indexed
    async with running_bot(api, ExplodingService(service), settings, admins=["999"]):
        api.send_text("/reindex", user_id=999, username="boss")
        _, failed = await wait_sent(api, 999, 2)
    assert_one_sentence(failed.text)
    assert "Re-indexing failed" in failed.text and version in failed.text
    assert "/secret/path" not in failed.text, "internal details stay in the log"
