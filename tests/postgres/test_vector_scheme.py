"""The PostgreSQL store records how each version's vectors were made (USRU_VECTORS) and, as the folder store
does, embeds every article again when an update uses another scheme: in one transaction, never a mix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from retrieval.api import index_sources, open_store
from retrieval.index.vectors import SENTENCE_MEAN, TWO_PASSES
from retrieval.postgres import store as pg_store
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import copy_seeds

pytestmark = pytest.mark.postgres


def settings_for(sources: Path, index_dir: Path, url: str | None, vectors: str) -> Settings:
    return Settings(
        _env_file=None,
        sources=sources,
        index_dir=index_dir,
        embedding_model=HASHING_MODEL,
        database_url=url,
        vectors=vectors,
    )


def recorded(url: str) -> list[tuple[int, str | None]]:
    with psycopg.connect(url) as conn:
        return [(int(r[0]), r[1]) for r in conn.execute("SELECT id, vectors FROM index_versions ORDER BY id")]


def chunk_vectors(version: Any) -> np.ndarray:
    return np.stack([version.chunk_vector(i) for i in range(len(version.chunks))])


def test_another_scheme_embeds_everything_again_in_one_switch(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    two = settings_for(sources, tmp_path / "idx-pg", postgres_url, TWO_PASSES)
    mean = settings_for(sources, tmp_path / "idx-pg", postgres_url, SENTENCE_MEAN)
    first = index_sources(two)
    assert (first.version, first.embedded_articles) == ("v000001", 5)
    assert recorded(postgres_url) == [(1, TWO_PASSES)]
    store = open_store(two)
    old = store.load()
    old_vecs = chunk_vectors(old)

    # While the new version's rows are written (inside the update's transaction, just before it commits),
    # another connection still sees version 1 live with all its rows and none of the new ones.
    seen: list[tuple[int, int, int]] = []
    drop_old = pg_store._drop_old

    def look_from_outside(conn: Any, vid: int) -> None:
        with psycopg.connect(postgres_url) as other:
            row = other.execute(
                "SELECT (SELECT version FROM live_version),"
                " (SELECT count(*) FROM chunks WHERE removed_in IS NULL),"
                " (SELECT count(*) FROM chunks WHERE added_in = %s)",
                (vid,),
            ).fetchone()
        assert row is not None
        seen.append((int(row[0]), int(row[1]), int(row[2])))
        drop_old(conn, vid)

    monkeypatch.setattr(pg_store, "_drop_old", look_from_outside)
    summary = index_sources(mean)
    monkeypatch.undo()
    assert seen == [(1, len(old.chunks), 0)]
    assert (summary.version, summary.embedded_articles, summary.reused_articles) == ("v000002", 5, 0)
    assert recorded(postgres_url) == [(1, TWO_PASSES), (2, SENTENCE_MEAN)]

    new = store.load()
    with psycopg.connect(postgres_url) as conn:
        added = {r[0] for r in conn.execute("SELECT DISTINCT added_in FROM chunks WHERE removed_in IS NULL")}
    assert added == {2}  # every live chunk was written by the new version: no vector of the old scheme left
    # The same vectors as the folder store makes with that scheme, and not the old ones.
    index_sources(settings_for(sources, tmp_path / "idx", None, SENTENCE_MEAN))
    folder = open_store(settings_for(sources, tmp_path / "idx", None, SENTENCE_MEAN)).load()
    new_vecs = chunk_vectors(new)
    assert np.allclose(new_vecs, chunk_vectors(folder), atol=1e-6)
    assert np.allclose(new.sentence_vecs, folder.sentence_vecs, atol=1e-6)
    assert new_vecs.shape == old_vecs.shape and not np.allclose(new_vecs, old_vecs, atol=1e-3)
    # The version loaded before still reads its own vectors.
    assert np.array_equal(chunk_vectors(old), old_vecs)

    # The same scheme again changes nothing; switching back embeds everything again.
    assert index_sources(mean).version == "v000002"
    back = index_sources(two)
    assert (back.version, back.embedded_articles) == ("v000003", 5)
    assert recorded(postgres_url)[-1] == (3, TWO_PASSES)
    assert np.allclose(chunk_vectors(store.load()), old_vecs, atol=1e-6)


def test_a_version_from_before_the_scheme_was_recorded_counts_as_two_passes(
    postgres_url: str, tmp_path: Path
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    two = settings_for(sources, tmp_path / "idx-pg", postgres_url, TWO_PASSES)
    index_sources(two)
    with psycopg.connect(postgres_url) as conn:  # as migration 0007 leaves a version built before it
        conn.execute("UPDATE index_versions SET vectors = NULL")
    assert index_sources(two).version == "v000001"  # nothing to embed again
    again = index_sources(settings_for(sources, tmp_path / "idx-pg", postgres_url, SENTENCE_MEAN))
    assert (again.version, again.embedded_articles) == ("v000002", 5)
