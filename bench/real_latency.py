"""Cold `usru ask` and warm answers on a real, fully embedded index such as the whole AllSides corpus (issue 13).

`bench.large_index` times a whole-corpus index cheaply, with the hashing embedder's fake vectors and three
questions asked over and over (their vectors then come from the query cache). This times an index built
with the real model, as a user's is: cold asks in new processes (wall, CPU, peak memory), and warm
answers to distinct archive questions, each asked once, after a few to warm up. Building such an index
takes about 1 h 20 min to 2 h on two cores (README), so it is measured only when one is named:

    USRU_EMBED_PRECISION=bf16 USRU_VECTORS=sentence-mean-1 \\
    .venv/bin/python -m bench.real_latency --index /path/to/index --sources /path/to/sources
    # or in `make bench`: USRU_BENCH_REAL_INDEX=/path/to/index USRU_BENCH_REAL_SOURCES=/path/to/sources

The embedder settings must be those the index was built with (the service refuses another model).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.archive_eval import load_archive_questions
from bench.evaluation import ROOT
from bench.indexing_files import timed_cpu

COLD_QUESTION = "Is Russia ready to resume arms control talks?"
WARM_UP = 10

WARM = """
import json, statistics, sys, time
from retrieval.service import build_service
from retrieval.settings import Settings
questions = json.loads(sys.argv[1])
warm_up = int(sys.argv[2])
service = build_service(Settings())
for q in questions[:warm_up]:
    service.answer(q)
wall, cpu = [], []
for q in questions[warm_up:]:
    t, c = time.perf_counter(), time.process_time()
    service.answer(q)
    wall.append((time.perf_counter() - t) * 1000)
    cpu.append((time.process_time() - c) * 1000)
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({
    "questions": len(wall),
    "wall_p50_ms": round(statistics.median(wall), 1), "wall_p90_ms": round(pct(wall, 0.9), 1),
    "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p90_ms": round(pct(cpu, 0.9), 1),
    "peak_mib": round(hwm / 1024),
}))
"""


def measure_real_latency(index_dir: Path, sources: Path, colds: int = 5, warm: int = 100) -> dict[str, Any]:
    """Cold asks (median of `colds`, after one to fill the page cache) and warm answers to distinct questions."""
    if not (index_dir / "CURRENT").is_file():
        # The first ask would build one from the sources, silently: hours for a whole corpus (a20).
        raise ValueError(f"{index_dir} holds no built index (no CURRENT file); build it with `usru index`.")
    env = {
        **os.environ,
        "USRU_INDEX_DIR": str(index_dir),
        "USRU_SOURCES": str(sources),
        "HF_HUB_OFFLINE": "1",
    }
    ask = [sys.executable, "-m", "bot.cli", "ask", COLD_QUESTION]
    timed_cpu(ask, env)  # reads the index's files into the page cache, as any earlier use has
    runs = [timed_cpu(ask, env) for _ in range(colds)]
    questions = [q["question"] for q in load_archive_questions(split="dev")][: WARM_UP + warm]
    _, _, _, stdout = timed_cpu([sys.executable, "-c", WARM, json.dumps(questions), str(WARM_UP)], env)
    return {
        "index": str(index_dir),
        "load_average": os.getloadavg()[0],
        "cold_ask_s": [round(r[0], 2) for r in runs],
        "cold_ask_median_s": round(statistics.median(r[0] for r in runs), 2),
        "cold_ask_cpu_median_s": round(statistics.median(r[2] for r in runs), 2),
        "cold_ask_peak_mib": round(max(r[1] for r in runs)),
        "warm": json.loads(stdout.strip().splitlines()[-1]),
    }


def render_markdown(r: dict[str, Any] | None) -> list[str]:
    """The table for latest.md."""
    if not r:
        return [
            "## Latency on a real whole-corpus index",
            "",
            "Not run (set USRU_BENCH_REAL_INDEX and USRU_BENCH_REAL_SOURCES).",
        ]
    w = r["warm"]
    return [
        "## Latency on a real whole-corpus index",
        "",
        f"Index {r['index']}; load average {r['load_average']:.2f} at the end.",
        "",
        "| cold ask median (s) | its CPU (s) | peak (MiB) | warm p50 / p90 (ms) | warm CPU p50 (ms) | warm peak (MiB) |",
        "|---|---|---|---|---|---|",
        f"| {r['cold_ask_median_s']} ({', '.join(map(str, r['cold_ask_s']))}) | {r['cold_ask_cpu_median_s']} "
        f"| {r['cold_ask_peak_mib']} | {w['wall_p50_ms']} / {w['wall_p90_ms']} ({w['questions']} questions) "
        f"| {w['cpu_p50_ms']} | {w['peak_mib']} |",
    ]


def main(argv: list[str] | None = None) -> int:
    """Measure and write bench/results/real_latency.json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--colds", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        result = measure_real_latency(args.index, args.sources, args.colds)
    except ValueError as exc:
        print(f"real_latency: {exc}", file=sys.stderr)
        return 2
    out = ROOT / "bench" / "results" / "real_latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n".join(render_markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
