"""Passages embedded by torch in a child process, so that the indexer itself never holds torch (issue 13).

Torch's libraries, model and freed-but-kept heap made up most of a bf16 indexer's memory: after the
last batch of the whole AllSides corpus it held ~1.5 GiB, and the finishing steps (compaction, IVF,
loading the new version) came on top of that, to a 2.95 GiB peak. A child's memory leaves with it: the
indexer stops the worker once the articles are embedded, and restarts it between batches when it has
grown past `RESTART_MIB`.

The pipes carry bytes only, never pickles: length-prefixed UTF-8 texts one way, float32 rows the other.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import IO, Any, BinaryIO, NoReturn

import numpy as np

from retrieval.embedding import Vectors
from retrieval.errors import UsruError

# A worker whose resident size passed this after a batch is replaced before the next one. Torch and the
# model take ~510 MiB; a batch's activations and glibc's kept heap grow it from there.
RESTART_MIB = 1024
# How much of the worker's last complaint a user is shown.
REASON_CHARS = 300
_READY, _VECTORS, _FAILED, _EMBED = b"R", b"V", b"X", b"E"
_U32 = struct.Struct("<I")
_REPLY = struct.Struct("<IIQ")  # rows, dim, the worker's resident KiB


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
        self._proc: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._lock = threading.Lock()
        self._closer = weakref.finalize(self, _stop, [None])

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages in the worker; a worker grown past its bound is replaced afterwards."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            proc = self._worker()
            assert proc.stdin is not None and proc.stdout is not None
            parts = [_EMBED, _U32.pack(len(texts))]
            for text in texts:
                raw = text.encode("utf-8", "surrogatepass")
                parts += [_U32.pack(len(raw)), raw]
            try:
                proc.stdin.write(b"".join(parts))
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._fail(proc)
            kind = self._take(proc, 1)
            if kind == _FAILED:
                message = _read_message(proc.stdout)
                self._stop()
                # RuntimeError, as torch raised it in-process: Bf16Embedder words a missing bf16 kernel.
                raise RuntimeError(message)
            if kind != _VECTORS:
                self._fail(proc)
            rows, dim, rss_kib = _REPLY.unpack(self._take(proc, _REPLY.size))
            if rows != len(texts) or dim != self.dim:
                self._fail(proc)
            data = self._take(proc, rows * dim * 4)
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

    def _worker(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._stop()
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the worker's life, closed in _stop)
        proc = subprocess.Popen(
            _command(self.model),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=_child_env(),
        )
        self._proc = proc
        self._closer.detach()
        self._closer = weakref.finalize(self, _stop, [proc])
        self.starts += 1
        assert proc.stdout is not None
        kind = self._take(proc, 1)
        if kind == _FAILED:
            message = _read_message(proc.stdout)
            self._stop()
            # Already one sentence (a model that cannot load offline): the child raised a UsruError.
            raise UsruError(message)
        if kind != _READY:
            self._fail(proc)
        (dim,) = _U32.unpack(self._take(proc, 4))
        self.dim = int(dim)
        return proc

    def _take(self, proc: subprocess.Popen[bytes], n: int) -> bytes:
        """Exactly n bytes from the worker, or its end as one sentence."""
        assert proc.stdout is not None
        chunks, left = [], n
        while left:
            got = proc.stdout.read(left)
            if not got:
                self._fail(proc)
            chunks.append(got)
            left -= len(got)
        return b"".join(chunks)

    def _fail(self, proc: subprocess.Popen[bytes]) -> NoReturn:
        """The worker died or spoke out of turn: one sentence with its exit status and last complaint."""
        errors = self._errors
        self._stop()
        raise UsruError(_died(proc, errors))

    def _stop(self) -> None:
        _stop([self._proc])
        self._proc = None
        if self._errors is not None:
            self._errors.close()
            self._errors = None


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


def _stop(holder: list[subprocess.Popen[bytes] | None]) -> None:
    """Close the worker's input (it exits at end of input) and wait; kill it if it does not go."""
    proc = holder[0]
    if proc is None or proc.poll() is not None:
        return
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


def _read_message(stream: BinaryIO | IO[bytes]) -> str:
    """The worker's one-sentence failure, sent before it exits."""
    head = stream.read(4)
    if len(head) != 4:
        return "The embedding worker failed without saying why."
    (size,) = _U32.unpack(head)
    return stream.read(size).decode("utf-8", "replace")


def _died(proc: subprocess.Popen[bytes], errors: IO[bytes] | None) -> str:
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    last = ""
    if errors is not None:
        try:
            errors.seek(0)
            lines = [x.strip() for x in errors.read().decode("utf-8", "replace").splitlines() if x.strip()]
            last = lines[-1][:REASON_CHARS] if lines else ""
        except (OSError, ValueError):
            pass
    return f"The embedding worker stopped (exit status {code}){': ' + last if last else ''}."


def _resident_kib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _send(out: BinaryIO, *parts: bytes) -> None:
    out.write(b"".join(parts))
    out.flush()


def _send_failure(out: BinaryIO, message: str) -> None:
    raw = message.encode("utf-8", "replace")
    _send(out, _FAILED, _U32.pack(len(raw)), raw)


def serve(model: str, inp: BinaryIO, out: BinaryIO) -> int:
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


def _exact(inp: BinaryIO, n: int) -> bytes:
    data = inp.read(n)
    if len(data) != n:
        raise SystemExit(3)  # the indexer went away mid-request
    return data


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


def _export(folder: Path, model: str) -> int:
    from retrieval.embedding import SentenceTransformerEmbedder
    from retrieval.onnx_embedding import export_onnx

    embedder = SentenceTransformerEmbedder(model)
    export_onnx(embedder._model, embedder.name, folder)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m retrieval.embed_worker MODEL`: serve bf16 passage vectors over stdin/stdout."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--export"] and len(args) == 3:
        return _export(Path(args[1]), args[2])
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out: Any = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    return serve(args[0] if args else "", sys.stdin.buffer, out)


if __name__ == "__main__":
    sys.exit(main())
