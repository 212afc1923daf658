"""Memory and time to load and answer from an index the size of the whole AllSides corpus (issue 13).

Embedding 22,835 articles takes hours here, so the large index is made from one already built: the
hashing-embedder index of the AllSides Russia slice (4,358 articles, bench/indexing_files.py with
USRU_BENCH_ALLSIDES and the hashing model, cached as allsides-russia-hashing/index) has its segment
listed several times over in a new version (hard links, nothing copied), the last copy's surplus
articles deleted, so that it holds exactly the corpus's 22,835 articles.
Its vectors are the fake embedder's, but they have the real model's width (384 floats), and the
articles, chunks, sentences and word statistics are real, so the memory is what such an index needs.
A fresh process loads it and answers questions; its peak and steady resident memory are reported.

With --build, `usru index` also builds the whole corpus from its files in a new process, with the
hashing embedder (fake vectors of the real width: the model would take hours here, and the memory of
an update is bounded by its batches either way), and its peak resident memory, wall time and size on
disk are reported; `make bench` does so unless USRU_BENCH_LARGE_BUILD=0 (about 5 CPU-minutes; 20 minutes
of wall time on 2 cores shared with other work).

    .venv/bin/python -m bench.large_index [--build [--articles N]]   # also bench/results/large_index.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.archive_slice import cache_dir
from bench.evaluation import ROOT

CORPUS_ARTICLES = 22_835
QUESTIONS = (
    "What did Lavrov say about sanctions?",
    "Did Russia interfere in the 2016 election?",
    "What is Putin's view of NATO expansion?",
)

PROBE = """
import json, sys, time
from pathlib import Path
def kb(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field + ":"))
t = time.perf_counter()
from retrieval.embedding import HashingEmbedder
from retrieval.index import load_index
from retrieval.service import AnsweringService
from retrieval.settings import Settings
index = load_index(Path(sys.argv[1]))
loaded_s, loaded_hwm, loaded_rss = time.perf_counter() - t, kb("VmHWM"), kb("VmRSS")
service = AnsweringService(
    Settings(_env_file=None, sources=Path(sys.argv[1]), index_dir=Path(sys.argv[1]), embedding_model="hashing"),
    HashingEmbedder(), index,
)
t = time.perf_counter()
statuses = [service.answer(q).status for q in json.loads(sys.argv[2])]
print(json.dumps({
    "load_s": round(loaded_s, 2), "answers_s": round(time.perf_counter() - t, 2), "statuses": statuses,
    "peak_loading_mib": round(loaded_hwm / 1024), "rss_loaded_mib": round(loaded_rss / 1024),
    "peak_mib": round(kb("VmHWM") / 1024), "rss_answered_mib": round(kb("VmRSS") / 1024),
}))
"""


# A cold `usru ask` step by step, in a new process: each step of loading timed where view.py calls it.
COLD_STEPS = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
import bot.cli, retrieval.api, retrieval.service  # what `usru ask` imports before it opens the index
steps = {"import_s": time.perf_counter() - t0}
import retrieval.index.view as view
def timing(name, fn):
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            steps[name] = steps.get(name, 0.0) + time.perf_counter() - t
    return timed
view.read_segment = timing("segments_s", view.read_segment)
view.read_merged_bm25 = timing("bm25_s", view.read_merged_bm25)
view.merge = timing("bm25_s", view.merge)  # the tables' renumbering, and the postings unless stored
view._fill = timing("vectors_s", view._fill)  # a version written before its IVF was stored
view.read_stored_ivf = timing("vectors_s", view.read_stored_ivf)  # mapped from the version (stored_ivf.py)
from retrieval.service import build_service
from retrieval.settings import Settings
t = time.perf_counter()
service = build_service(Settings())
steps["open_s"] = time.perf_counter() - t
t = time.perf_counter()
service.answer(sys.argv[1])
steps["first_answer_s"] = time.perf_counter() - t
steps["total_s"] = time.perf_counter() - t0
print(json.dumps({k: round(v, 2) for k, v in steps.items()}))
"""


