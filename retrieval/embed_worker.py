"""Passages embedded by torch in a child process, so that the indexer itself never holds torch (issue 13).

Torch's libraries, model and freed-but-kept heap made up most of a bf16 indexer's memory: after the
last batch of the whole AllSides corpus it held ~1.5 GiB, and the finishing steps (compaction, IVF,
loading the new version) came on top of that, to a 2.95 GiB peak. A child's memory leaves with it: the
indexer stops the worker once the articles are embedded, and restarts it between batches when it has
grown past `RESTART_MIB`.

The worker talks over two pipes of its own (not stdin/stdout, where a library or a user's
sitecustomize may print) and they carry bytes only, never pickles: length-prefixed UTF-8 texts one
way, float32 rows the other. A worker whose indexer is gone exits within a second.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import IO, BinaryIO, NoReturn

import numpy as np

from retrieval.embedding import Vectors
from retrieval.errors import UsruError

# A worker whose resident size passed this after a batch is replaced before the next one. Torch and the
# model take ~510 MiB; a batch's activations and glibc's kept heap grow it from there.
RESTART_MIB = 1024
# How much of the worker's last complaint a user is shown.
REASON_CHARS = 300
# How long a worker told to stop may take before it is killed.
STOP_S = 10
_READY, _VECTORS, _FAILED, _EMBED = b"R", b"V", b"X", b"E"
_U32 = struct.Struct("<I")
_REPLY = struct.Struct("<IIQ")  # rows, dim, the worker's resident KiB


class _Worker:
    """One running worker: the process, its two pipes and the file its complaints go to."""

    def __init__(self, model: str) -> None:
        # The temporary file outlives this call: it is the worker's stderr, closed in stop().
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115
        to_child, to_us = os.pipe(), os.pipe()
        child_fds = (to_child[0], to_us[1])
        try:
            self.proc = subprocess.Popen(
                _command("--fds", f"{child_fds[0]},{child_fds[1]}", model),
                stdin=subprocess.DEVNULL,
                stdout=self.errors,
                stderr=self.errors,
                pass_fds=child_fds,
                env=_child_env(),
            )
        except BaseException:
            os.close(to_child[1])
            os.close(to_us[0])
            self.errors.close()
            raise
        finally:
            for fd in child_fds:  # the child's ends are the child's alone
                os.close(fd)
        self.requests: BinaryIO = os.fdopen(to_child[1], "wb")
        self.replies: BinaryIO = os.fdopen(to_us[0], "rb")

    def stop(self, *, quiet: bool = False) -> None:
        """End of input tells the worker to exit; one that does not go within STOP_S is killed."""
        try:
            with contextlib.suppress(OSError):  # a dead worker's pipe
                self.requests.close()
            self.proc.wait(timeout=STOP_S)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            self.proc.kill()
            self.proc.wait()
            # A second Ctrl-C at exit (the finaliser) is not a traceback; anywhere else it still interrupts.
            if isinstance(exc, KeyboardInterrupt) and not quiet:
                raise
        finally:
            self.replies.close()
            self.errors.close()

    def reason(self) -> str:
        """The worker's end as one sentence: its exit status and the last line it wrote (before stop())."""
        try:
            code = self.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        if code == -signal.SIGINT:
            return "The embedding worker was interrupted."
        last = ""
        try:
            self.errors.seek(0)
            lines = [
                x.strip() for x in self.errors.read().decode("utf-8", "replace").splitlines() if x.strip()
            ]
            last = lines[-1][:REASON_CHARS] if lines else ""
        except (OSError, ValueError):
            pass
        return f"The embedding worker stopped (exit status {code}){': ' + last if last else ''}."


