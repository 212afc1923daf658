"""USRU_EMBED_PRECISION=bf16: torch in bfloat16 for passages, recorded with the index, never mixed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from retrieval.api import load_retriever, model_of
from retrieval.article import read_article
from retrieval.bf16_embedding import Bf16Embedder
from retrieval.calibration import margin_of
from retrieval.embedding import (
    BUNDLED_MODEL,
    ONEDNN_KERNELS,
    QUESTION_THREADS,
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    Vectors,
    load_embedder,
)
from retrieval.errors import IndexError_, UsruError
from retrieval.index import FolderStore
from retrieval.index.building import _embed_articles
from retrieval.index.vectors import TWO_PASSES
from retrieval.onnx_embedding import OnnxEmbedder
from retrieval.onnx_precision import BF16, INT8, check_precision, precise_name, split_name
from retrieval.service import build_service
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import SEEDS, copy_seeds
from tests.support.cli import make_folders, usru
from tests.support.in_process import Usru


class Bf16Hashing(HashingEmbedder):
    """Stands for the bf16 embedder where only its recorded name matters (the real one is tested below)."""

    name = precise_name(HASHING_MODEL, BF16)


class Int8Hashing(HashingEmbedder):
    name = precise_name(HASHING_MODEL, INT8)


def test_the_setting_and_the_recorded_name_know_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USRU_EMBED_PRECISION", "bf16")
    assert Settings(_env_file=None).embed_precision == BF16 == check_precision("bf16")  # type: ignore[call-arg]
    name = precise_name(BUNDLED_MODEL, BF16)
    assert name not in (BUNDLED_MODEL, precise_name(BUNDLED_MODEL, INT8))
    assert split_name(name) == (BUNDLED_MODEL, BF16)
    assert model_of(name) == ("", BF16)
    assert model_of(precise_name("/models/mine", BF16)) == ("/models/mine", BF16)
    assert margin_of(name) == margin_of(BUNDLED_MODEL) is not None


@pytest.mark.parametrize("other", [HashingEmbedder, Int8Hashing])
def test_switching_to_and_from_bf16_embeds_every_article_again(
    hashing_settings: Settings, other: type[HashingEmbedder]
) -> None:
    store = FolderStore(hashing_settings.index_dir)
    first = store.update(hashing_settings.sources, other())
    again = store.update(hashing_settings.sources, Bf16Hashing())
    assert again.embedded_articles == first.articles and again.reused_articles == 0
    index = store.load()
    assert index.embedding_model == Bf16Hashing.name
    segments = hashing_settings.index_dir / "segments"
    models = {
        json.loads((segments / s["name"] / "segment.json").read_text("utf-8"))["embedding_model"]
        for s in index.manifest["segments"]
    }
    assert models == {Bf16Hashing.name}  # no segment of the other precision left in the live version
    same = store.update(hashing_settings.sources, Bf16Hashing())
    assert same.embedded_articles == 0  # at the same precision, nothing is embedded again
    back = store.update(hashing_settings.sources, other())
    assert back.embedded_articles == first.articles and back.reused_articles == 0


def test_answering_a_bf16_index_at_another_precision_names_the_setting(hashing_settings: Settings) -> None:
    FolderStore(hashing_settings.index_dir).update(hashing_settings.sources, Bf16Hashing())
    with pytest.raises(IndexError_, match="USRU_EMBED_PRECISION=bf16"):
        build_service(hashing_settings)


def test_questions_never_load_the_passage_model() -> None:
    loads: list[int] = []

    def load() -> Embedder:
        loads.append(1)
        return Bf16Hashing()

    questions = HashingEmbedder()
    embedder = Bf16Embedder(questions, load)
    assert embedder.name == precise_name(HASHING_MODEL, BF16) and embedder.dim == questions.dim
    q = embedder.embed_query("Did Russia interfere in the election?")
    assert np.array_equal(q, questions.embed_query("Did Russia interfere in the election?"))
    assert embedder.embed_documents([]).shape == (0, questions.dim)
    assert not loads and not embedder.passages_loaded
    vecs = embedder.embed_documents(["one passage", "another passage"])
    embedder.embed_documents(["a third"])
    assert vecs.shape == (2, questions.dim) and loads == [1] and embedder.passages_loaded


def test_bf16_with_the_hashing_fake_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsruError, match="USRU_EMBED_PRECISION=bf16"):
        load_embedder(HASHING_MODEL, tmp_path, True, BF16)
    folders = make_folders(tmp_path / "cli")
    result = usru(folders, "index", env=folders.env() | {"USRU_EMBED_PRECISION": "bf16"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("usru: ") and "bf16" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not folders.index_dir.exists()


def _embedded(embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence vectors of the seeds as `usru index` makes them (both passes)."""
    articles = [read_article(p) for p in sorted(SEEDS.iterdir()) if p.is_file()]
    data = _embed_articles(articles, embedder, TWO_PASSES, None)
    quotable = data.sentences.quotable == 1
    return data.chunk_vecs, data.sentence_vecs[quotable]