def measure_cold_ask(index_dir: Path) -> dict[str, Any]:
    """Cold `usru ask` on the index (median of 3), its steps, and warm answers' p50 (indexing_files.py)."""
    from bench.indexing_files import QUESTIONS as ASKED
    from bench.indexing_files import answer_latency, timed_cpu

    with tempfile.TemporaryDirectory() as sources:
        env = {
            **os.environ,
            "USRU_SOURCES": sources,
            "USRU_INDEX_DIR": str(index_dir),
            "USRU_EMBEDDING_MODEL": "hashing",
        }
        latency = answer_latency(env)
        # Wall time swings with the neighbours' load on a shared machine; CPU seconds barely do.
        cpu = [timed_cpu([sys.executable, "-m", "bot.cli", "ask", ASKED[0]], env)[2] for _ in range(3)]
        latency["cold_ask_cpu_s"] = round(statistics.median(cpu), 2)
        steps = subprocess.run(
            [sys.executable, "-c", COLD_STEPS, ASKED[0]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return {**latency, "cold_steps": json.loads(steps.stdout.strip().splitlines()[-1])}


def source_index() -> Path | None:
    """The built index the large one is made from, if it is there."""
    found = Path(os.environ.get("USRU_BENCH_LARGE_FROM") or cache_dir() / "allsides-russia-hashing" / "index")
    return found if (found / "CURRENT").is_file() else None


def make_large(
    source: Path, target: Path, articles: int = CORPUS_ARTICLES, merged: bool = True
) -> dict[str, int]:
    """A version listing the source's segments enough times to hold about `articles` articles.

    Without `merged`, the version is as one written before its merged postings, article rows and filled
    IVF were stored.
    """
    manifest = json.loads(
        (source / "versions" / (source / "CURRENT").read_text().strip() / "manifest.json").read_text()
    )
    copies = max(1, math.ceil(articles / int(manifest["articles"])))
    (target / "segments").mkdir(parents=True)
    (target / "versions" / "v000001").mkdir(parents=True)
    if (source / "quantizers").is_dir():
        shutil.copytree(source / "quantizers", target / "quantizers")
    shutil.copy(source / ".usru-index", target / ".usru-index")
    segments = []
    for _ in range(copies):
        for seg in manifest["segments"]:
            name = f"s{len(segments) + 1:06d}"
            shutil.copytree(
                source / "segments" / seg["name"], target / "segments" / name, copy_function=os.link
            )
            segments.append({"name": name, "deleted": list(seg["deleted"])})
    totals = {key: int(manifest[key]) * copies for key in ("articles", "chunks", "sentences")}
    extra = totals["articles"] - articles
    last = segments[-1]
    if extra > 0 and not last["deleted"]:
        # The last copy's trailing articles are deleted, as an update deletes them: exactly `articles` stay.
        folder = target / "segments" / last["name"]
        n = int(json.loads((folder / "segment.json").read_text())["articles"])
        gone = list(range(max(0, n - extra), n))
        last["deleted"] = gone
        for key, file in (("chunks", "chunks.npy"), ("sentences", "sentences.npy")):
            rows = np.load(folder / file, allow_pickle=False)
            totals[key] -= int(np.isin(rows[:, 0], gone).sum())
        totals["articles"] -= len(gone)
    large = {**manifest, "version": "v000001", "segments": segments, "aliases": {}, **totals}
    cells = file_sentence_cells(target, segments, len(manifest["segments"]), totals["sentences"], large)
    if cells:
        large["sentence_cells"] = cells
    (target / "versions" / "v000001" / "manifest.json").write_text(json.dumps(large))
    if merged:
        # As an update writes a version: with its segments' postings merged once (merged_bm25.py) and
        # its article rows (article_table.py).
        from retrieval.index.article_table import write_article_table
        from retrieval.index.merged_bm25 import merge_segments_bm25, write_merged_bm25

        folder = target / "versions" / "v000001"
        write_merged_bm25(folder, large, merge_segments_bm25(target, large))
        write_article_table(folder, target, large, None)
        if large.get("quantizer"):
            # And its filled IVF (stored_ivf.py), filled as a loading process fills it.
            from retrieval.index.stored_ivf import write_stored_ivf
            from retrieval.index.view import Index

            filled = Index(target, large)
            write_stored_ivf(folder, large, filled.faiss, filled.max_norm)
            del filled
    (target / "CURRENT").write_text("v000001\n")
    return totals


def file_sentence_cells(
    target: Path, segments: list[dict[str, Any]], per_copy: int, sentences: int, manifest: dict[str, Any]
) -> dict[str, Any] | None:
    """Sentence cells as an update past the scan limit writes them (sentence_cells.py), filed once per copy.

    The cells are trained for the whole corpus's count from the first copy's sentences (the others are
    the same), and the first copy's filing is linked into the other copies, as their segments are.
    """
    from retrieval.index.sentence_cells import SCAN_MAX, update_cells

    if sentences <= SCAN_MAX:
        return None
    dim = int(manifest["dim"])
    info = update_cells(target, segments[:per_copy], sentences, None, dim)
    assert info is not None
    for i, seg in enumerate(segments[per_copy:], start=per_copy):
        first = target / "segments" / segments[i % per_copy]["name"]
        for kind in ("sentcells", "sentcodes"):
            file = f"{kind}-{info['name']}.npy"
            os.link(first / file, target / "segments" / seg["name"] / file)
    return update_cells(target, segments, sentences, info, dim)


def measure_large_index() -> dict[str, Any] | None:
    """Load and answer from a corpus-sized index in a fresh process: peak and steady memory, seconds."""
    source = source_index()
    if source is None:
        return None
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:  # the same disk, for hard links
        totals = make_large(source, Path(tmp) / "index")
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(Path(tmp) / "index"), json.dumps(QUESTIONS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        latency = measure_cold_ask(Path(tmp) / "index")
    return {**totals, **json.loads(done.stdout.strip().splitlines()[-1]), **latency}


def measure_large_build(articles: int | None = None) -> dict[str, Any]:
    """`usru index` of the first `articles` AllSides articles (all: the corpus) with fake vectors, anew."""
    from bench.archive_slice import ALLSIDES
    from bench.indexing_files import folder_mib, timed, write_articles

    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        sources = Path(tmp) / "sources"
        n = write_articles(sources, ALLSIDES, articles)
        index_dir = Path(tmp) / "index"
        env = {
            **os.environ,
            "USRU_SOURCES": str(sources),
            "USRU_INDEX_DIR": str(index_dir),
            "USRU_EMBEDDING_MODEL": "hashing",
        }
        wall, rss, _ = timed([sys.executable, "-m", "bot.cli", "index"], env)
        version = (index_dir / "CURRENT").read_text().strip()
        manifest = json.loads((index_dir / "versions" / version / "manifest.json").read_text())
        return {
            "files": n,
            **{key: int(manifest[key]) for key in ("articles", "chunks", "sentences")},
            "segments": len(manifest["segments"]),
            "build_s": round(wall, 1),
            "build_peak_mib": round(rss),
            "index_mib_on_disk": round(folder_mib(index_dir), 1),
        }


def render_markdown(r: dict[str, Any] | None) -> list[str]:
    """The README's lines for this measurement."""
    if r is None or "peak_loading_mib" not in r:
        return [
            "## Large index memory",
            "",
            "Not run: loading (no allsides-russia-hashing index in the bench cache).",
            *render_build((r or {}).get("build")),
        ]
    return [
        f"## Large index memory ({r['articles']:,} articles, {r['chunks']:,} chunks, "
        f"{r['sentences']:,} sentences; fake vectors, real text)",
        "",
        "| | MiB | s |",
        "|---|---|---|",
        f"| load: peak resident | {r['peak_loading_mib']} | {r['load_s']} |",
        f"| loaded: resident | {r['rss_loaded_mib']} | |",
        f"| after {len(r['statuses'])} answers: peak / resident | {r['peak_mib']} / {r['rss_answered_mib']} "
        f"| {r['answers_s']} |",
        "",
        "Aim: loading and answering ≤ 1.5 GiB (1,536 MiB) on the whole corpus.",
        *render_latency(r),
        *render_build(r.get("build")),
    ]


def render_latency(r: dict[str, Any]) -> list[str]:
    """The README's lines for cold `usru ask` and warm answers on the large index."""
    if "cold_ask_s" not in r:
        return []
    steps = ", ".join(f"{k.removesuffix('_s')} {v} s" for k, v in r["cold_steps"].items())
    return [
        "",
        f"Cold `usru ask` (a new process, median of 3): {r['cold_ask_s']} s wall, {r['cold_ask_cpu_s']} "
        f"CPU-s, peak {r['cold_ask_peak_rss_mib']} MiB (aim 2.5 s); steps: {steps}. Warm answer p50 "
        f"{r['warm_answer_p50_ms']} ms (aim 20).",
    ]


def render_build(b: dict[str, Any] | None) -> list[str]:
    """The README's lines for building the whole corpus."""
    if b is None:
        return []
    return [
        "",
        f"Building it: `usru index` of {b['files']:,} AllSides files ({b['articles']:,} articles once "
        f"duplicates are merged, {b['chunks']:,} chunks, {b['segments']} segments; hashing embedder, fake "
        f"vectors): peak resident {b['build_peak_mib']} MiB (aim 2,048), {b['build_s']} s, "
        f"{b['index_mib_on_disk']} MiB on disk.",
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the measurements as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", action="store_true", help="also build the whole corpus (fake vectors)")
    parser.add_argument("--articles", type=int, help="how many to build (default: the whole corpus)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "large_index.json")
    args = parser.parse_args(argv)
    result = measure_large_index()
    if args.build:
        result = {**(result or {}), "build": measure_large_build(args.articles)}
    elif result is not None and args.out.is_file():
        # Not built this time: the last build's figures stay, marked as such.
        last = json.loads(args.out.read_text(encoding="utf-8")).get("build")
        if last:
            result["build"] = {**last, "from_an_earlier_run": True}
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
