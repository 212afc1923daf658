"""Prompt and answer templates, read from the `prompts/` folder at run time."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def prompts_dir() -> Path:
    """The folder templates are read from (USRU_PROMPTS_DIR overrides it)."""
    return Path(os.environ.get("USRU_PROMPTS_DIR") or PROMPTS_DIR)


@cache
def _read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8").rstrip("\n")


def load_prompt(name: str) -> str:
    """The template called `name` (a file name in the prompts folder)."""
    return _read(prompts_dir(), name)


def render_prompt(name: str, **values: object) -> str:
    """The template filled with values (str.format placeholders)."""
    return load_prompt(name).format(**values)
