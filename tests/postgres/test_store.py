"""The PostgreSQL store against a real PostgreSQL 18 + pgvector: the same index and answers as the folder store,
updates in one transaction, one indexer at a time, readers switching versions without a restart."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from bench.evaluation import load_questions
from retrieval.answer import Answer
from retrieval.embedding import load_embedder
from retrieval.errors import IndexLockedError
from retrieval.index import FolderStore, StoredVersion
from retrieval.postgres import DatabaseError, PostgresStore, connect, migrations
from retrieval.postgres import store as pg_store
from retrieval.postgres.database import INDEX_LOCK
from retrieval.service import AnsweringService
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import copy_seeds

pytestmark = pytest.mark.postgres

QUESTION = "Is Russia ready to resume arms control talks?"
QUOTE = "Putin said that Russia is ready to work with the US on arms control issues."


def settings_for(sources: Path, index_dir: Path, url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        sources=sources,
        index_dir=index_dir,
        embedding_model=HASHING_MODEL,
        database_url=url,
    )


def service_over(settings: Settings, store: Any) -> AnsweringService:
    embedder = load_embedder(settings.embedding_model, settings.index_dir, settings.use_onnx)
    return AnsweringService(settings, embedder, store.load(), store=store)


def answer_record(a: Answer) -> dict[str, Any]:
    """What a user sees of an answer (timings aside)."""
    d = dataclasses.asdict(a)  # lead, citations, groups, more quotes, note: all of it
    del d["timings_ms"]
    return d


def test_migrations_are_applied_once_and_recorded(postgres_url: str) -> None:
    shipped = migrations()
    assert shipped and shipped[0][1] == "0001_index.sql"
    connect(postgres_url).close()
    with connect(postgres_url) as conn:  # a second connect applies nothing again
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert rows == [(n, name) for n, name, _ in shipped]
    assert ext is not None


def test_a_newer_schema_than_usru_knows_is_refused(postgres_url: str) -> None:
    with connect(postgres_url) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')")
    with pytest.raises(DatabaseError, match="upgrade usru"):
        connect(postgres_url)


def test_unreachable_server_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as err:
        connect(f"postgresql://usru:secret@/usru?host={tmp_path}")
    message = str(err.value)
    assert message.startswith("Cannot connect to the database at ")
    assert "secret" not in message and "\n" not in message


def _same_tables(a: StoredVersion, b: StoredVersion) -> None:
    # Fields as read (a loaded folder version reads each text from its segment when asked for).
    assert [dataclasses.asdict(x) for x in a.articles] == [dataclasses.asdict(x) for x in b.articles]
    assert np.array_equal(np.asarray(a.chunks), np.asarray(b.chunks))
    assert np.array_equal(np.asarray(a.sentences), np.asarray(b.sentences))
    assert np.array_equal(a.sentence_vecs, b.sentence_vecs)
    assert a.bm25.n_docs == b.bm25.n_docs
    for term in ("russia", "putin", "sanction", "obama"):
        assert np.array_equal(a.bm25.scores([term]), b.bm25.scores([term]))
    assert a.list_articles() == b.list_articles()
    sa, sb = a.stats(), b.stats()
    assert (sa.articles, sa.chunks, sa.publishers, sa.date_range) == (
        sb.articles,
        sb.chunks,
        sb.publishers,
        sb.date_range,
    )


def test_both_stores_hold_the_same_index_and_give_identical_answers_on_the_eval(
    postgres_url: str, tmp_path: Path
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    folder_settings = settings_for(sources, tmp_path / "idx")
    pg_settings = settings_for(sources, tmp_path / "idx-pg", postgres_url)
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    folder, pg = FolderStore(folder_settings.index_dir), PostgresStore(postgres_url)
    folder.update(sources, embedder)
    summary = pg.update(sources, embedder)
    assert (summary.version, summary.articles, summary.embedded_articles) == ("v000001", 5, 5)
    _same_tables(folder.load(), pg.load())
    local, remote = service_over(folder_settings, folder), service_over(pg_settings, pg)
    questions = [q["question"] for q in load_questions()]
    assert len(questions) >= 40
    answered = 0
    for q in questions:
        a, b = local.answer(q), remote.answer(q)
        assert answer_record(a) == answer_record(b), q
        answered += a.status == "answered"
    assert answered >= 10  # the comparison covers real answers, not only refusals


def test_the_leaning_of_the_front_matter_is_kept_as_in_the_folder_store(
    postgres_url: str, tmp_path: Path
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    (sources / "rated.md").write_text(
        "---\ntitle: Summit\npublisher: Daily Example\ndate: 2018-07-16\nleaning: left\n---\n\n"
        "Putin and Trump met in Helsinki for a summit on arms control and sanctions.\n",
        encoding="utf-8",
    )
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    folder, pg = FolderStore(tmp_path / "idx"), PostgresStore(postgres_url)
    folder.update(sources, embedder)
    pg.update(sources, embedder)
    _same_tables(folder.load(), pg.load())
    leanings = {a.source: a.leaning for a in pg.load().articles}
    assert leanings["rated.md"] == "left"
    assert {v for k, v in leanings.items() if k != "rated.md"} == {None}


def test_vector_search_returns_the_folder_stores_neighbours(postgres_url: str, tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    folder, pg = FolderStore(tmp_path / "idx"), PostgresStore(postgres_url)
    folder.update(sources, embedder)
    pg.update(sources, embedder)
    a, b = folder.load(), pg.load()
    q = embedder.embed_query("sanctions against Moscow and the European Union")[None, :]
    sa, ia = a.search_vectors(q, 10)
    sb, ib = b.search_vectors(q, 10)
    assert ia.tolist() == ib.tolist()
    assert np.allclose(sa, sb, atol=1e-6)
    allowed = np.flatnonzero(np.asarray(a.chunks.article) == 2).astype(np.int64)
    fa, ja = a.search_vectors(q, 5, allowed)
    fb, jb = b.search_vectors(q, 5, allowed)
    assert ja.tolist() == jb.tolist() and set(jb[0].tolist()) <= set(allowed.tolist())
    assert np.allclose(fa, fb, atol=1e-6)
    assert np.array_equal(a.chunk_vector(3), b.chunk_vector(3))


def test_past_the_threshold_search_goes_through_hnsw_with_the_same_neighbours(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_store, "HNSW_MIN", 10)  # the seeds' 24 chunks count as a large table
    sources = copy_seeds(tmp_path / "sources")
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    folder, pg = FolderStore(tmp_path / "idx"), PostgresStore(postgres_url)
    folder.update(sources, embedder)
    pg.update(sources, embedder)
    a, b = folder.load(), pg.load()
    q = embedder.embed_query("sanctions against Moscow and the European Union")
    with psycopg.connect(postgres_url) as conn:
        indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks'")]
        conn.execute("SET enable_seqscan = off")  # what the planner picks on a large table
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                f"EXPLAIN SELECT id FROM chunks WHERE dim = {embedder.dim} AND added_in <= 1"
                f" ORDER BY embedding::vector({embedder.dim}) <#> %s::vector LIMIT 10",
                (str(q.tolist()),),
            )
        )
    assert any("USING hnsw" in d and "vector_ip_ops" in d for d in indexes), indexes
    assert f"chunks_hnsw_{embedder.dim}" in plan
    # HNSW is approximate, but with ef_search above the table's size it must find the exact neighbours.
    pg.connection().execute("SET enable_seqscan = off")
    assert a.search_vectors(q[None, :], 10)[1].tolist() == b.search_vectors(q[None, :], 10)[1].tolist()


def test_an_update_adds_changes_and_removes_and_a_reader_switches_without_restart(
    postgres_url: str, tmp_path: Path
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    settings = settings_for(sources, tmp_path / "idx", postgres_url)
    store = PostgresStore(postgres_url)
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    store.update(sources, embedder)
    service = service_over(settings, store)
    old = service.index
    assert old.version == "v000001" and service.answer(QUESTION).status == "answered"

    (sources / "zz_new.txt").write_text(
        "Title: Lighthouse keepers\nPublisher: Coast Gazette\nDate: 2020-05-01\n\n"
        "The Baltic lighthouse keepers union said the foghorn at Kaliningrad will be rebuilt next spring.\n",
        encoding="utf-8",
    )
    (sources / "004_d8420f329212aa7b.txt").unlink()
    summary = PostgresStore(postgres_url).update(sources, embedder)  # another process's indexer
    assert (summary.new, summary.removed, summary.embedded_articles) == (
        ["zz_new.txt"],
        ["004_d8420f329212aa7b.txt"],
        1,
    )
    assert summary.reused_articles == 4
    new = service.index  # picked up between questions
    assert new.version == "v000002"
    assert [a.source for a in new.articles][-1] == "zz_new.txt"
    assert "004_d8420f329212aa7b.txt" not in {a.source for a in new.articles}
    answer = service.answer("What will happen to the foghorn at Kaliningrad?")
    assert answer.status == "answered"
    assert all(c.source == "zz_new.txt" for c in answer.citations)
    for c in answer.citations:
        article = new.article_by_source(c.source)
        assert article is not None and article.text[c.start : c.end] == c.quote
    # The version loaded before still reads exactly its own rows: 5 articles, none of the new ones.
    assert len(old.articles) == 5
    q = embedder.embed_query("foghorn Kaliningrad lighthouse")[None, :]
    _, ids = old.search_vectors(q, 50)
    assert ids.max() < len(old.chunks)
    assert {old.articles[old.chunks.row(i).article].source for i in ids[0] if i >= 0} <= {
        a.source for a in old.articles
    }
    # Nothing changed: the live version stays (no reload for every reader).
    assert store.update(sources, embedder).version == "v000002"


def _counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT version FROM live_version), (SELECT count(*) FROM articles),"
            " (SELECT count(*) FROM chunks)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_a_failed_update_leaves_nothing_behind(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    store = PostgresStore(postgres_url)
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    store.update(sources, embedder)
    before = _counts(postgres_url)
    (sources / "000_45b60604108e829c.txt").unlink()
    (sources / "zz_new.txt").write_text("Title: T\n\nA brand new article about the arctic council talks.\n")

    def fail(conn: Any, vid: int) -> None:
        # Every row of the new version has been written by now, in the same transaction.
        assert conn.execute("SELECT count(*) FROM articles WHERE added_in = %s", (vid,)).fetchone()[0] == 1
        raise RuntimeError("the server went away")

    monkeypatch.setattr(pg_store, "_drop_old", fail)
    with pytest.raises(RuntimeError):
        store.update(sources, embedder)
    assert _counts(postgres_url) == before
    assert store.load().version == "v000001" and len(store.load().articles) == 5
    monkeypatch.undo()
    assert store.update(sources, embedder).version == "v000002"


def test_a_second_indexer_fails_fast_or_waits_for_the_lock(postgres_url: str, tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    holder = psycopg.connect(postgres_url, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(%s)", (INDEX_LOCK,))
    store = PostgresStore(postgres_url)
    with pytest.raises(IndexLockedError, match="pass --wait"):
        store.update(sources, embedder)
    done: list[str] = []
    waiter = threading.Thread(target=lambda: done.append(store.update(sources, embedder, wait=True).version))
    waiter.start()
    time.sleep(1.0)
    assert not done and waiter.is_alive()  # blocked on the lock, not failed
    holder.execute("SELECT pg_advisory_unlock(%s)", (INDEX_LOCK,))
    waiter.join(60)
    holder.close()
    assert done == ["v000001"]


def test_two_indexers_at_once_take_turns_and_both_succeed(postgres_url: str, tmp_path: Path) -> None:
    a = copy_seeds(tmp_path / "a")
    b = copy_seeds(tmp_path / "b")
    (b / "zz_extra.txt").write_text(
        "Title: X\n\nThe envoys met in Geneva to discuss the strategic arms treaty.\n"
    )
    embedder = load_embedder(HASHING_MODEL, tmp_path / "idx", True)
    results: list[Any] = []

    def run(sources: Path) -> None:
        try:
            results.append(PostgresStore(postgres_url).update(sources, embedder, wait=True))
        except Exception as exc:  # recorded, so the assert below names it
            results.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.version for r in results) == ["v000001", "v000002"]
    live = PostgresStore(postgres_url).load()
    last = max(results, key=lambda r: r.version)
    assert len(live.articles) == last.articles
    # Every chunk of the live version belongs to a live article exactly once: no mix of the two runs.
    sources = [a.source for a in live.articles]
    assert len(sources) == len(set(sources))


def test_a_connection_the_server_dropped_is_opened_again(postgres_url: str, tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    settings = settings_for(sources, tmp_path / "idx", postgres_url)
    store = PostgresStore(postgres_url)
    store.update(sources, load_embedder(HASHING_MODEL, tmp_path / "idx", True))
    service = service_over(settings, store)
    assert service.answer(QUESTION).status == "answered"
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # a server restart, a failover, a pooler
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    answer = service.answer(QUESTION)
    assert answer.status == "answered" and any(c.quote == QUOTE for c in answer.citations)
    assert store.current_version() == "v000001"
