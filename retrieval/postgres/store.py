"""The index kept in PostgreSQL + pgvector: the second `IndexStore`, chosen by USRU_DATABASE_URL.

An update plans and embeds like the folder store (the same plan_update, the same embedding), under a
session advisory lock so that two indexers anywhere take turns, then writes every row and switches
live_version in ONE transaction: a reader sees the old version or the new one, never half of one.
Readers poll live_version before each answer (one indexed row) and the update also NOTIFYs usru_index.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.chunking import CHUNKER_VERSION
from retrieval.embedding import Embedder
from retrieval.errors import IndexError_, IndexLockedError, SourcesError
from retrieval.index.building import _embed_articles, plan_sources
from retrieval.index.changes import (
    Entry,
    FileCache,
    LiveArticles,
    check_sources,
    next_aliases,
    read_planned,
)
from retrieval.index.durability import KEEP_VERSIONS
from retrieval.index.records import IndexSummary, Progress
from retrieval.index.segments import SegmentData
from retrieval.index.vectors import DEFAULT_VECTORS, TWO_PASSES, check_scheme
from retrieval.lexical import Bm25
from retrieval.postgres.database import INDEX_LOCK, DatabaseError, connect, describe_error, redact
from retrieval.postgres.version import ARTICLE_FIELDS, PostgresVersion

# Past this many live chunks an HNSW index serves vector search; below it an exact scan is as fast
# and gives exactly the local store's neighbours (the local store switches to IVF at the same size).
HNSW_MIN = 20_000
# m=16, ef_construction=64 (pgvector's defaults) reached recall@10 0.918 at 100k clustered vectors;
# 32/128 reached 0.994 for 2.6x the build time (python -m bench.pg_vectors, README). At 1M chunks
# sampled around real embeddings it reaches 0.982 at ef_search 200 (version.py HNSW_EF_SEARCH), p50
# 10 ms; on tight synthetic clusters only 0.76-0.82, where IVFFlat reached 0.995 (bench/results/pg_vectors.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 128
NOTIFY_CHANNEL = "usru_index"


class _DatabaseLive(LiveArticles):
    """The live version as plan_update reads it, from the articles table instead of segment files."""

    def __init__(self, conn: Any, reusable_meta: dict[str, Any] | None) -> None:
        self._conn = conn
        self.manifest = reusable_meta
        self.aliases = {}
        if reusable_meta is not None:
            self.aliases = {
                s: (p, h)
                for s, p, h in conn.execute(
                    "SELECT source, primary_source, content_hash FROM aliases WHERE version = %s",
                    (reusable_meta["id"],),
                )
            }

    def _select(self, where: str, args: list[Any]) -> dict[str, Entry]:
        rows = self._conn.execute(
            f"SELECT id, source, content_hash, body_hash FROM articles WHERE removed_in IS NULL {where}",
            args,
        ).fetchall()
        return {source: (0, aid, chash, bhash) for aid, source, chash, bhash in rows}

    def primaries(self, sources: list[str] | None = None) -> dict[str, Entry]:
        """Live articles by file name: all of them, or those of the given names."""
        return self._select("", []) if sources is None else self._select("AND source = ANY(%s)", [sources])

    def with_body(self, bhash: str) -> dict[str, Entry]:
        """Live articles whose words hash to this."""
        return self._select("AND body_hash = %s", [bhash])

    def close(self) -> None:
        """Nothing to close: the connection is the store's."""


