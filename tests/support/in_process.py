"""`usru ARGS` run in-process through `bot.cli.main` over a private copy of the seeds, output captured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from retrieval.index import current_version
from tests.conftest import copy_seeds


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
        """The live version's folder."""
        version = current_version(self.index_dir)
        assert version is not None
        return self.index_dir / "versions" / version

    def segment(self) -> Path:
        """The live version's first segment's folder."""
        manifest = json.loads((self.version() / "manifest.json").read_text("utf-8"))
        return self.index_dir / "segments" / manifest["segments"][0]["name"]