@pytest.mark.model
def test_bf16_passage_vectors_are_near_fp32_and_questions_stay_onnx(tmp_path: Path) -> None:
    fp32 = _embedded(SentenceTransformerEmbedder(""))
    bf16 = load_embedder("", tmp_path, True, BF16)
    assert isinstance(bf16, Bf16Embedder) and bf16.name == precise_name(BUNDLED_MODEL, BF16)
    near = np.concatenate([np.sum(x * y, axis=1) for x, y in zip(fp32, _embedded(bf16), strict=True)])
    assert near.size > 100
    # Measured about 0.9999 mean on archive chunks and sentences (README, Performance).
    assert float(near.mean()) >= 0.999 and float(near.min()) >= 0.99
    assert float(near.min()) < 1 - 1e-5  # really bfloat16, not the fp32 model renamed
    norms = np.linalg.norm(np.concatenate(_embedded(bf16)), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)  # normalised in float32
    question = "Is Russia ready to resume arms control talks?"
    onnx = load_embedder("", tmp_path)
    assert isinstance(onnx, OnnxEmbedder)
    assert np.array_equal(bf16.embed_query(question), onnx.embed_query(question))


@pytest.mark.model
def test_bf16_bounds_the_kernels_onednn_keeps_unless_the_user_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [read_article(p).text[:400] for p in sorted(SEEDS.iterdir())[:6] if p.is_file()]
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    SentenceTransformerEmbedder("", bf16=True)
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"  # the user's value wins
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY")
    bounded = SentenceTransformerEmbedder("", bf16=True)
    # One kernel per batch shape was kept (up to 1,024): the process grew with the corpus (issue 13).
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == str(ONEDNN_KERNELS) == "16"
    vecs = bounded.embed_documents(texts)
    assert vecs.shape == (len(texts), 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_a_bf16_index_is_recorded_and_answered_without_torch(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        sources=copy_seeds(tmp_path / "seeds"),
        index_dir=tmp_path / "idx",
        embed_precision="bf16",
    )
    built = build_service(settings)
    assert built.index.embedding_model == precise_name(BUNDLED_MODEL, BF16) == built.embedder.name
    # Its torch worker went once the articles were embedded, before the finishing steps (issue 13).
    assert isinstance(built.embedder, Bf16Embedder) and not built.embedder.passages_loaded
    service = build_service(settings)  # a new process's service over the index built above
    assert service.answer("Is Russia ready to resume arms control talks?").status == "answered"
    assert isinstance(service.embedder, Bf16Embedder) and not service.embedder.passages_loaded
    # Its questions' session runs on one thread, whether opened beside the index's loading or after it: as
    # fast for one short text as two threads, with the other core left to the answer (issue 13).
    for embedder in (built.embedder, service.embedder, load_embedder("", settings.index_dir, True, BF16)):
        questions = embedder._questions  # type: ignore[attr-defined]
        assert questions._session.get_session_options().intra_op_num_threads == QUESTION_THREADS == 1
    retriever = load_retriever(settings.index_dir)
    assert retriever.embedder.name == service.embedder.name  # type: ignore[attr-defined]
    for other in ("fp32", "int8"):
        with pytest.raises(IndexError_, match="USRU_EMBED_PRECISION=bf16"):
            build_service(settings.model_copy(update={"embed_precision": other}))


class _NoBf16Kernels(HashingEmbedder):
    """Stands for torch's model where bfloat16 kernels are missing: encoding raises as torch does."""

    def embed_documents(self, texts: list[str]) -> Vectors:
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'BFloat16'")


def test_bf16_without_kernels_is_one_sentence_and_keeps_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by the fifth session's attacker: a traceback, exit 1.
    run = Usru(tmp_path, monkeypatch, capsys)
    assert run("index")[0] == 0
    (run.sources / "new.md").write_text(
        "---\ndate: '2017-01-02'\n---\nPutin met Trump in Hamburg.\n", "utf-8"
    )
    monkeypatch.setattr(
        "retrieval.embedding._load_bf16",
        lambda model, index_dir, use_onnx: Bf16Embedder(HashingEmbedder(), _NoBf16Kernels),
    )
    monkeypatch.setenv("USRU_EMBED_PRECISION", "bf16")
    monkeypatch.setenv("EMBEDDING_MODEL", "all-MiniLM-L6-v2")
    code, _, err = run("index")
    assert code == 2 and err.startswith("usru: ") and "bf16" in err, err[-300:]
    assert len(err.strip().splitlines()) == 1, err[-300:]
