"""One index version read from PostgreSQL: the tables answering reads in memory, vector search in pgvector.

Rows are renumbered from 0 in id order, as the folder store's merged segments are, so that both
stores give answering the same tables and therefore the same answers. Chunk vectors stay in the
database: `search_vectors` asks pgvector (exact scan while the table is small, HNSW past that) for the
candidates and scores them here with the same float32 arithmetic as the local store.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.answer import one_line
from retrieval.article import stored_content_hash
from retrieval.embedding import Vectors
from retrieval.errors import IndexError_
from retrieval.index.records import (
    ArticleInfo,
    ChunkTable,
    IndexStats,
    SentenceTable,
    StoredArticle,
    list_article_infos,
)
from retrieval.index.sentence_terms import SentenceTerms, weak_text_of
from retrieval.lexical import Bm25

log = logging.getLogger(__name__)

# HNSW candidates kept per search, at the least. At 1M chunks sampled around real embeddings the store's
# HNSW found 0.905 of the true 10 nearest at 40 (pgvector's default), 0.958 at 100 and 0.982 at 200, p50
# 3.4, 5.8 and 10.2 ms (python -m bench.pg_vectors --sample real --chunks 1000000; README).
HNSW_EF_SEARCH = 200

# The article columns, from StoredArticle itself: a field added there needs only a migration adding it.
ARTICLE_FIELDS = tuple(f.name for f in fields(StoredArticle) if f.name != "id")


def alive(table: str = "") -> str:
    """The condition that a row (of `table`, if named) belongs to version %(v)s."""
    t = f"{table}." if table else ""
    return f"{t}added_in <= %(v)s AND ({t}removed_in IS NULL OR {t}removed_in > %(v)s)"


ALIVE = alive()
# Up to this many admitted chunks a filtered search reads their vectors and scores each exactly.
EXACT_FILTERED = 50_000


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A query that fails (the server went away mid-answer) as one sentence for the user."""
    import psycopg

    from retrieval.postgres.database import DatabaseError

    try:
        yield
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise IndexError_(f"The index database did not answer ({reason}); try again shortly.") from exc
    except DatabaseError as exc:
        # Reconnecting failed. Its sentence names the server (address, user, database), which a bot
        # user must not read: the operator finds it in the log.
        log.warning("%s", exc)
        raise IndexError_("The index database is not reachable; try again shortly.") from exc


