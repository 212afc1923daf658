"""Search at 100k and 1M chunks: the index usru picks at that size against exact search.

Embedding a million passages takes hours here (about 35 a second), and uniform random vectors have
meaningless neighbours, so the corpus is sampled around real embeddings: a few thousand generated news
sentences are embedded with the real model, and each synthetic chunk is a random blend of two of them
plus noise, normalised. Questions are real embeddings of held-out sentences, never used to generate.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from typing import Any

import numpy as np

from bench.evaluation import ROOT, percentile
from retrieval.vector_index import (
    NPROBE,
    POINTS_PER_CELL,
    assign_lists,
    build_vector_index,
    count_lists,
    describe,
    train_quantizer,
)

RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / ".usru" / "bench"
ACTORS = (
    "Washington|Moscow|The Kremlin|The White House|The State Department|Russia's foreign ministry|The Pentagon|"
    "NATO allies|US senators|Russian diplomats|The US Treasury|Gazprom|American negotiators|Ukrainian officials|"
    "European leaders|The UN Security Council|Russian state media|US intelligence agencies|Sergei Lavrov|"
    "The US ambassador|Rosatom|The Federal Reserve|Russian lawmakers|A Kremlin spokesman|The US Congress"
).split("|")
VERBS = (
    "warned about|proposed talks on|rejected a plan for|imposed sanctions over|called for limits on|"
    "signed an agreement on|accused the other side of violating|postponed a summit on|expressed concern about|"
    "demanded guarantees on|expelled diplomats after|announced new tariffs tied to|resumed a dialogue on|"
    "froze assets linked to|denied reports of|published a report on|held closed-door meetings on"
).split("|")
OBJECTS = (
    "nuclear arms control|the New START treaty|energy exports|grain shipments through the Black Sea|"
    "a prisoner exchange|cyber attacks on elections|troop deployments in Eastern Europe|the war in Ukraine|"
    "oil price caps|space cooperation on the ISS|Arctic shipping routes|frozen central bank reserves|"
    "hypersonic missile tests|consular staff and visas|chemical weapons inspections|sanctions on banks|"
    "a ceasefire proposal|fertilizer and food exports|the detention of journalists|military drills near the border"
).split("|")
TAILS = (
    "on Monday.|amid rising tensions.|after weeks of silence.|according to officials.|in a rare joint statement.|"
    "despite objections from allies.|ahead of the election.|at a press conference in Geneva.|"
    "in a televised address.|as markets fell.|without giving details.|citing national security."
).split("|")


def generate_sentences(n: int, seed: int = 7) -> list[str]:
    """Distinct news-like sentences about US–Russia relations."""
    rng = random.Random(seed)
    found: set[str] = set()
    while len(found) < n:
        found.add(f"{rng.choice(ACTORS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}")
    return sorted(found)


def real_embeddings(n: int) -> np.ndarray:
    """Real-model embeddings of n generated sentences, cached between runs."""
    path = CACHE / f"sentences-{n}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    from retrieval.embedding import load_embedder

    CACHE.mkdir(parents=True, exist_ok=True)
    vecs = load_embedder("", CACHE / "index").embed_documents(generate_sentences(n))
    np.save(path, vecs, allow_pickle=False)
    return vecs


def sample_corpus(base: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.35) -> np.ndarray:
    """n unit vectors, each a random blend of two real embeddings plus noise."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        i, j = rng.integers(0, len(base), m), rng.integers(0, len(base), m)
        a = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        x = a * base[i] + (1 - a) * base[j]
        x += noise * rng.standard_normal(x.shape, dtype=np.float32) / np.sqrt(base.shape[1])
        out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_queries(index: Any, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    """Milliseconds per question, one at a time as the bot asks them, and the ids found."""
    times, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        times.append((time.perf_counter() - t0) * 1000)
        found.append(ids[0])
    return times, np.array(found)


def measure_size(base: np.ndarray, queries: np.ndarray, n: int, seed: int) -> dict[str, Any]:
    """Build, search, recall, memory and update costs of usru's vector index over n chunks."""
    import faiss

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    x = sample_corpus(base, n, rng)
    generate_s = time.perf_counter() - t0

    exact = faiss.IndexFlatIP(x.shape[1])
    exact.add(x)
    faiss.cvar.distance_compute_blas_threshold = 20  # batched exact search for the ground truth
    _, truth = exact.search(queries, 10)
    flat_ms, _ = time_queries(exact, queries[:50])
    del exact

    n_lists = count_lists(n)
    t0 = time.perf_counter()
    sample = x[np.sort(rng.choice(n, min(n, n_lists * POINTS_PER_CELL), replace=False))]
    quantizer = train_quantizer(sample, n_lists)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lists = assign_lists(quantizer, x)
    assign_s = time.perf_counter() - t0
    before = rss_mb()
    t0 = time.perf_counter()
    index = build_vector_index(x, quantizer, lists)
    load_s = time.perf_counter() - t0
    index_mb = faiss.serialize_index(index).nbytes / 2**20

    ms, found = time_queries(index, queries)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    sweep = {}
    for nprobe in sorted({8, 16, NPROBE, 64}):
        index.nprobe = nprobe
        s_ms, s_found = time_queries(index, queries)
        sweep[str(nprobe)] = {
            "p50_ms": round(percentile(s_ms, 50), 3),
            "recall_at_10": round(
                float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(s_found, truth, strict=True)])), 4
            ),
        }
    index.nprobe = NPROBE

    # An added article: its chunks are filed in the trained cells, nothing else is touched.
    new = sample_corpus(base, 5, rng)
    t0 = time.perf_counter()
    assign_lists(quantizer, new)
    add_ms = (time.perf_counter() - t0) * 1000
    # A deleted article: the next version loads without its chunks (1% of the corpus deleted here).
    keep = rng.random(n) > 0.01
    t0 = time.perf_counter()
    build_vector_index(np.ascontiguousarray(x[keep]), quantizer, lists[keep])
    reload_s = time.perf_counter() - t0
    return {
        "chunks": n,
        "index": describe(index),
        "generate_s": round(generate_s, 1),
        "train_s": round(train_s, 1),
        "assign_s": round(assign_s, 1),
        "load_s": round(load_s, 2),
        "build_total_s": round(train_s + assign_s + load_s, 1),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "recall_at_10": round(recall, 4),
        "exact_flat_p50_ms": round(percentile(flat_ms, 50), 2),
        "index_mb": round(index_mb, 1),
        "rss_added_by_index_mb": round(max(0.0, rss_mb() - before), 1),
        "peak_rss_mb": round(rss_mb(), 1),
        "add_article_assign_ms": round(add_ms, 3),
        "load_with_1pct_deleted_s": round(reload_s, 2),
        "nprobe_sweep": sweep,
    }


