"""bf16 passages embedded in a torch worker process: same vectors, bounded, gone before finishing (issue 13)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.article import read_article
from retrieval.embed_worker import WorkerEmbedder, export_in_worker
from retrieval.embedding import SentenceTransformerEmbedder
from retrieval.errors import UsruError
from tests.conftest import SEEDS

pytestmark = pytest.mark.model


def _texts() -> list[str]:
    texts = [read_article(p).text[:600] for p in sorted(SEEDS.iterdir())[:4] if p.is_file()]
    return [*texts, "Да, это по-русски.", "word " * 400, "\u0000 and \u2028 and emoji \U0001f600"]


def _signal_mid_batch(worker: WorkerEmbedder, sig: int, message: str) -> None:
    """Send the worker `sig` one second into a batch that takes it many seconds; expect `message`."""
    worker.embed_documents(["Putin met Trump in Helsinki."])
    proc = worker._proc
    assert proc is not None
    timer = threading.Timer(1.0, os.kill, (proc.pid, sig))
    timer.start()
    with pytest.raises(UsruError, match=message):
        worker.embed_documents([f"Sentence {i} about sanctions and talks. " * 20 for i in range(3000)])
    timer.join()


def test_the_worker_gives_the_in_process_vectors_and_is_replaced_past_its_bound() -> None:
    texts = _texts()
    # bf16 rounding depends on a batch's padded length, so each call is matched against the same call.
    in_process = SentenceTransformerEmbedder("", bf16=True)
    expected, head, tail = (in_process.embed_documents(t) for t in (texts, texts[:3], texts[3:]))
    worker = WorkerEmbedder("")
    try:
        assert np.array_equal(worker.embed_documents(texts), expected)
        assert worker.starts == 1 and worker.name == in_process.name and worker.dim == 384
        first = worker._proc
        assert first is not None and first.poll() is None  # kept between batches while small
        worker.restart_mib = 1  # every worker is past this bound after its first batch
        assert np.array_equal(worker.embed_documents(texts[:3]), head)
        assert first.poll() is not None and worker._proc is None
        assert np.array_equal(worker.embed_documents(texts[3:]), tail)
        assert worker.starts == 2
    finally:
        worker.close()
    assert worker._proc is None


def test_a_worker_killed_mid_batch_is_one_sentence_and_the_next_batch_gets_a_new_one() -> None:
    worker = WorkerEmbedder("")
    try:
        # Killed (as the OOM killer would) while it embeds a batch that takes it many seconds.
        _signal_mid_batch(worker, signal.SIGKILL, r"^The embedding worker stopped \(exit status -9\)\.$")
        assert worker._proc is None
        assert worker.embed_documents(["And again."]).shape == (1, 384) and worker.starts == 2
    finally:
        worker.close()


def test_a_model_the_worker_cannot_load_is_its_sentence(tmp_path: Path) -> None:
    worker = WorkerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(UsruError, match="Cannot load the embedding model"):
        worker.embed_documents(["Putin met Trump in Helsinki."])
    assert worker._proc is None


def test_a_bf16_index_run_never_loads_torch_and_leaves_no_worker(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from bot.cli import main\n"
        f"args = ['index', '--sources', {str(SEEDS)!r}, '--index-dir', {str(tmp_path / 'idx')!r}]\n"
        "rc = main(args)\n"
        # A damaged export is made again by a child too, not by loading torch here (a19).
        f"model = next(({str(tmp_path / 'idx')!r} / __import__('pathlib').Path('onnx')).rglob('model.onnx'))\n"
        "model.write_bytes(model.read_bytes()[:1000])\n"
        "rc += main(args + ['--rebuild'])\n"
        "kids = [c for t in os.listdir('/proc/self/task') for c in open(f'/proc/self/task/{t}/children').read().split()]\n"
        "print(rc, 'torch' in sys.modules, len(kids))\n"
    )
    env = dict(os.environ, USRU_EMBED_PRECISION="bf16", HF_HUB_OFFLINE="1")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, timeout=600
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split()[-3:] == ["0", "False", "0"], done.stdout[-500:]
    assert "5 embedded" in done.stdout


def test_a_retrieval_folder_where_usru_runs_is_not_run_as_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "retrieval"
    planted.mkdir()
    (planted / "__init__.py").write_text("", "utf-8")
    marker = tmp_path / "ran"
    (planted / "embed_worker.py").write_text(f"open({str(marker)!r}, 'w').close()\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    worker = WorkerEmbedder("")
    try:
        assert worker.embed_documents(["Putin met Trump in Helsinki."]).shape == (1, 384)
    finally:
        worker.close()
    assert export_in_worker("", tmp_path / "export")
    assert not marker.exists()


def test_a_crashed_worker_says_why() -> None:
    worker = WorkerEmbedder("")
    try:
        worker.embed_documents(["Putin met Trump in Helsinki."])
        # The tokenizer cannot take a lone surrogate: the worker dies with a TypeError on its stderr,
        # whose last line the sentence now carries (it was read after its file was closed, a19).
        with pytest.raises(UsruError, match=r"^The embedding worker stopped \(exit status 1\): TypeError: "):
            worker.embed_documents(["lone \ud800"])
    finally:
        worker.close()


def test_an_interrupted_worker_says_so() -> None:
    worker = WorkerEmbedder("")
    try:
        _signal_mid_batch(worker, signal.SIGINT, r"^The embedding worker was interrupted\.$")
    finally:
        worker.close()


def test_what_a_library_prints_does_not_break_the_pipes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user's sitecustomize printed into the protocol (stdout) and indexing failed after a 10 s stall (a19).
    (tmp_path / "sitecustomize.py").write_text("print('hello from sitecustomize')\n", "utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    worker = WorkerEmbedder("")
    try:
        assert worker.embed_documents(["Putin met Trump in Helsinki."]).shape == (1, 384)
    finally:
        worker.close()


def test_a_worker_whose_indexer_was_killed_exits(tmp_path: Path) -> None:
    code = (
        "import sys, time\n"
        "from retrieval.embed_worker import WorkerEmbedder\n"
        "w = WorkerEmbedder('')\n"
        "w.embed_documents(['Putin met Trump in Helsinki.'])\n"
        "print(w._proc.pid, flush=True)\n"
        "w.embed_documents([f'Sentence {i} about sanctions and talks. ' * 20 for i in range(3000)])\n"
    )
    root = Path(__file__).resolve().parents[2]
    indexer = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=root, env=dict(os.environ)
    )
    assert indexer.stdout is not None
    worker_pid = int(indexer.stdout.readline())
    time.sleep(1.0)  # the worker is in the middle of the long batch
    indexer.kill()
    indexer.wait()
    indexer.stdout.close()
    # It exits within a second or so instead of finishing its batch (or, as an exporter, writing on).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{worker_pid}").exists():
        status = (
            Path(f"/proc/{worker_pid}/status").read_text() if Path(f"/proc/{worker_pid}").exists() else ""
        )
        if "State:\tZ" in status:
            break
        time.sleep(0.1)
    status = Path(f"/proc/{worker_pid}/status").read_text() if Path(f"/proc/{worker_pid}").exists() else ""
    assert not status or "State:\tZ" in status, status[:200]
