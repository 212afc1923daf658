"""The index folder is usru's alone (issue 16, items 6, 10, 11, 12 and 13b).

usru deletes only names it wrote, in a folder it created or recognises as an index; it reads nothing
outside that folder whatever the manifest says and writes nothing through a link; a damaged pointer or
array is one line naming the rebuild; an update that cannot read most articles keeps the live version.
Commands run in-process through `bot.cli.main` with the hashing embedder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from retrieval.embedding import HashingEmbedder
from retrieval.errors import SourcesError
from retrieval.index import KEEP_VERSIONS, build_index, current_version, load_index
from retrieval.index.ownership import MARKER
from tests.conftest import SEED_NAMES, copy_seeds

QUESTION = "Is Russia ready to resume arms control talks?"
QUOTE = "Putin said that Russia is ready to work with the US on arms control issues."
REBUILD = "usru index --rebuild"


class Usru:
    """`usru ARGS` in-process over one private copy of the seeds, its output captured."""

    def __init__(
        self, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.root = root
        self.sources = copy_seeds(root / "sources")
        self.index_dir = root / "idx"
        self._capsys = capsys
        monkeypatch.chdir(root)  # no developer .env
        for name in ("USRU_SOURCES", "USRU_INDEX_DIR", "USRU_LLM", "COLUMNS"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("EMBEDDING_MODEL", "hashing")

    def __call__(self, *args: str, index_dir: Path | None = None) -> tuple[int, str, str]:
        self._capsys.readouterr()
        folder = index_dir or self.index_dir
        code = main([*args, "--sources", str(self.sources), "--index-dir", str(folder)])
        out, err = self._capsys.readouterr()
        return code, out, err

    def version(self) -> Path:
        version = current_version(self.index_dir)
        assert version is not None
        return self.index_dir / "versions" / version

    def segment(self) -> Path:
        manifest = json.loads((self.version() / "manifest.json").read_text("utf-8"))
        return self.index_dir / "segments" / manifest["segments"][0]["name"]


@pytest.fixture
def usru(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Usru:
    """A freshly indexed copy of the seeds."""
    run = Usru(tmp_path, monkeypatch, capsys)
    code, _, err = run("index")
    assert code == 0, err
    return run


def one_usru_line(code: int, out: str, err: str) -> str:
    """The single `usru: ...` sentence of a refused command (exit 2, no output, no traceback)."""
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: "), err
    return lines[0]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under a folder with its bytes (None for folders): what must survive untouched."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def still_answers(usru: Usru) -> None:
    code, out, err = usru("ask", "--json", QUESTION)
    assert code == 0, err
    answer = json.loads(out)
    assert QUOTE in [c["quote"] for c in answer["citations"]]
    for c in answer["citations"]:
        assert c["quote"] == (usru.sources / c["source"]).read_text("utf-8")[c["start"] : c["end"]]


# -------------------------------------------- 11: an update that cannot read most articles is refused


def write_articles(sources: Path, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"talks_{i:02d}.txt"
        (sources / name).write_text(
            f"Envoys held round {i} of the Geneva talks.\n\nThe round {i} ended without a deal.\n", "utf-8"
        )
        names.append(name)
    return names


def test_a_rebuild_that_cannot_read_most_files_keeps_the_live_version(usru: Usru) -> None:
    names = write_articles(usru.sources, 5)
    code, _, err = usru("index")
    assert code == 0, err
    live = current_version(usru.index_dir)
    for name in names + SEED_NAMES[1:]:  # 9 of 10 articles now read as binary files
        (usru.sources / name).write_bytes(b"\0" * 64)
    line = one_usru_line(*usru("index", "--rebuild"))
    assert f"Kept version {live}" in line and "9 of its 10 articles" in line and "--allow-shrink" in line
    assert current_version(usru.index_dir) == live
    assert len(load_index(usru.index_dir).articles) == 10

    code, out, err = usru("index", "--rebuild", "--allow-shrink")
    assert code == 0, err
    assert "9 removed" in out
    assert [a.source for a in load_index(usru.index_dir).articles] == [SEED_NAMES[0]]


def test_a_rebuild_while_the_files_vanish_keeps_the_live_version(usru: Usru) -> None:
    write_articles(usru.sources, 5)
    code, _, err = usru("index")
    assert code == 0, err
    live = current_version(usru.index_dir)
    gone: list[str] = []

    def vanish(stage: str, done: int, total: int) -> None:
        # After the scan listed every file, before the first is read: the folder empties under us.
        if stage == "read" and not gone:
            for f in sorted(usru.sources.iterdir())[1:]:
                f.unlink()
                gone.append(f.name)

    with pytest.raises(SourcesError, match=r"9 of its 10 articles could not be read.*--allow-shrink"):
        build_index(usru.sources, usru.index_dir, HashingEmbedder(), rebuild=True, progress=vanish)
    assert len(gone) == 9
    assert current_version(usru.index_dir) == live
    assert len(load_index(usru.index_dir).articles) == 10


def test_a_rebuild_that_loses_a_few_files_says_how_many_it_removed(usru: Usru) -> None:
    (usru.sources / SEED_NAMES[4]).write_bytes(b"\0" * 64)
    code, out, err = usru("index", "--rebuild")
    assert code == 0, err
    assert "1 removed" in out, "a rebuild reports the articles it dropped, not 0 removed"
    assert len(load_index(usru.index_dir).articles) == 4


# ---------------------------------------------------- 13b: our sentence, never numpy's unsafe advice


@pytest.mark.parametrize("name", ["sentence_vecs.npy", "chunks.npy", "bm25_tfs.npy"])
def test_a_damaged_npy_is_our_sentence_without_numpys_advice(usru: Usru, name: str) -> None:
    path = usru.segment() / name
    path.write_bytes(b"#" * path.stat().st_size)  # same size, so only reading it tells
    line = one_usru_line(*usru("ask", QUESTION))
    assert REBUILD in line and name.split("_")[0] in line
    for advice in ("allow_pickle", "unsafely", "pickle.load", "trust"):
        assert advice not in line
