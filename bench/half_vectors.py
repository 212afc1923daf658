"""Float16 IVF cells re-scored in float32 (retrieval/index/chunk_search.py) against float32 IVF, on real vectors.

A loaded version past FLAT_MAX chunks keeps float16 copies of its chunk vectors and re-scores FAISS's
candidates exactly (issue 13). This checks, on real embeddings, that the results are those of the
float32 IVF search: the archive slice's index (bench.archive_eval's cache, read only) has 10,591 real
chunk vectors and 36,391 real sentence vectors; together they are searched as one IVF index with the
cells usru would train for that many, and held-out (non-zero) sentence vectors are the queries.

    .venv/bin/python -m bench.half_vectors            # prints JSON, writes bench/results/half_vectors.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.archive_slice import cache_dir
from bench.evaluation import ROOT
from retrieval.index.chunk_search import ChunkSearch
from retrieval.index.durability import current_version, read_manifest
from retrieval.index.rows import RowStack
from retrieval.index.segments import read_chunk_vectors
from retrieval.vector_index import (
    POINTS_PER_CELL,
    VectorIndexBuilder,
    assign_lists,
    count_lists,
    train_quantizer,
)

DEPTH = 30  # search.CANDIDATES: the depth answering asks for


def real_vectors(index_dir: Path) -> np.ndarray:
    """Every chunk and sentence vector of the version, as float32 rows."""
    manifest = read_manifest(index_dir, current_version(index_dir) or "")
    parts = []
    for seg in manifest["segments"]:
        folder = index_dir / "segments" / seg["name"]
        parts.append(read_chunk_vectors(folder, int(manifest["dim"])))
        parts.append(np.load(folder / "sentence_vecs.npy", allow_pickle=False).astype(np.float32))
    return np.concatenate(parts)


def measure(index_dir: Path, queries: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Top-DEPTH ids and scores of float32 IVF, float16 IVF, and float16 re-scored, compared."""
    rng = np.random.default_rng(seed)
    vectors = real_vectors(index_dir)
    # Sentences too short to quote are stored as zero vectors: a zero query ties every vector at 0,
    # an order FAISS leaves to its scan, and no question embeds to it; queries are real sentences.
    real = np.flatnonzero(np.abs(vectors).sum(axis=1) > 0)
    held = rng.choice(real, queries, replace=False)
    qs = vectors[held]
    base = np.delete(vectors, held, axis=0)
    n_lists = count_lists(len(base))
    sample = base[rng.choice(len(base), min(len(base), n_lists * POINTS_PER_CELL), replace=False)]
    quantizer = train_quantizer(sample, n_lists)
    lists = assign_lists(quantizer, base)
    full = VectorIndexBuilder(base.shape[1], quantizer)
    full.add(base, lists)
    full_index = full.finish(direct_map=False)
    half = VectorIndexBuilder(base.shape[1], quantizer, half=True)
    half.add(base, lists)
    half_index = half.finish(direct_map=False)
    norm = float(np.sqrt(np.einsum("ij,ij->i", base, base).max()))
    rescored = ChunkSearch(half_index, RowStack([(base, None)], base.shape[1]), half=True, max_norm=norm)
    same_ids = same_rescored = overlap_raw = raw_same = dup_only = 0
    max_diff = 0.0
    times: dict[str, list[float]] = {"float32": [], "float16 re-scored": []}
    for q in qs:
        q1 = q.reshape(1, -1)
        t = time.perf_counter()
        s32, i32 = full_index.search(q1, DEPTH)
        times["float32"].append(time.perf_counter() - t)
        t = time.perf_counter()
        s_r, i_r = rescored.search(q1, DEPTH)
        times["float16 re-scored"].append(time.perf_counter() - t)
        _, i16 = half_index.search(q1, DEPTH)
        same_ids += bool(np.array_equal(i32, i_r))
        differ = i32[0] != i_r[0]
        if differ.any():
            # Where they differ, is it only which copy of a duplicated vector, at an equal score?
            dup_only += bool(
                np.array_equal(base[i32[0][differ]], base[i_r[0][differ]])
                and np.allclose(s32[0][differ], s_r[0][differ], rtol=0, atol=1e-6)
            )
        same_rescored += bool(np.array_equal(i32, i_r) and np.allclose(s32, s_r, rtol=0, atol=1e-6))
        max_diff = max(max_diff, float(np.abs(s32 - s_r).max()))
        overlap_raw += len(set(i32[0].tolist()) & set(i16[0].tolist()))
        raw_same += bool(np.array_equal(i32, i16))
    return {
        "vectors": len(base),
        "queries": queries,
        "depth": DEPTH,
        "index": f"IVF{n_lists} nprobe={int(full_index.nprobe)}",
        "rescored_identical_ranked_ids": same_ids,
        "rescored_identical_ids_and_scores": same_rescored,
        "rescored_differ_only_by_duplicate_copy": dup_only,
        "rescored_max_score_diff": max_diff,
        "float16_alone_identical_ranked_ids": raw_same,
        "float16_alone_overlap_at_depth": round(overlap_raw / (queries * DEPTH), 4),
        "p50_ms": {k: round(statistics.median(v) * 1000, 3) for k, v in times.items()},
        "memory_mib": {
            "float32": round(len(base) * base.shape[1] * 4 / 2**20, 1),
            "float16": round(len(base) * base.shape[1] * 2 / 2**20, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run on the archive slice's index and write the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, default=cache_dir() / "russia" / "index")
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)
    if not (args.index / "CURRENT").is_file():
        print(f"no index at {args.index} (run bench.archive_eval once)", file=sys.stderr)
        return 1
    result = measure(args.index, args.queries)
    out = ROOT / "bench" / "results" / "half_vectors.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