class _DatabaseFileCache(FileCache):
    """Size and mtime of each file read, in the file_cache table."""

    def __init__(self, conn: Any) -> None:
        self._db = conn

    def get_many(self, sources: list[str] | None) -> dict[str, tuple[int, int, str]]:
        """Cached entries for these sources (all of them when None)."""
        sql = "SELECT source, mtime_ns, size, content_hash FROM file_cache"
        rows = (
            self._db.execute(sql).fetchall()
            if sources is None
            else self._db.execute(sql + " WHERE source = ANY(%s)", (sources,)).fetchall()
        )
        return {r[0]: (int(r[1]), int(r[2]), str(r[3])) for r in rows}

    def update(self, seen: dict[str, tuple[int, int, str]], gone: set[str]) -> None:
        """Remember the files read now and forget the ones gone."""
        with self._db.cursor() as cur:
            cur.executemany(
                "INSERT INTO file_cache VALUES (%s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET"
                " mtime_ns = EXCLUDED.mtime_ns, size = EXCLUDED.size, content_hash = EXCLUDED.content_hash",
                [(s, *v) for s, v in seen.items()],
            )
            cur.execute("DELETE FROM file_cache WHERE source = ANY(%s)", (sorted(gone),))

    def close(self) -> None:
        """Nothing to close: the connection is the store's."""


def chunk_terms(bm25: Bm25) -> list[list[str]]:
    """Each document's tokens back from BM25 postings (each term as often as it occurs)."""
    docs: list[list[str]] = [[] for _ in range(bm25.n_docs)]
    for term, t in bm25.vocab.items():
        lo, hi = int(bm25.offsets[t]), int(bm25.offsets[t + 1])
        for doc, tf in zip(bm25.doc_ids[lo:hi].tolist(), bm25.tfs[lo:hi].tolist(), strict=True):
            docs[doc].extend([term] * int(tf))
    return docs


