"""The real `usru` command in a subprocess, over a private copy of the seeds and the hashing embedder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import copy_seeds

# A question the seeds answer, and the sentence its answer quotes.
QUESTION = "Is Russia ready to resume arms control talks?"
QUOTE = "Putin said that Russia is ready to work with the US on arms control issues."

SCRIPT = Path(sys.executable).with_name("usru")
COMMAND = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "bot.cli"]


@dataclass
class Folders:
    root: Path
    sources: Path
    index_dir: Path

    def env(self) -> dict[str, str]:
        """The caller's environment without usru settings or terminal sizes, pointed at these folders."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("USRU_") and k not in ("EMBEDDING_MODEL", "COLUMNS", "LINES", "FORCE_COLOR")
        }
        env.update(
            EMBEDDING_MODEL="hashing",
            USRU_SOURCES=str(self.sources),
            USRU_INDEX_DIR=str(self.index_dir),
            PYTHONIOENCODING="utf-8",
        )
        return env


def usru(
    folders: Folders, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `usru ARGS` in the folders' root (so no developer .env is read), stdin piped."""
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=folders.root,
        env=env or folders.env(),
        timeout=120,
    )


def make_folders(root: Path) -> Folders:
    root.mkdir(parents=True, exist_ok=True)
    return Folders(root, copy_seeds(root / "sources"), root / "idx")


def indexed_folders(root: Path) -> Folders:
    """A copy of the seeds in `root`, indexed by `usru index`."""
    folders = make_folders(root)
    result = usru(folders, "index")
    assert result.returncode == 0, result.stderr
    return folders
