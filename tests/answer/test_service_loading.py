"""The service loads its embedder beside the index (retrieval/service.py: build_service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import IndexError_, UsruError
from retrieval.service import build_service, run_in_thread
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
    assert run_in_thread(lambda: 6 * 7, "t").result(timeout=10) == 42
    with pytest.raises(ZeroDivisionError):
        run_in_thread(lambda: 1 // 0, "t").result(timeout=10)
