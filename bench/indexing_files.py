"""Indexing real articles: `usru index` beside the LangChain tutorial's indexing of the same files.

    python -m bench.indexing_files [--articles N] [--corpus reuters|allsides] [--latency]

Both run as new processes on the same folder: usru's whole command (model load, ONNX export,
embedding, writing) and the tutorial's (load the model, split 1000/200, embed, FAISS flat). Peak
memory is the highest summed resident set of each command's process tree (a bf16 run embeds in a
worker process), sampled every 50 ms; CPU seconds include the children's. With --latency, answers are timed
on the index made: cold (`usru ask` as a new process) and warm (p50 in one process).
`make bench` runs it on a few hundred Reuters articles; USRU_BENCH_ALLSIDES=N (or "all") adds a
run on that many AllSides articles (22,835 in all: hours on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.archive_slice import ALLSIDES, REUTERS, build_sources
from bench.corpora import corpora_dir, read_records
from bench.evaluation import ROOT
from bench.tree_memory import TreePeak

PEER = """
import sys
from pathlib import Path
from bench.evaluation import TutorialPipeline
from retrieval.embedding import load_embedder
p = TutorialPipeline(Path(sys.argv[1]), load_embedder(""))
print(len(p.chunks))
"""
QUESTIONS = [
    "Is Russia ready to resume arms control talks?",
    "What did Putin say about sanctions?",
    "Did Russia interfere in the US election?",
    "What happened in Syria?",
    "What did Trump and Putin discuss in Helsinki?",
]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB and stdout of one process (its CPU seconds: `cpu_seconds`)."""
    wall, rss, _cpu, stdout = timed_cpu(args, env)
    return wall, rss, stdout