def measure_scale(sizes: list[int], n_base: int = 4000, n_queries: int = 200) -> dict[str, Any]:
    """Every size, one after another, over the same real embeddings."""
    vecs = real_embeddings(n_base + n_queries)
    order = np.random.default_rng(0).permutation(len(vecs))
    base, queries = vecs[order[:n_base]], np.ascontiguousarray(vecs[order[n_base:]])
    return {
        "base_sentences": n_base,
        "queries": n_queries,
        "sizes": {str(n): measure_size(base, queries, n, seed=n) for n in sizes},
    }


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The table for latest.md."""
    lines = [
        f"## Vector search at scale ({result['queries']} questions; corpus sampled around "
        f"{result['base_sentences']} real embeddings)",
        "",
        "| chunks | index | build s (train + assign + load) | p50 ms | p95 ms | recall@10 | exact p50 ms "
        "| index MB | add article ms | reload, 1% deleted s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, v in result["sizes"].items():
        lines.append(
            f"| {int(n):,} | {v['index']} | {v['build_total_s']} ({v['train_s']} + {v['assign_s']} + "
            f"{v['load_s']}) | {v['p50_ms']} | {v['p95_ms']} | {v['recall_at_10']} | {v['exact_flat_p50_ms']} "
            f"| {v['index_mb']} | {v['add_article_assign_ms']} | {v['load_with_1pct_deleted_s']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the scale benchmark alone and write bench/results/scale.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    result = measure_scale(args.sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    print(json.dumps({n: v["nprobe_sweep"] for n, v in result["sizes"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
