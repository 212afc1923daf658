"""A database that already holds another application's tables: usru refuses it in one sentence, changing nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.support.cli import make_folders, usru

pytestmark = pytest.mark.postgres

# What Rails and golang-migrate (among others) keep their own migrations in: the same table name as usru's.
FOREIGN_MIGRATIONS = {
    "rails": [
        "CREATE TABLE schema_migrations (version varchar PRIMARY KEY)",
        "INSERT INTO schema_migrations VALUES ('20190101000000')",
    ],
    "golang-migrate": [
        "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)",
        "INSERT INTO schema_migrations VALUES (3, false)",
    ],
}


@pytest.mark.parametrize("tool", sorted(FOREIGN_MIGRATIONS))
def test_another_tools_schema_migrations_table_is_refused_in_one_sentence(
    postgres_url: str, tmp_path: Path, tool: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for sql in FOREIGN_MIGRATIONS[tool]:
            conn.execute(sql)
    folders = make_folders(tmp_path)
    result = usru(folders, "index", env=folders.env() | {"USRU_DATABASE_URL": postgres_url})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: "), result.stderr
    assert "schema_migrations" in lines[0] and "not usru's" in lines[0], lines[0]
    with psycopg.connect(postgres_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"schema_migrations"}, tables  # nothing of usru's was created next to it
