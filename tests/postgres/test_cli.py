"""The real `usru` commands with USRU_DATABASE_URL: index, ask, sources and import use the database alone."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support.cli import QUESTION, QUOTE, make_folders, usru

pytestmark = pytest.mark.postgres


def test_every_command_uses_the_database_and_no_index_folder(postgres_url: str, tmp_path: Path) -> None:
    folders = make_folders(tmp_path)
    env = folders.env() | {"USRU_DATABASE_URL": postgres_url}
    indexed = usru(folders, "index", env=env)
    assert indexed.returncode == 0, indexed.stderr
    assert "5 articles" in indexed.stdout or "5 new" in indexed.stdout, indexed.stdout
    # The index is in the database: the folder holds no version (the hashing model has no ONNX cache either).
    assert not (folders.index_dir / "CURRENT").exists()
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT count(*) FROM articles WHERE removed_in IS NULL").fetchone()
    assert row == (5,)

    asked = usru(folders, "ask", "--json", QUESTION, env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["status"] == "answered"
    assert any(c["quote"] == QUOTE for c in answer["citations"])
    listed = usru(folders, "sources", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "003_a81f25c9946499be.txt" in listed.stdout

    # A new article, indexed by `usru import` into the same database, is answered without a restart.
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        json.dumps(
            {
                "title": "Lighthouse keepers",
                "text": "The Baltic lighthouse keepers union said the foghorn at Kaliningrad will be rebuilt "
                "next spring. It has been silent for three winters.",
                "publisher": "Coast Gazette",
                "date": "2020-05-01",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    imported = usru(folders, "import", str(dump), env=env)
    assert imported.returncode == 0, imported.stderr
    asked = usru(folders, "ask", "--json", "What will happen to the foghorn at Kaliningrad?", env=env)
    answer = json.loads(asked.stdout)
    assert answer["status"] == "answered", answer
    assert answer["citations"][0]["publisher"] == "Coast Gazette"
    assert not (folders.index_dir / "CURRENT").exists()


@pytest.mark.parametrize("command", [["index"], ["ask", QUESTION], ["sources"], ["chat"]])
def test_an_unreachable_database_is_one_sentence_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    folders = make_folders(tmp_path)
    env = folders.env() | {"USRU_DATABASE_URL": f"postgresql://usru:hunter2@/usru?host={tmp_path}"}
    result = usru(folders, *command, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: Cannot connect to the database at "), result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_without_psycopg_the_error_says_what_to_install(tmp_path: Path) -> None:
    folders = make_folders(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # A package named psycopg that fails to import, first on the path: as if it were not installed.
    (blocker / "psycopg").mkdir()
    (blocker / "psycopg" / "__init__.py").write_text("raise ImportError('No module named psycopg')\n")
    env = folders.env() | {
        "USRU_DATABASE_URL": "postgresql://localhost/usru",
        "PYTHONPATH": str(blocker),
    }
    result = usru(folders, "sources", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "usru: USRU_DATABASE_URL is set but the PostgreSQL support is not installed; "
        "run `pip install 'usru[postgres]'`."
    )
