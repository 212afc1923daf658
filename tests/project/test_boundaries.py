"""Layering: the core knows nothing of front ends, and the CLI starts without loading the model stack."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Front ends and terminal libraries the core must never import, at any depth of the file.
FORBIDDEN_IN_CORE = (
    "bot",
    "telegram",
    "rich",
    "readline",
    "curses",
    "termios",
    "tty",
    "prompt_toolkit",
    "colorama",
    "click",
    "typer",
    "aiohttp",
)
HEAVY = ("torch", "sentence_transformers", "transformers")


def imported_modules(path: Path) -> list[str]:
    """Every module a file imports, including imports inside functions; relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.parent.name
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.append(package + ("." + node.module if node.module else ""))
            elif node.module:
                names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
            "import_module",
            "__import__",
        ):
            names.extend(
                a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return names


def top_level(name: str) -> str:
    return name.split(".")[0]


CORE_FILES = sorted((REPO / "retrieval").rglob("*.py"))


def test_the_core_is_where_we_look() -> None:
    assert {"service.py", "index/storage.py", "article.py", "extractive.py"} <= {
        p.relative_to(REPO / "retrieval").as_posix() for p in CORE_FILES
    }


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.relative_to(REPO / "retrieval").as_posix())
def test_core_files_import_no_front_end_or_terminal_module(path: Path) -> None:
    bad = [name for name in imported_modules(path) if top_level(name) in FORBIDDEN_IN_CORE]
    assert bad == [], f"retrieval/{path.name} imports {bad}"


def test_the_import_scanner_sees_nested_and_relative_imports(tmp_path: Path) -> None:
    sample = tmp_path / "retrieval" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "import os\nfrom . import store\n\ndef f():\n    import rich.console\n    from bot.render import x\n"
        "    importlib.import_module('telegram')\n",
        encoding="utf-8",
    )
    assert imported_modules(sample) == ["os", "retrieval", "rich.console", "bot.render", "telegram"]


def modules_after(code: str) -> list[str]:
    """The names in sys.modules after running `code` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return modules


def test_importing_the_service_loads_no_front_end() -> None:
    modules = modules_after("import retrieval.service, retrieval.index, retrieval.extractive")
    assert "retrieval.service" in modules
    leaked = [m for m in modules if top_level(m) in ("bot", "telegram", "rich")]
    assert leaked == []


def test_importing_the_core_does_not_load_the_model_stack() -> None:
    modules = modules_after("import retrieval.service")
    assert [m for m in modules if top_level(m) in HEAVY] == []


def test_importing_the_cli_does_not_load_the_model_stack() -> None:
    modules = modules_after("import bot.cli")
    assert "bot.cli" in modules
    assert [m for m in modules if top_level(m) in HEAVY] == []


def test_answering_with_the_hashing_embedder_never_loads_the_model_stack(tmp_path: Path) -> None:
    from tests.conftest import copy_seeds

    sources = copy_seeds(tmp_path / "sources")
    code = (
        "import os\n"
        f"os.environ.update(EMBEDDING_MODEL='hashing', USRU_SOURCES={str(sources)!r}, "
        f"USRU_INDEX_DIR={str(tmp_path / 'idx')!r})\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from bot.cli import main\n"
        "assert main(['ask', '--json', 'Is Russia ready to resume arms control talks?']) == 0\n"
    )
    modules = modules_after(code)
    assert "retrieval.index" in modules and "faiss" in modules
    assert [m for m in modules if top_level(m) in HEAVY] == []
