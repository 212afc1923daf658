"""Answering over a read-only connection (a read replica, or a role that may only read) to a migrated database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import QUESTION, QUOTE, make_folders, usru

pytestmark = pytest.mark.postgres


def test_ask_and_sources_work_over_a_read_only_connection(postgres_url: str, tmp_path: Path) -> None:
    folders = make_folders(tmp_path)
    indexed = usru(folders, "index", env=folders.env() | {"USRU_DATABASE_URL": postgres_url})
    assert indexed.returncode == 0, indexed.stderr
    # Every transaction of this session read-only, as on a hot standby: the README sends answering
    # workers to read replicas, which must not need to write anything to start.
    read_only = (
        postgres_url
        + ("&" if "?" in postgres_url else "?")
        + "options=-c%20default_transaction_read_only%3Don"
    )
    env = folders.env() | {"USRU_DATABASE_URL": read_only}
    asked = usru(folders, "ask", "--json", QUESTION, env=env)
    assert asked.returncode == 0, asked.stderr
    assert any(c["quote"] == QUOTE for c in json.loads(asked.stdout)["citations"])
    listed = usru(folders, "sources", env=env)
    assert listed.returncode == 0 and "5 indexed articles" in listed.stdout, listed.stderr
