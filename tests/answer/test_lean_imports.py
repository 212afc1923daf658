"""Answering without a chat model does not import LangChain's runnables (issue 13: ~0.5 CPU-s of a cold ask)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
print(sorted(m for m in sys.modules if m.startswith(("langchain_core.runnables", "langsmith"))))
"""


def test_an_extractive_answer_imports_no_runnables(tmp_path: Path) -> None:
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
    assert status.split()[0] == "answered" and int(status.split()[1]) > 0
    assert loaded == "[]"


def test_an_answer_imports_none_of_the_update_s_modules(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    build_index(copy_seeds(tmp_path / "src"), index_dir, HashingEmbedder())
    probe = PROBE.replace(
        '("langchain_core.runnables", "langsmith")', '("retrieval.index.building", "retrieval.index.changes")'
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(index_dir), "Is Russia ready to resume arms control talks?"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    status, loaded = done.stdout.strip().splitlines()[-2:]
    assert status.split()[0] == "answered"
    assert loaded == "[]"
