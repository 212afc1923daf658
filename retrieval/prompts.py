"""Prompt and answer templates, read from the `prompts` package's files at run time."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path


def prompts_dir() -> Path:
    """The folder templates are read from: the installed `prompts` package (USRU_PROMPTS_DIR overrides it)."""
    override = os.environ.get("USRU_PROMPTS_DIR")
    if override:
        return Path(override)
    # importlib.resources finds the templates wherever the package is installed (a wheel, not just
    # a checkout); installed as files, as pip does, that is a real folder.
    return Path(str(resources.files("prompts")))


@cache
def _read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8").rstrip("\n")


def load_prompt(name: str) -> str:
    """The template called `name` (a file name in the prompts folder)."""
    return _read(prompts_dir(), name)


def render_prompt(name: str, **values: object) -> str:
    """The template filled with values (str.format placeholders)."""
    return load_prompt(name).format(**values)
