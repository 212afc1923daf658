"""The same embedding model run by onnxruntime, so answering a question needs neither torch nor
sentence-transformers (importing them is most of a cold `usru ask`).

The ONNX file is exported locally from the loaded sentence-transformers model; nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding import CachedQueries, Vectors, _QueryCache

FORMAT = 1


def export_folder(index_dir: Path, model_name: str) -> Path:
    """Where the export of this model lives inside the index folder."""
    import hashlib

    return index_dir / "onnx" / hashlib.sha256(model_name.encode("utf-8")).hexdigest()[:16]


def export_onnx(st_model: Any, model_name: str, folder: Path) -> None:
    """Export a loaded SentenceTransformer (BERT-like, mean pooling) to model.onnx + tokenizer.json."""
    import torch

    transformer = st_model[0].auto_model
    tokenizer = st_model.tokenizer
    max_len = int(st_model.max_seq_length)

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # Keyword arguments: transformers 5 otherwise clashes on use_cache (see STACK-NOTES).
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    sample = tokenizer(["an example sentence"], return_tensors="pt")
    tmp = folder.parent / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        _write_export(Wrapper().eval(), sample, tokenizer, model_name, max_len, transformer, tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        # A failed export must not leave its half-written folder behind: one per failed run filled disks.
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_export(
    wrapper: Any, sample: Any, tokenizer: Any, model_name: str, max_len: int, transformer: Any, tmp: Path
) -> None:
    """Write model.onnx, tokenizer.json and meta.json into tmp."""
    import warnings

    import torch

    # The tracer warns about shape-dependent branches it records; the export is checked against torch in tests.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            | {"last_hidden_state": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
    meta = {
        "format": FORMAT,
        "model": model_name,
        "max_seq_length": max_len,
        "dim": int(transformer.config.hidden_size),
    }
    (tmp / "meta.json").write_text(json.dumps(meta | {"sha256": file_digests(tmp)}), encoding="utf-8")


# The files whose bytes decide every vector: a full SHA-256 of each is recorded when written, checked at load.
DIGESTED = ("model.onnx", "tokenizer.json")


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of the export's model and tokenizer files."""
    out = {}
    for name in DIGESTED:
        with (folder / name).open("rb") as fh:
            out[name] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def check_digests(folder: Path, meta: dict[str, object]) -> None:
    """Raise if a file of the export differs from what was written (damage that still parses as a model)."""
    recorded = meta.get("sha256")
    if not isinstance(recorded, dict):
        return  # an export from before digests were recorded: its loading checks are all it has
    # About 65 ms for the 90 MB model, once per process: bytes changed in the middle of the file still load
    # and silently change every question's vector (the fifth session's attacker).
    if file_digests(folder) != recorded:
        raise ValueError("the exported model's files differ from those written (damaged)")


class OnnxEmbedder(CachedQueries):
    """Mean-pooled, L2-normalised sentence embeddings from an exported model, on onnxruntime."""

    def __init__(self, folder: Path, *, threads: int = 0, batch: int = 32, spin: bool = True) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError("the exported model is from another version of usru")
        check_digests(folder, meta)
        from retrieval.onnx_precision import FP32, precise_name

        self.name: str = precise_name(meta["model"], meta.get("precision", FP32))
        self.dim: int = int(meta["dim"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self._tokenizer.enable_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads  # 0: onnxruntime's choice (one per physical core)
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        else:
            # Spinning helps inside a run, but threads left spinning after it compete with the Python
            # that uses its vectors: warm answers on the whole-corpus index burned 90-100 ms of CPU at
            # p50 against 43-58 ms with spinning stopped at each run's end (wall 52-78 against 39-52 ms,
            # load 2.1-2.5); 256 chunks embedded in the same CPU time either way.
            options.add_session_config_entry("session.force_spinning_stop", "1")
        self._batch = batch
        self._session = ort.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()
        self._cache = _QueryCache()

    def embed_documents(self, texts: list[str]) -> Vectors:
        """Embed passages."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Similar lengths batched together pad less: a batch costs as much as its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        texts = [texts[i] for i in order]
        out = []
        for k in range(0, len(texts), self._batch):
            encodings = self._tokenizer.encode_batch(texts[k : k + self._batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            types = np.array([e.type_ids for e in encodings], dtype=np.int64)
            with self._lock:
                (hidden,) = self._session.run(
                    ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
                )
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append(pooled.astype(np.float32))
        result: Vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        result[order] = np.concatenate(out)
        return result