class WorkerEmbedder:
    """Embeds passages through `python -m retrieval.embed_worker` (started when first needed)."""

    def __init__(self, model: str, *, restart_mib: int = RESTART_MIB) -> None:
        from retrieval.embedding import embedder_id
        from retrieval.onnx_precision import BF16, precise_name

        self.model = model
        self.name = precise_name(embedder_id(model), BF16)  # as the in-process bf16 model names itself
        self.restart_mib = restart_mib
        self.starts = 0  # how many workers were started (tests, benchmarks)
        self.dim = 0
        self._worker: _Worker | None = None
        self._lock = threading.Lock()
        self._closer = weakref.finalize(self, _stop_quietly, [None])

    @property
    def _proc(self) -> subprocess.Popen[bytes] | None:
        """The running worker's process, if any (tests)."""
        return None if self._worker is None else self._worker.proc

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages in the worker; a worker grown past its bound is replaced afterwards."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            worker = self._running()
            parts = [_EMBED, _U32.pack(len(texts))]
            for text in texts:
                raw = text.encode("utf-8", "surrogatepass")
                parts += [_U32.pack(len(raw)), raw]
            try:
                worker.requests.write(b"".join(parts))
                worker.requests.flush()
            except OSError:
                self._fail(worker)
            kind = self._take(worker, 1)
            if kind == _FAILED:
                message = self._message(worker)
                # RuntimeError, as torch raised it in-process: Bf16Embedder words a missing bf16 kernel.
                raise RuntimeError(message)
            if kind != _VECTORS:
                self._fail(worker)
            rows, dim, rss_kib = _REPLY.unpack(self._take(worker, _REPLY.size))
            if rows != len(texts) or dim != self.dim:
                self._fail(worker)
            data = self._take(worker, rows * dim * 4)
            if rss_kib > self.restart_mib * 1024:
                self._stop()
            return np.frombuffer(data, dtype="<f4").reshape(rows, dim).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        """Embed one text as a (dim,) vector (a question, where torch answers them too)."""
        vec: Vectors = self.embed_documents([text])[0]
        return vec

    def close(self) -> None:
        """Stop the worker (it is started again if more passages come)."""
        with self._lock:
            self._stop()

    def _running(self) -> _Worker:
        if self._worker is not None and self._worker.proc.poll() is None:
            return self._worker
        self._stop()
        worker = _Worker(self.model)
        self._worker = worker
        self._closer.detach()
        self._closer = weakref.finalize(self, _stop_quietly, [worker])
        self.starts += 1
        kind = self._take(worker, 1)
        if kind == _FAILED:
            # Already one sentence (a model that cannot load offline): the child raised a UsruError.
            raise UsruError(self._message(worker))
        if kind != _READY:
            self._fail(worker)
        (dim,) = _U32.unpack(self._take(worker, 4))
        self.dim = int(dim)
        return worker

    def _take(self, worker: _Worker, n: int) -> bytes:
        """Exactly n bytes from the worker, or its end as one sentence."""
        chunks, left = [], n
        while left:
            got = worker.replies.read(left)
            if not got:
                self._fail(worker)
            chunks.append(got)
            left -= len(got)
        return b"".join(chunks)

    def _message(self, worker: _Worker) -> str:
        """The one-sentence failure the worker sent before exiting; the worker is then stopped."""
        head = worker.replies.read(4)
        message = "The embedding worker failed without saying why."
        if len(head) == 4:
            message = worker.replies.read(_U32.unpack(head)[0]).decode("utf-8", "replace") or message
        self._stop()
        return message

    def _fail(self, worker: _Worker) -> NoReturn:
        """The worker died or spoke out of turn: one sentence with its exit status and last complaint."""
        with contextlib.suppress(OSError):
            worker.requests.close()  # a live worker exits at end of input
        reason = worker.reason()  # read before _stop closes the file it is in
        self._stop()
        raise UsruError(reason)

    def _stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()


def _stop_quietly(holder: list[_Worker | None]) -> None:
    """At exit or when the embedder is collected: stop a worker still running."""
    worker = holder[0]
    if worker is not None and not worker.replies.closed:
        worker.stop(quiet=True)


