"""The ONNX query path: the same vectors and the same answers as sentence-transformers, without torch."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.evaluation import ROOT, load_questions
from retrieval.embedding import SentenceTransformerEmbedder, load_embedder
from retrieval.onnx_embedding import OnnxEmbedder, export_folder
from retrieval.service import build_service
from retrieval.settings import Settings

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def indexed(real_seeds: Settings) -> Settings:
    """The seeds indexed with the real model, which also writes the ONNX export."""
    return real_seeds


def test_the_export_is_written_beside_the_index(indexed: Settings) -> None:
    folder = export_folder(indexed.index_dir, SentenceTransformerEmbedder("").name)
    assert {p.name for p in folder.iterdir()} == {"meta.json", "model.onnx", "tokenizer.json"}
    assert isinstance(load_embedder("", indexed.index_dir), OnnxEmbedder)


def test_onnx_vectors_equal_the_torch_ones(indexed: Settings) -> None:
    torch_model = SentenceTransformerEmbedder("")
    onnx_model = load_embedder("", indexed.index_dir)
    assert isinstance(onnx_model, OnnxEmbedder)
    texts = [q["question"] for q in load_questions()] + ["word " * 400, "Да, это по-русски."]
    a = torch_model.embed_documents(texts)
    b = onnx_model.embed_documents(texts)
    assert a.shape == b.shape
    assert float(np.min(np.sum(a * b, axis=1))) >= 1 - 1e-4


def test_onnx_answers_equal_the_torch_answers_on_the_question_set(indexed: Settings) -> None:
    with_onnx = build_service(indexed)
    with_torch = build_service(indexed.model_copy(update={"use_onnx": False}))
    assert isinstance(with_onnx.embedder, OnnxEmbedder)
    assert isinstance(with_torch.embedder, SentenceTransformerEmbedder)
    for q in load_questions():
        a = with_onnx.answer(q["question"])
        b = with_torch.answer(q["question"])
        assert (a.status, a.citations) == (b.status, b.citations), q["id"]


def test_a_cold_ask_imports_neither_torch_nor_sentence_transformers(indexed: Settings) -> None:
    code = (
        "import sys, json; from bot.cli import main; rc = main(['ask', '--json', 'Is Russia ready to resume arms control"
        " talks?']); print(json.dumps(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules)))"
    )
    env = {**os.environ, "USRU_SOURCES": str(indexed.sources), "USRU_INDEX_DIR": str(indexed.index_dir)}
    env.pop("EMBEDDING_MODEL", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    *answer_lines, modules = result.stdout.strip().splitlines()
    assert json.loads("\n".join(answer_lines))["status"] == "answered"
    assert json.loads(modules) == []


def test_a_damaged_export_is_replaced(indexed: Settings, tmp_path: Path) -> None:
    index_dir = Path(shutil.copytree(indexed.index_dir, tmp_path / "idx"))  # the shared index stays whole
    folder = export_folder(index_dir, SentenceTransformerEmbedder("").name)
    (folder / "meta.json").write_text('{"format": 99}', encoding="utf-8")
    embedder = load_embedder("", index_dir)
    assert isinstance(embedder, OnnxEmbedder)  # exported again, and used at once
    assert json.loads((folder / "meta.json").read_text(encoding="utf-8"))["format"] != 99


def test_an_export_damaged_in_the_middle_is_noticed_and_replaced(indexed: Settings, tmp_path: Path) -> None:
    # Bytes changed mid-file still load as a model and silently moved every question's vector (fifth
    # session's attacker); the full digests written with the export catch it, and it is exported again.
    index_dir = Path(shutil.copytree(indexed.index_dir, tmp_path / "idx"))
    folder = export_folder(index_dir, SentenceTransformerEmbedder("").name)
    model = folder / "model.onnx"
    written = hashlib.sha256(model.read_bytes()).hexdigest()
    assert json.loads((folder / "meta.json").read_text(encoding="utf-8"))["sha256"]["model.onnx"] == written
    with model.open("r+b") as fh:
        fh.seek(model.stat().st_size // 2)
        fh.write(b"\x7f" * 4096)
    with pytest.raises(ValueError, match="damaged"):
        OnnxEmbedder(folder)
    assert isinstance(load_embedder("", index_dir), OnnxEmbedder)
    assert hashlib.sha256(model.read_bytes()).hexdigest() == written


def test_an_index_embedded_with_onnx_answers_like_one_embedded_with_torch(
    indexed: Settings, tmp_path: Path
) -> None:
    torch_settings = indexed.model_copy(update={"use_onnx": False, "index_dir": tmp_path / "torch-idx"})
    with_torch = build_service(torch_settings)  # documents and questions embedded by torch
    with_onnx = build_service(indexed)  # both by the ONNX export, which also built this index
    assert isinstance(with_torch.embedder, SentenceTransformerEmbedder)
    assert isinstance(with_onnx.embedder, OnnxEmbedder)
    np.testing.assert_allclose(with_onnx.index.sentence_vecs, with_torch.index.sentence_vecs, atol=1e-4)
    for q in load_questions():
        a = with_onnx.answer(q["question"])
        b = with_torch.answer(q["question"])
        assert (a.status, a.citations) == (b.status, b.citations), q["id"]


@pytest.mark.parametrize("spin", [True, False])
def test_threads_never_spin_past_the_end_of_a_run(indexed: Settings, spin: bool) -> None:
    # Threads left spinning after a run compete with the Python that uses its vectors: a warm answer on
    # the whole-corpus index burned twice the CPU. Spinning within a run is kept unless turned off.
    folder = export_folder(indexed.index_dir, SentenceTransformerEmbedder("").name)
    options = OnnxEmbedder(folder, spin=spin)._session.get_session_options()
    entries = {}
    for key in ("session.force_spinning_stop", "session.intra_op.allow_spinning"):
        with contextlib.suppress(RuntimeError):  # onnxruntime's answer for a key not set
            entries[key] = options.get_session_config_entry(key)
    assert entries == (
        {"session.force_spinning_stop": "1"} if spin else {"session.intra_op.allow_spinning": "0"}
    )
