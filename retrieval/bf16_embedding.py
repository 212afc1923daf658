"""bf16 index-time embedding (issue 13): passages through torch in bfloat16, questions through ONNX.

On a CPU with AMX (or AVX512-BF16) torch runs the model in bfloat16 at about twice its fp32 rate,
and the vectors stay within a cosine of about 0.9999 of fp32 ones. Indexing is where the texts are,
so only passages take that path; a question is one short text, and the fp32 ONNX export embeds it
without importing torch (a cold `usru ask` stays as fast as at fp32). Torch runs in a worker process
started on the first passage (embed_worker.py), so answering from a bf16 index never loads it and an
indexer lets it go, memory and all, once its articles are embedded.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable

import numpy as np

from retrieval.embedding import Embedder, Vectors
from retrieval.errors import UsruError
from retrieval.onnx_precision import BF16, precise_name


def release_freed_memory() -> None:
    """Hand freed heap pages back to the system (glibc only; elsewhere a no-op).

    Torch's activations for each batch differ in size, and glibc keeps what they freed: measured on 1,500
    archive chunks, the process grew ~60 MiB per 256 texts at bf16 (as at fp32 through torch), and a
    bf16 `usru index` of 949 articles peaked at 3.1 GiB where the ONNX fp32 path stays near 1.3 GiB.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Bf16Embedder:
    """Passages at bf16 (loaded when first needed), questions by `questions` (the fp32 ONNX export)."""

    def __init__(self, questions: Embedder, load_passages: Callable[[], Embedder]) -> None:
        self.name = precise_name(questions.name, BF16)
        self.dim = questions.dim
        self._questions = questions
        self._load_passages = load_passages
        self._passages: Embedder | None = None
        self._lock = threading.Lock()

    def _passage_model(self) -> Embedder:
        with self._lock:
            if self._passages is None:
                self._passages = self._load_passages()
            return self._passages

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages for the index, at bf16."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            vecs = self._passage_model().embed_documents(texts)
        except RuntimeError as exc:
            # A torch or CPU without bfloat16 kernels ("not implemented for 'BFloat16'") fails on the first
            # batch: one sentence naming the setting, before anything of this update is written.
            if "bfloat16" not in str(exc).lower():
                raise
            raise UsruError(
                "This machine's torch cannot embed at bf16 (no bfloat16 kernels); unset USRU_EMBED_PRECISION "
                "or set it to fp32."
            ) from exc
        release_freed_memory()
        return vecs

    def embed_query(self, text: str) -> Vectors:
        """Embed one question through the fp32 export (cached there)."""
        return self._questions.embed_query(text)

    def clear_cache(self) -> None:
        """Forget cached question vectors (benchmarks time the model, not the cache)."""
        clear = getattr(self._questions, "clear_cache", None)
        if clear is not None:
            clear()

    def release_passages(self) -> None:
        """Let the passage model go once an update's articles are embedded (its worker's memory with it)."""
        with self._lock:
            passages, self._passages = self._passages, None
        close = getattr(passages, "close", None)
        if close is not None:
            close()

    @property
    def passages_loaded(self) -> bool:
        """Whether the torch model was loaded (answering alone must not load it)."""
        return self._passages is not None
