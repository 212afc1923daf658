"""The server dropping `usru index`'s connection in the middle of its write: one sentence, the old version stays."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support.cli import make_folders, usru

pytestmark = pytest.mark.postgres

# Ends the writing session from inside the server the moment the first new article row arrives (during
# the COPY), as a server crash or restart would.
KILL_ON_INSERT = """
CREATE FUNCTION usru_test_die() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
CREATE TRIGGER usru_test_die BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION usru_test_die();
"""


def test_a_connection_lost_mid_write_is_one_sentence_and_keeps_the_live_version(
    postgres_url: str, tmp_path: Path
) -> None:
    folders = make_folders(tmp_path)
    env = folders.env() | {"USRU_DATABASE_URL": postgres_url}
    assert usru(folders, "index", env=env).returncode == 0
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        before = conn.execute("SELECT version FROM live_version").fetchone()
        conn.execute(KILL_ON_INSERT)
    (folders.sources / "new.txt").write_text(
        "Title: Lighthouse keepers\n\nThe Baltic lighthouse keepers union met in Kaliningrad.\n",
        encoding="utf-8",
    )
    result = usru(folders, "index", env=env)
    assert result.returncode == 2, result.stderr
    # Besides the progress summary, one sentence: the server's reason, not its SQL context and row data.
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Embedding articles:")]
    assert len(errors) == 1 and errors[0].startswith("usru: Could not update the index"), result.stderr
    assert "CONTEXT" not in errors[0] and "Lighthouse" not in errors[0], errors[0]
    assert "terminating connection" in errors[0], errors[0]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM live_version").fetchone() == before
        assert conn.execute("SELECT count(*) FROM articles WHERE removed_in IS NULL").fetchone() == (5,)