class PostgresStore:
    """Index versions in a PostgreSQL database with pgvector."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = connect(url)
        # One connection per store, used by one thread at a time (a bot answers from several).
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the store's connection."""
        self._conn.close()

    def connection(self) -> Any:
        """The store's connection (call with the lock held), opened again if the server dropped it."""
        if self._conn.closed:
            self._conn = connect(self.url)
        return self._conn

    def current_version(self) -> str | None:
        """The name of the live version (one indexed row), or None if there is none."""
        vid = self._live_id()
        return None if vid is None else f"v{vid:06d}"

    def _live_id(self) -> int | None:
        import psycopg

        try:
            with self._lock:
                row = self.connection().execute("SELECT version FROM live_version").fetchone()
        except psycopg.Error as exc:  # the server went away between answers
            reason = describe_error(exc)
            raise IndexError_(f"Cannot read the index from {redact(self.url)} ({reason}).") from exc
        except DatabaseError as exc:  # and is not back yet: an IndexError_, so readers keep their version
            raise IndexError_(str(exc)) from exc
        return None if row is None else int(row[0])

    def load(self) -> PostgresVersion:
        """The live version, read into memory (but for the chunk vectors, searched in the database)."""
        vid = self._live_id()
        if vid is None:
            raise IndexError_(
                f"There is no index in the database at {redact(self.url)}; build it with `usru index`."
            )
        return PostgresVersion(self.connection, self._lock, vid)

    @contextlib.contextmanager
    def _indexer_lock(self, conn: Any, wait: bool) -> Iterator[None]:
        """Hold the database's indexer lock for the whole update; a second indexer fails fast unless it waits."""
        if wait:
            conn.execute("SELECT pg_advisory_lock(%s)", (INDEX_LOCK,))
        elif not conn.execute("SELECT pg_try_advisory_lock(%s)", (INDEX_LOCK,)).fetchone()[0]:
            raise IndexLockedError(
                f"Another `usru index` is updating the database at {redact(self.url)}; wait for it (or pass --wait)."
            )
        import psycopg

        try:
            yield
        finally:
            # A connection the server dropped has lost its lock with it.
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (INDEX_LOCK,))

    def update(
        self,
        sources: Path,
        embedder: Embedder,
        *,
        vectors: str = DEFAULT_VECTORS,
        rebuild: bool = False,
        wait: bool = False,
        progress: Progress | None = None,
        paths: list[Path] | None = None,
        allow_shrink: bool = False,
    ) -> IndexSummary:
        """Bring the database up to date with the sources folder (or just these files) as a new live version."""
        started = time.perf_counter()
        import psycopg

        check_sources(sources)
        conn = connect(self.url)  # its own connection: readers of this store go on answering meanwhile
        try:
            with self._indexer_lock(conn, wait):
                return self._update(
                    conn, sources, embedder, vectors, rebuild, progress, paths, allow_shrink, started
                )
        except psycopg.Error as exc:  # the server went away or refused a write: nothing was committed
            reason = describe_error(exc)
            raise IndexError_(
                f"Could not update the index in the database at {redact(self.url)} ({reason}); "
                "the version live before is still the one in use."
            ) from exc
        finally:
            conn.close()

    def _update(
        self,
        conn: Any,
        sources: Path,
        embedder: Embedder,
        vectors: str,
        rebuild: bool,
        progress: Progress | None,
        paths: list[Path] | None,
        allow_shrink: bool,
        started: float,
    ) -> IndexSummary:
        meta_row = conn.execute(
            "SELECT v.id, v.embedding_model, v.chunker, v.articles, v.chunks, v.sentences, v.vectors"
            " FROM live_version l JOIN index_versions v ON v.id = l.version"
        ).fetchone()
        meta = (
            None
            if meta_row is None
            else dict(
                zip(
                    ("id", "embedding_model", "chunker", "articles", "chunks", "sentences", "vectors"),
                    meta_row,
                    strict=True,
                )
            )
        )
        scheme = check_scheme(vectors)
        reusable = (
            meta is not None
            and not rebuild
            and meta["embedding_model"] == embedder.name
            and meta["chunker"] == CHUNKER_VERSION
            # Vectors made another way would not compare with the new ones: embed every article again.
            and (meta["vectors"] or TWO_PASSES) == scheme
        )
        live = _DatabaseLive(conn, meta)
        cache = _DatabaseFileCache(conn)
        previous = None if meta is None else (int(meta["articles"]), f"v{meta['id']:06d}")
        plan = plan_sources(sources, paths, live, reusable, cache, progress, previous, allow_shrink)
        if (
            meta is not None
            and reusable
            and not (plan.added or plan.deleted or plan.new or plan.changed or plan.removed)
            and not plan.unaliased
            and all(live.aliases.get(k) == v for k, v in plan.aliases.items())
        ):
            with conn.transaction():
                cache.update(plan.stats, plan.removed)
            return IndexSummary(
                version=f"v{meta['id']:06d}",
                articles=int(meta["articles"]),
                chunks=int(meta["chunks"]),
                sentences=int(meta["sentences"]),
                seconds=time.perf_counter() - started,
                embedded_articles=0,
                reused_articles=int(meta["articles"]),
                skipped=plan.skipped,
            )
        # Embedding (the slow part) happens outside the transaction; the lock keeps other indexers out.
        added = read_planned(sources, plan, plan.added)
        data = _embed_articles(added, embedder, vectors, progress) if added else None
        aliases = next_aliases(live.aliases, plan, reusable)
        with conn.transaction():
            vid = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM index_versions").fetchone()[0])
            if reusable:
                gone_ids = sorted(aid for _, aid in plan.deleted)
                conn.execute("UPDATE articles SET removed_in = %s WHERE id = ANY(%s)", (vid, gone_ids))
                conn.execute("UPDATE chunks SET removed_in = %s WHERE article_id = ANY(%s)", (vid, gone_ids))
            else:
                conn.execute("UPDATE articles SET removed_in = %s WHERE removed_in IS NULL", (vid,))
                conn.execute("UPDATE chunks SET removed_in = %s WHERE removed_in IS NULL", (vid,))
            if data is not None:
                _insert_rows(conn, vid, embedder.dim, data)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO aliases VALUES (%s, %s, %s, %s)",
                    [(vid, s, p, h) for s, (p, h) in sorted(aliases.items())],
                )
            n_articles, n_chunks = conn.execute(
                "SELECT (SELECT count(*) FROM articles WHERE removed_in IS NULL),"
                " (SELECT count(*) FROM chunks WHERE removed_in IS NULL)"
            ).fetchone()
            n_sentences = conn.execute(
                "SELECT count(*) FROM sentences s JOIN articles a ON a.id = s.article_id"
                " WHERE a.removed_in IS NULL"
            ).fetchone()[0]
            if n_articles <= 0:
                detail = f" ({len(plan.skipped)} skipped: {plan.skipped[0][1]}…)" if plan.skipped else ""
                raise SourcesError(f"No readable .txt or .md articles in {sources}{detail}.")
            conn.execute(
                "INSERT INTO index_versions (id, built_at, embedding_model, dim, chunker, articles, chunks,"
                " sentences, vectors) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    vid,
                    dt.datetime.now(dt.UTC),
                    embedder.name,
                    embedder.dim,
                    CHUNKER_VERSION,
                    n_articles,
                    n_chunks,
                    n_sentences,
                    scheme,
                ),
            )
            conn.execute(
                "INSERT INTO live_version (version) VALUES (%s)"
                " ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
                (vid,),
            )
            if n_chunks > HNSW_MIN:
                _ensure_hnsw(conn, embedder.dim)
            _drop_old(conn, vid)
            cache.update(plan.stats, plan.removed)
            conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, f"v{vid:06d}"))
        return IndexSummary(
            version=f"v{vid:06d}",
            articles=int(n_articles),
            chunks=int(n_chunks),
            sentences=int(n_sentences),
            seconds=time.perf_counter() - started,
            embedded_articles=len(added),
            reused_articles=int(n_articles) - len(added),
            new=plan.new_articles(),
            changed=sorted(plan.changed),
            removed=sorted(plan.removed),
            skipped=plan.skipped,
            duplicates=plan.duplicates(),
        )


