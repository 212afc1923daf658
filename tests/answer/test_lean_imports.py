"""Answering without a chat model does not import LangChain's runnables (issue 13: ~0.5 CPU-s of a cold ask)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index
from tests.conftest import copy_seeds

PROBE = """
import sys
from pathlib import Path
import bot.cli
from retrieval.embedding import HashingEmbedder
from retrieval.index import load_index
from retrieval.service import AnsweringService
from retrieval.settings import Settings
index_dir = Path(sys.argv[1])
settings = Settings(_env_file=None, sources=index_dir, index_dir=index_dir, embedding_model="hashing")
answer = AnsweringService(settings, HashingEmbedder(), load_index(index_dir)).answer(sys.argv[2])
print(answer.status, len(answer.citations))
print(" ".join(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def asked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, set[str]]:
    """One extractive answer in a fresh process: its status, its number of quotes and the modules it loaded."""
    tmp_path = tmp_path_factory.mktemp("lean")
    index_dir = tmp_path / "idx"
    build_index(copy_seeds(tmp_path / "src"), index_dir, HashingEmbedder())
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(index_dir), "Is Russia ready to resume arms control talks?"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    status, loaded = done.stdout.strip().splitlines()[-2:]
    return status.split()[0], int(status.split()[1]), set(loaded.split())


def test_an_extractive_answer_imports_no_runnables(asked: tuple[str, int, set[str]]) -> None:
    status, quotes, loaded = asked
    assert status == "answered" and quotes > 0
    assert sorted(m for m in loaded if m.startswith(("langchain_core.runnables", "langsmith"))) == []


def test_an_answer_imports_none_of_the_update_s_modules(asked: tuple[str, int, set[str]]) -> None:
    status, _, loaded = asked
    assert status == "answered"
    assert (
        sorted(m for m in loaded if m.startswith(("retrieval.index.building", "retrieval.index.changes")))
        == []
    )
