"""The service loads its embedder beside the index (retrieval/service.py: build_service)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from retrieval.errors import IndexError_, UsruError
from retrieval.pending import run_in_thread
from retrieval.service import build_service
from retrieval.settings import Settings
from tests.conftest import copy_seeds, hashing_settings_for


@pytest.fixture
def indexed(tmp_path: Path) -> Settings:
    """Hashing settings over the seeds, their index built."""
    settings = hashing_settings_for(copy_seeds(tmp_path / "src"), tmp_path / "idx")
    build_service(settings)
    return settings


def _damage(settings: Settings) -> None:
    """Remove a file every load reads, leaving the version listed as current."""
    segment = next((settings.index_dir / "segments").iterdir())
    (segment / "chunks.npy").unlink()


def test_a_damaged_index_is_said_to_be_damaged(indexed: Settings) -> None:
    _damage(indexed)
    with pytest.raises(IndexError_):
        build_service(indexed)


def test_a_model_that_cannot_load_is_named_before_a_damaged_index(indexed: Settings, tmp_path: Path) -> None:
    # As when the embedder was loaded before the index: the setting to fix comes first.
    _damage(indexed)
    missing = tmp_path / "nomodel"
    with pytest.raises(UsruError, match="Cannot load the embedding model") as raised:
        build_service(indexed.model_copy(update={"embedding_model": str(missing)}))
    assert not isinstance(raised.value, IndexError_)


def test_the_loaded_service_answers(indexed: Settings) -> None:
    answer = build_service(indexed).answer("Is Russia ready to resume arms control talks?")
    assert answer.status == "answered" and answer.citations


def test_work_in_a_thread_hands_back_its_result_or_its_error() -> None:
    assert run_in_thread(lambda: 6 * 7, "t", daemon=True).result(timeout=10) == 42
    with pytest.raises(ZeroDivisionError):
        run_in_thread(lambda: 1 // 0, "t", daemon=True).result(timeout=10)


def test_ctrl_c_while_the_index_loads_waits_for_the_model_s_thread(
    indexed: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thread still inside onnxruntime when Python exits aborts the process ("terminate called
    # without an active exception", a20): the interrupt is raised once the opening has ended.
    import retrieval.api
    from retrieval.embedding import HashingEmbedder
    from retrieval.index.storage import FolderStore

    ended = threading.Event()

    def slow_open(settings: Settings) -> HashingEmbedder:
        time.sleep(0.5)
        ended.set()
        return HashingEmbedder()

    def interrupted(self: FolderStore) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(retrieval.api, "open_settings_export", slow_open)
    monkeypatch.setattr(FolderStore, "load", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_service(indexed)
    assert ended.is_set()


def test_opening_an_export_writes_nothing_and_declines_what_it_would_have_to_make(tmp_path: Path) -> None:
    # Exporting (torch, a temporary folder removed on failure) is left to the main thread.
    from retrieval.embedding import BUNDLED_MODEL, HashingEmbedder, embedder_id, open_exported
    from retrieval.onnx_embedding import export_folder

    assert isinstance(open_exported("hashing", tmp_path), HashingEmbedder)
    assert open_exported("hashing", tmp_path, precision="bf16") is None
    assert open_exported(BUNDLED_MODEL, tmp_path) is None  # no export there yet
    assert open_exported(BUNDLED_MODEL, tmp_path, use_onnx=False) is None
    assert list(tmp_path.iterdir()) == []
    damaged = export_folder(tmp_path, embedder_id(BUNDLED_MODEL))
    damaged.mkdir(parents=True)
    (damaged / "meta.json").write_text("{}", encoding="utf-8")
    assert open_exported(BUNDLED_MODEL, tmp_path) is None
    assert [p.name for p in damaged.iterdir()] == ["meta.json"]
