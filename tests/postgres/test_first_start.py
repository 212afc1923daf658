"""Several workers started at once on a database with no index yet, as the README's `for i in 1 2 3; do usru bot & done`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from retrieval.postgres.database import INDEX_LOCK
from tests.support.cli import COMMAND, make_folders

pytestmark = pytest.mark.postgres


def test_processes_started_while_the_first_index_is_built_wait_for_it(
    postgres_url: str, tmp_path: Path
) -> None:
    folders = make_folders(tmp_path)
    env = folders.env() | {"USRU_DATABASE_URL": postgres_url}
    with psycopg.connect(postgres_url, autocommit=True) as holder:
        # The first worker building the index holds the indexer lock: the others find no index yet and
        # must wait for it, not exit with "Another `usru index` is updating".
        holder.execute("SELECT pg_advisory_lock(%s)", (INDEX_LOCK,))
        procs = [
            subprocess.Popen(
                [*COMMAND, "sources"],
                cwd=folders.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and all(p.poll() is None for p in procs):
            waiting = holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'"
            ).fetchone()
            if waiting == (3,):
                break
            time.sleep(0.1)
        holder.execute("SELECT pg_advisory_unlock(%s)", (INDEX_LOCK,))
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "5 indexed articles" in out, out