def _command(*args: str) -> list[str]:
    # -P: the working folder is not put on the child's path, so a "retrieval" folder where usru is run
    # cannot stand in for this package (it ran a planted retrieval/embed_worker.py).
    return [sys.executable, "-P", "-m", "retrieval.embed_worker", *args]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # From a source checkout as from an installed wheel, the child imports this same package.
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def export_in_worker(model: str, folder: Path) -> bool:
    """Write the model's ONNX export from a child process; False if it could not (the caller falls back).

    The export needs torch; done in this process, torch's ~500 MiB would stay for the whole bf16 run.
    """
    done = subprocess.run(
        _command("--export", str(folder), model),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_child_env(),
        check=False,
    )
    return done.returncode == 0 and (folder / "meta.json").is_file()


def _resident_kib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _send(out: IO[bytes], *parts: bytes) -> None:
    out.write(b"".join(parts))
    out.flush()


def _send_failure(out: IO[bytes], message: str) -> None:
    raw = message.encode("utf-8", "replace")
    _send(out, _FAILED, _U32.pack(len(raw)), raw)


def serve(model: str, inp: IO[bytes], out: IO[bytes]) -> int:
    """The child's loop: load the model at bf16, then embed each batch asked for until end of input."""
    from retrieval.bf16_embedding import release_freed_memory
    from retrieval.embedding import SentenceTransformerEmbedder

    try:
        embedder = SentenceTransformerEmbedder(model, bf16=True)
    except UsruError as exc:
        _send_failure(out, str(exc))
        return 2
    _send(out, _READY, _U32.pack(embedder.dim))
    while True:
        kind = inp.read(1)
        if not kind:
            return 0
        if kind != _EMBED:
            return 3
        (count,) = _U32.unpack(_exact(inp, 4))
        texts = []
        for _ in range(count):
            (size,) = _U32.unpack(_exact(inp, 4))
            texts.append(_exact(inp, size).decode("utf-8", "surrogatepass"))
        try:
            vecs = embedder.embed_documents(texts)
        except RuntimeError as exc:
            _send_failure(out, str(exc))
            return 4
        release_freed_memory()
        data = np.ascontiguousarray(vecs, dtype="<f4")
        _send(out, _VECTORS, _REPLY.pack(data.shape[0], data.shape[1], _resident_kib()), data.tobytes())


def _exact(inp: IO[bytes], n: int) -> bytes:
    data = inp.read(n)
    if len(data) != n:
        raise SystemExit(3)  # the indexer went away mid-request
    return data


def _export(folder: Path, model: str) -> int:
    from retrieval.embedding import SentenceTransformerEmbedder
    from retrieval.onnx_embedding import export_onnx

    embedder = SentenceTransformerEmbedder(model)
    export_onnx(embedder._model, embedder.name, folder)
    return 0


def _exit_with_parent() -> None:
    """Exit as soon as the indexer is gone: a killed indexer's worker must not go on writing (a19)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """`python -m retrieval.embed_worker --fds IN,OUT MODEL` serves bf16 passage vectors over those pipes;
    `--export FOLDER MODEL` writes the model's ONNX export."""
    args = sys.argv[1:] if argv is None else argv
    _exit_with_parent()
    if args[:1] == ["--export"] and len(args) == 3:
        return _export(Path(args[1]), args[2])
    if args[:1] != ["--fds"] or len(args) != 3:
        print(
            "usage: python -m retrieval.embed_worker --fds IN,OUT MODEL | --export FOLDER MODEL",
            file=sys.stderr,
        )
        return 2
    fd_in, fd_out = (int(x) for x in args[1].split(","))
    with os.fdopen(fd_in, "rb") as inp, os.fdopen(fd_out, "wb") as out:
        return serve(args[2], inp, out)


if __name__ == "__main__":
    sys.exit(main())