class PostgresVersion:
    """One immutable version of the index kept in PostgreSQL."""

    def __init__(self, connection: Callable[[], Any], lock: threading.Lock, version_id: int) -> None:
        self._connection = connection  # the store's connection, opened again if the server dropped it
        self._lock = lock
        self.version_id = version_id
        self.version = f"v{version_id:06d}"
        # One snapshot: rows of old versions are dropped by later updates, never while we read.
        with lock, database_errors():
            conn = connection()
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                meta, rows, sent, chunk_rows, aliases = self._read(conn, version_id)
        article_ids = np.array([r[0] for r in rows], dtype=np.int64)
        if meta is None:
            raise IndexError_(f"The database has no index version {self.version}; run `usru index`.")
        self.embedding_model: str | None = meta[0]
        self.dim = int(meta[1])
        self.built_at = meta[2].isoformat(timespec="seconds")
        self.articles: Sequence[StoredArticle] = [StoredArticle(i, *r[1:]) for i, r in enumerate(rows)]
        self._build(article_ids, sent, chunk_rows, aliases)

    @staticmethod
    def _read(conn: Any, version_id: int) -> tuple[Any, list[Any], list[Any], list[Any], list[Any]]:
        """The version's metadata and rows: articles, sentences, chunks, aliases."""
        v = {"v": version_id}
        meta = conn.execute(
            "SELECT embedding_model, dim, built_at, articles, chunks, sentences FROM index_versions"
            " WHERE id = %s",
            (version_id,),
        ).fetchone()
        rows = conn.execute(
            f"SELECT id, {', '.join(ARTICLE_FIELDS)} FROM articles WHERE {ALIVE} ORDER BY id", v
        ).fetchall()
        sent = conn.execute(
            "SELECT s.article_id, s.start_at, s.end_at, s.quotable, s.embedding FROM sentences s"
            f" JOIN articles a ON a.id = s.article_id WHERE {alive('a')}"
            " ORDER BY s.article_id, s.ord",
            v,
        ).fetchall()
        chunk_rows = conn.execute(
            "SELECT id, article_id, start_at, end_at, first_sentence, end_sentence, terms FROM chunks"
            f" WHERE {ALIVE} ORDER BY article_id, id",
            v,
        ).fetchall()
        aliases = conn.execute(
            "SELECT source, primary_source FROM aliases WHERE version = %s ORDER BY source", (version_id,)
        ).fetchall()
        return meta, rows, sent, chunk_rows, aliases

    def _build(self, article_ids: Any, sent: list[Any], chunk_rows: list[Any], aliases: list[Any]) -> None:
        """The in-memory tables from the rows read."""
        s_article = np.searchsorted(article_ids, np.array([r[0] for r in sent], dtype=np.int64))
        self.sentences = SentenceTable(
            np.column_stack(
                [
                    s_article,
                    [r[1] for r in sent],
                    [r[2] for r in sent],
                    [int(r[3]) for r in sent],
                ]
            )
            if sent
            else None
        )
        self.sentence_vecs: Vectors = (
            np.stack([r[4].to_numpy() for r in sent]).astype(np.float32)
            if sent
            else np.zeros((0, self.dim), np.float32)
        )
        # Where each article's sentences begin, to turn a chunk's sentence ordinals into sentence ids.
        base = np.searchsorted(s_article, np.arange(len(self.articles)))
        self._chunk_ids = np.array([r[0] for r in chunk_rows], dtype=np.int64)
        c_article = np.searchsorted(article_ids, np.array([r[1] for r in chunk_rows], dtype=np.int64))
        self.chunks = ChunkTable(
            np.column_stack(
                [
                    c_article,
                    [r[2] for r in chunk_rows],
                    [r[3] for r in chunk_rows],
                    base[c_article] + np.array([r[4] for r in chunk_rows], dtype=np.int64),
                    base[c_article] + np.array([r[5] for r in chunk_rows], dtype=np.int64),
                ]
            )
            if chunk_rows
            else None
        )
        # The ids are in ascending order only if every article's chunks were written together.
        self._order = np.argsort(self._chunk_ids, kind="stable")
        self.bm25 = Bm25.build([list(r[6]) for r in chunk_rows])
        self._by_source = {a.source: a for a in self.articles}
        self.aliases: dict[str, str] = dict(aliases)
        self._alias_lists: dict[str, list[str]] = {}
        for alias, primary in aliases:
            self._alias_lists.setdefault(primary, []).append(alias)
        self._terms = SentenceTerms(weak_text_of(self))
        self._intact: set[int] = set()

    def _local(self, gids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Chunk ids of this version (rows of `chunks`) for database ids; -1 for none."""
        pos = np.searchsorted(self._chunk_ids[self._order], gids)
        pos = np.clip(pos, 0, max(0, len(self._order) - 1))
        found = self._chunk_ids[self._order][pos] == gids if len(self._order) else np.zeros(len(gids), bool)
        out: npt.NDArray[np.int64] = np.where(found, self._order[pos], -1).astype(np.int64)
        return out

    def _vectors(self, local: npt.NDArray[np.int64]) -> Vectors:
        """The stored vectors of these chunks, row for row."""
        gids = self._chunk_ids[local].tolist()
        with self._lock, database_errors():
            rows = (
                self._connection()
                .execute("SELECT id, embedding FROM chunks WHERE id = ANY(%s)", (gids,))
                .fetchall()
            )
        by_id = {r[0]: r[1].to_numpy() for r in rows}
        if len(by_id) != len(set(gids)):
            raise IndexError_("The index in the database lost chunks of a live version; run `usru index`.")
        return (
            np.stack([by_id[g] for g in gids]).astype(np.float32)
            if gids
            else np.zeros((0, self.dim), np.float32)
        )

    def search_vectors(
        self, qvecs: Vectors, depth: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The `depth` nearest chunks to each query vector (among `allowed` ids if given): scores, ids."""
        qvecs = np.ascontiguousarray(qvecs, dtype=np.float32).reshape(-1, self.dim)
        if allowed is not None and len(allowed) <= EXACT_FILTERED:
            sims = qvecs @ self._vectors(np.asarray(allowed, dtype=np.int64)).T
            top = np.argsort(-sims, axis=1, kind="stable")[:, :depth]
            return np.take_along_axis(sims, top, axis=1).astype(np.float32), allowed[top]
        scores = np.full((len(qvecs), depth), -np.inf, dtype=np.float32)
        ids = np.full((len(qvecs), depth), -1, dtype=np.int64)
        admitted = None if allowed is None else self._chunk_ids[allowed].tolist()
        for qi, q in enumerate(qvecs):
            local, vecs = self._nearest(q, depth, admitted)
            if not len(local):
                continue
            # Scored here, not by pgvector, so both stores rank with the same float32 arithmetic.
            sims = vecs @ q
            order = np.lexsort((local, -sims))[:depth]
            scores[qi, : len(order)] = sims[order]
            ids[qi, : len(order)] = local[order]
        return scores, ids

    def _nearest(
        self, q: Vectors, depth: int, admitted: list[int] | None
    ) -> tuple[npt.NDArray[np.int64], Vectors]:
        """The nearest chunks of this version to one vector, by pgvector: local ids and their vectors."""
        from pgvector import Vector

        where = f"dim = {self.dim} AND {ALIVE}" + ("" if admitted is None else " AND id = ANY(%(ids)s)")
        params: dict[str, Any] = {"v": self.version_id, "q": Vector(q), "k": depth, "ids": admitted}
        with self._lock, database_errors():
            conn = self._connection()
            with conn.transaction():
                # ef_search bounds how many HNSW candidates are kept: at least `depth`, or fewer come back.
                conn.execute(f"SET LOCAL hnsw.ef_search = {max(HNSW_EF_SEARCH, min(depth, 1000))}")
                rows = conn.execute(
                    f"SELECT id, embedding FROM chunks WHERE {where}"
                    f" ORDER BY embedding::vector({self.dim}) <#> %(q)s LIMIT %(k)s",
                    params,
                ).fetchall()
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        local = self._local(np.array([r[0] for r in rows], dtype=np.int64))
        vecs = np.stack([r[1].to_numpy() for r in rows]).astype(np.float32)
        keep = local >= 0
        return local[keep], vecs[keep]

    def chunk_vector(self, chunk_id: int) -> Vectors:
        """The stored vector of one chunk."""
        vec: Vectors = self._vectors(np.array([chunk_id], dtype=np.int64))[0]
        return vec

    def article(self, article_id: int) -> StoredArticle:
        """The article with this row id."""
        return self.articles[article_id]

    def intact_article(self, article_id: int) -> StoredArticle:
        """The article, once its stored text matches the hash taken when its file was read."""
        a = self.articles[article_id]
        if article_id not in self._intact:
            if stored_content_hash(a.source, a.text, a.title, a.publisher, a.date, a.url) != a.content_hash:
                raise IndexError_(
                    f"The index in the database is damaged (the stored text of {one_line(a.source)} was "
                    "changed); rebuild it with `usru index --rebuild`."
                )
            self._intact.add(article_id)
        return a

    def sentence_terms(self, sentence_id: int) -> frozenset[str]:
        """The BM25 terms of one sentence, remembered."""
        return self._terms.get(sentence_id)

    def article_by_source(self, source: str) -> StoredArticle | None:
        """The article indexed from this file name (or from a duplicate of it), if any."""
        found = self._by_source.get(source)
        if found is None and source in self.aliases:
            found = self._by_source.get(self.aliases[source])
        return found

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article with its chunk count and the other files holding the same article."""
        return list_article_infos(self.articles, self.chunks, self._alias_lists)

    def stats(self) -> IndexStats:
        """Counts, outlets and the span of dates."""
        dates = sorted(a.date for a in self.articles if a.date)
        return IndexStats(
            version=self.version,
            articles=len(self.articles),
            chunks=len(self.chunks),
            built_at=self.built_at,
            publishers=sorted({a.publisher for a in self.articles if a.publisher}),
            date_range=(dates[0], dates[-1]) if dates else (None, None),
        )