def _insert_rows(conn: Any, vid: int, dim: int, data: SegmentData) -> None:
    """Write the new articles, their sentences and their chunks (COPY: a bulk load is one stream)."""
    n = len(data.articles)
    ids = [r[0] for r in conn.execute("SELECT nextval('articles_id_seq') FROM generate_series(1, %s)", (n,))]
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY articles (id, {', '.join(ARTICLE_FIELDS)}, added_in) FROM STDIN") as copy,
    ):
        for gid, a in zip(ids, data.articles, strict=True):
            copy.write_row((gid, *(getattr(a, f) for f in ARTICLE_FIELDS), vid))
    s_article = data.sentences.article
    first = np.searchsorted(s_article, np.arange(n)) if len(s_article) else np.zeros(n, np.int64)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY sentences (article_id, ord, start_at, end_at, quotable, embedding) FROM STDIN"
        ) as copy,
    ):
        for sid, (aid, start, end, quotable) in enumerate(data.sentences.rows.tolist()):
            copy.write_row(
                (ids[aid], sid - int(first[aid]), start, end, bool(quotable), data.sentence_vecs[sid])
            )
    terms = chunk_terms(data.bm25)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY chunks (article_id, start_at, end_at, first_sentence, end_sentence, terms, dim, embedding,"
            " added_in) FROM STDIN"
        ) as copy,
    ):
        for cid, (aid, start, end, lo, hi) in enumerate(data.chunks.rows.tolist()):
            base = int(first[aid])
            copy.write_row(
                (ids[aid], start, end, lo - base, hi - base, terms[cid], dim, data.chunk_vecs[cid], vid)
            )


def _ensure_hnsw(conn: Any, dim: int, m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION) -> None:
    """Build the HNSW index over this dimension's chunk vectors once the table is large."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS chunks_hnsw_{dim} ON chunks USING hnsw"
        f" ((embedding::vector({dim})) vector_ip_ops) WITH (m = {int(m)},"
        f" ef_construction = {int(ef_construction)}) WHERE dim = {dim}"
    )


def _drop_old(conn: Any, vid: int) -> None:
    """Drop the rows only versions older than the last few needed (sentences and chunks follow their article)."""
    oldest = vid - KEEP_VERSIONS + 1
    conn.execute("DELETE FROM chunks WHERE removed_in IS NOT NULL AND removed_in <= %s", (oldest,))
    conn.execute("DELETE FROM articles WHERE removed_in IS NOT NULL AND removed_in <= %s", (oldest,))
    conn.execute("DELETE FROM aliases WHERE version < %s", (oldest,))
    conn.execute("DELETE FROM index_versions WHERE id < %s", (oldest,))
