"""Answering without a chat model does not import LangChain's runnables (issue 13: ~0.5 CPU-s of a cold ask)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
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
import threading
index_dir, sources = Path(sys.argv[1]), Path(sys.argv[3])
settings = Settings(_env_file=None, sources=sources, index_dir=index_dir, embedding_model="hashing")
answer = AnsweringService(settings, HashingEmbedder(), load_index(index_dir)).answer(sys.argv[2])
print(answer.status, len(answer.citations), answer.note is None, ",".join(c.source for c in answer.citations))
print(" ".join(sorted(t.name for t in threading.enumerate())))
print(" ".join(sorted(sys.modules)))
"""


@dataclass
class Asked:
    """What one extractive answer in a fresh process gave and loaded."""

    status: str
    quotes: int
    unflagged: bool  # no caveat: the quoted files were read back and still hold their quotes
    cited: set[str]
    threads: set[str]
    modules: set[str]


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Asked:
    """One extractive answer over the seeds in a fresh process."""
    tmp_path = tmp_path_factory.mktemp("lean")
    index_dir = tmp_path / "idx"
    sources = copy_seeds(tmp_path / "src")
    # With front matter, which reading the file whole would parse as YAML.
    (sources / "arms.md").write_text(
        "---\ntitle: Arms talks\ndate: '2019-06-29'\npublisher: TASS\n---\n\n"
        "Putin said Russia is ready to resume arms control talks with the United States.\n",
        encoding="utf-8",
    )
    build_index(sources, index_dir, HashingEmbedder())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(index_dir),
            "Is Russia ready to resume arms control talks?",
            str(sources),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    status, threads, loaded = done.stdout.strip().splitlines()[-3:]
    first, count, unflagged, cited = status.split()
    return Asked(
        first,
        int(count),
        unflagged == "True",
        set(cited.split(",")),
        set(threads.split()),
        set(loaded.split()),
    )


@pytest.fixture(scope="module")
def asked(probed: Asked) -> tuple[str, int, set[str]]:
    """The answer's status, its number of quotes and the modules it loaded."""
    return probed.status, probed.quotes, probed.modules


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


def test_an_answer_leaves_numpy_ma_yaml_and_the_python_stemmer_unloaded(probed: Asked) -> None:
    # numpy.ma comes with np.unique (0.56 s of a cold ask on this machine), yaml with parsing a quoted
    # file's front matter to check it (0.2 s), snowballstemmer with its 35 languages (0.3 s).
    assert probed.status == "answered" and probed.unflagged and "arms.md" in probed.cited
    assert "Stemmer" in probed.modules  # the question's words were stemmed, by Snowball's C build
    assert "retrieval.freshness" in probed.modules
    assert sorted(m for m in probed.modules if m.split(".")[0] in {"yaml", "snowballstemmer"}) == []
    assert "numpy.ma" not in probed.modules


def test_an_english_answer_starts_no_sound_index_build(probed: Asked) -> None:
    # Built for Russian names only: 3.3 CPU-s on the whole AllSides corpus, which a cold English ask
    # spent in a thread beside its answer.
    assert probed.status == "answered"
    assert "MainThread" in probed.threads and "usru-sound-index" not in probed.threads