def timed_cpu(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS in MiB, CPU seconds (user + system) and stdout of one process.

    On a shared machine wall time swings with the neighbours' load; CPU seconds barely do.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Summed over the process tree: time -v's figure is the largest single process, and a bf16 run's
    # indexer and torch worker are resident together.
    with proc, TreePeak(proc.pid) as peak:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{args[2:4]} failed: {stderr[-2000:]}")
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", stderr))
    return wall, peak.peak_mib, cpu, stdout


def write_articles(folder: Path, corpus: str, n: int | None) -> int:
    """The first n records of a corpus as article files (all of them when n is None)."""
    records = []
    for r in read_records(corpora_dir() / corpus):
        if r.get("text"):
            records.append(r)
            if n is not None and len(records) >= n:
                break
    return build_sources(folder, records)


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def measure_files(corpus: str, n: int | None, latency: bool = False, peer: bool = True) -> dict[str, Any]:
    """usru index and the tutorial's indexing on the same n articles: seconds, articles/s, peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources"
        articles = write_articles(sources, corpus, n)
        index_dir = Path(tmp) / "index"
        env = {
            **os.environ,
            "USRU_SOURCES": str(sources),
            "USRU_INDEX_DIR": str(index_dir),
            "HF_HUB_OFFLINE": "1",
        }
        py = sys.executable
        usru_s, usru_rss, usru_cpu, _ = timed_cpu([py, "-m", "bot.cli", "index"], env)
        out: dict[str, Any] = {
            "corpus": corpus,
            "articles": articles,
            "vectors": env.get("USRU_VECTORS") or "two-passes",
            "embed_precision": env.get("USRU_EMBED_PRECISION") or "fp32",
            "usru_index_s": round(usru_s, 1),
            "usru_cpu_s": round(usru_cpu, 1),
            "usru_articles_per_s": round(articles / usru_s, 2),
            "usru_peak_rss_mib": round(usru_rss),
            "index_mib_on_disk": round(folder_mib(index_dir) - folder_mib(index_dir / "onnx"), 1),
        }
        if peer:
            peer_s, peer_rss, peer_cpu, _ = timed_cpu([py, "-c", PEER, str(sources)], env)
            out |= {
                "tutorial_index_s": round(peer_s, 1),
                "tutorial_cpu_s": round(peer_cpu, 1),
                "tutorial_articles_per_s": round(articles / peer_s, 2),
                "tutorial_peak_rss_mib": round(peer_rss),
                "usru_over_tutorial": round(usru_s / peer_s, 3),
                "usru_over_tutorial_cpu": round(usru_cpu / peer_cpu, 3),
            }
        if latency:
            out |= answer_latency(env)
    return out


def answer_latency(env: dict[str, str]) -> dict[str, Any]:
    """Cold `usru ask` (median of 3, with its peak RSS) and warm answers (p50 over a few questions)."""
    py = sys.executable
    cold = [timed([py, "-m", "bot.cli", "ask", QUESTIONS[0]], env) for _ in range(3)]
    warm_script = (
        "import json, statistics, time, sys\n"
        "from retrieval.service import build_service\nfrom retrieval.settings import Settings\n"
        "s = build_service(Settings())\nqs = json.loads(sys.argv[1])\n"
        "for q in qs: s.answer(q)\nts = []\n"
        "for _ in range(3):\n    for q in qs:\n        t0 = time.perf_counter(); s.answer(q); ts.append(time.perf_counter() - t0)\n"
        "print(json.dumps({'p50_ms': statistics.median(ts) * 1000}))\n"
    )
    _wall, rss, stdout = timed([py, "-c", warm_script, json.dumps(QUESTIONS)], env)
    warm = json.loads(stdout.strip().splitlines()[-1])
    return {
        "cold_ask_s": round(statistics.median(c[0] for c in cold), 2),
        "cold_ask_peak_rss_mib": round(max(c[1] for c in cold)),
        "warm_answer_p50_ms": round(warm["p50_ms"], 1),
        "load_and_answer_peak_rss_mib": round(rss),
    }


def render_markdown(r: dict[str, Any]) -> list[str]:
    """The table for latest.md."""
    lines = [
        f"## Indexing real articles ({r['articles']:,} {r['corpus']} articles, new processes, same files)",
        "",
        "| | seconds | CPU seconds | articles/s | peak RSS MiB |",
        "|---|---|---|---|---|",
        f"| `usru index` ({r.get('vectors', 'two-passes')}, {r.get('embed_precision', 'fp32')}) | "
        f"{r['usru_index_s']} | {r.get('usru_cpu_s', '')} | {r['usru_articles_per_s']} | {r['usru_peak_rss_mib']} |",
    ]
    if "tutorial_index_s" in r:
        lines.append(
            f"| LangChain tutorial indexing | {r['tutorial_index_s']} | {r.get('tutorial_cpu_s', '')} "
            f"| {r['tutorial_articles_per_s']} | {r['tutorial_peak_rss_mib']} |"
        )
        lines += [
            "",
            f"usru / tutorial wall time: {r['usru_over_tutorial']} (aim ≤ 1.0); "
            f"CPU time: {r.get('usru_over_tutorial_cpu', '')}.",
        ]
    lines.append(f"Index on disk: {r['index_mib_on_disk']} MiB.")
    if "cold_ask_s" in r:
        lines.append(
            f"Cold `usru ask` {r['cold_ask_s']} s (peak {r['cold_ask_peak_rss_mib']} MiB); warm answer p50 "
            f"{r['warm_answer_p50_ms']} ms (load and answer peak {r['load_and_answer_peak_rss_mib']} MiB)."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write bench/results/indexing_files.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", default="200", help="how many articles, or 'all'")
    parser.add_argument("--corpus", choices=["reuters", "allsides"], default="reuters")
    parser.add_argument("--latency", action="store_true", help="also time answers on the index made")
    parser.add_argument("--no-peer", action="store_true", help="usru only")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "indexing_files.json")
    args = parser.parse_args(argv)
    n = None if args.articles == "all" else int(args.articles)
    corpus = REUTERS if args.corpus == "reuters" else ALLSIDES
    result = measure_files(corpus, n, latency=args.latency, peer=not args.no_peer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
