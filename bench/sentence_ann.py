"""The sentence channel through its cells (retrieval/index/sentence_ann.py) against the exact scan.

An index uses the cells only past 400,000 sentences, and the only such index here has fake vectors, whose
cells say nothing of recall. So this bench files the Russia slice's real sentence vectors (36k) in cells
and forces the channel through them: it copies the slice's cached index into a cache of your own
($USRU_BENCH_CACHE, which must not be the shared one), files its live version in cells, and compares,
for every archive question, the channel's chunks through the cells with those of the exact scan
(recall@depth of the exact list, by NPROBE), and its time. With --eval, it then runs the archive
evaluation (bench/archive_eval.py) with the channel forced through the cells.

With --large, it measures instead the channel on a corpus-sized index (bench/large_index.py's, fake
vectors of the real width, made once in your cache with its sentences filed in cells): warm answers'
CPU time with the channel and without it, the channel's own time, and resident memory after loading and
after the answers.

    USRU_BENCH_CACHE=/path/of/yours .venv/bin/python -m bench.sentence_ann [--eval --split dev]
    USRU_BENCH_CACHE=/path/of/yours USRU_BENCH_LARGE_FROM=.../allsides-russia-hashing/index \
        .venv/bin/python -m bench.sentence_ann --large
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.archive_eval import load_archive_questions
from bench.archive_slice import cache_dir

SHARED = Path.home() / ".cache" / "usru-bench"
PROBES = (4, 8, 16, 32, 64)


def own_slice() -> Path:
    """The slice's folder in this bench's own cache, copied from the shared cache once."""
    own = cache_dir() / "russia"
    if cache_dir().resolve() == SHARED.resolve():
        raise SystemExit("set USRU_BENCH_CACHE to a folder of your own: this bench writes into the index")
    if not (own / "index" / "CURRENT").is_file():
        shutil.copytree(SHARED / "russia", own, dirs_exist_ok=True)
    return own


def file_in_cells(index_dir: Path) -> dict[str, Any]:
    """Give the live version sentence cells, as an update past the scan limit would (in place: a bench copy)."""
    from retrieval.index import current_version, sentence_cells
    from retrieval.index.durability import read_manifest

    version = current_version(index_dir)
    assert version is not None
    manifest = read_manifest(index_dir, version)
    if not manifest.get("sentence_cells"):
        sentence_cells.SCAN_MAX = 0
        manifest["sentence_cells"] = sentence_cells.update_cells(
            index_dir, manifest["segments"], int(manifest["sentences"]), None, int(manifest["dim"])
        )
        path = index_dir / "versions" / version / "manifest.json"
        path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    info: dict[str, Any] = manifest["sentence_cells"]
    return info


def compare(service: Any, questions: list[str], depth: int) -> dict[str, Any]:
    """Recall of the exact scan's chunks through the cells, by NPROBE, and each way's time."""
    from retrieval import sentence_search
    from retrieval.index import sentence_ann

    index = service.index
    qvecs = [service.embedder.embed_query(q) for q in questions]
    exact, exact_ms = [], []
    sentence_search.MAX_SCANNED = 10**12
    for q in qvecs:
        t = time.perf_counter()
        exact.append(sentence_search.search_sentence_chunks(index, q, depth))
        exact_ms.append(1000 * (time.perf_counter() - t))
    sentence_search.MAX_SCANNED = 0
    out: dict[str, Any] = {
        "questions": len(qvecs),
        "depth": depth,
        "exact_p50_ms": statistics.median(exact_ms),
    }
    for nprobe in PROBES:
        sentence_search.NPROBE = nprobe
        found, ms = [], []
        for q in qvecs:
            t = time.perf_counter()
            found.append(sentence_search.search_sentence_chunks(index, q, depth))
            ms.append(1000 * (time.perf_counter() - t))
        overlap = [len(set(a) & set(b)) / max(len(b), 1) for a, b in zip(found, exact, strict=True)]
        out[f"nprobe_{nprobe}"] = {
            "recall": round(float(np.mean(overlap)), 4),
            "same_first": sum(bool(a and b and a[0] == b[0]) for a, b in zip(found, exact, strict=True)),
            "identical": sum(a == b for a, b in zip(found, exact, strict=True)),
            "p50_ms": round(statistics.median(ms), 2),
        }
    sentence_search.NPROBE = sentence_ann.NPROBE
    return out


def _kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def measure_large(rounds: int = 5) -> dict[str, Any]:
    """The channel on a corpus-sized index: answers' CPU ms with and without it, its own, memory."""
    from bench.indexing_files import QUESTIONS as ASKED
    from bench.large_index import QUESTIONS, make_large, source_index
    from retrieval import search, sentence_search
    from retrieval.embedding import HashingEmbedder
    from retrieval.index import load_index
    from retrieval.service import AnsweringService
    from retrieval.settings import Settings

    target = cache_dir() / "large-cells" / "index"
    if not (target / "CURRENT").is_file():
        source = source_index()
        if source is None:
            raise SystemExit("no allsides-russia-hashing index: set USRU_BENCH_LARGE_FROM")
        shutil.rmtree(target.parent, ignore_errors=True)
        t = time.process_time()
        make_large(source, target)
        print(f"made the large index with its cells in {time.process_time() - t:.1f} CPU-s", file=sys.stderr)
    t = time.perf_counter()
    index = load_index(target)
    out: dict[str, Any] = {
        "sentences": len(index.sentences),
        "cells": index.manifest.get("sentence_cells"),
        "load_s": round(time.perf_counter() - t, 2),
        "peak_loading_mib": round(_kib("VmHWM") / 1024),
    }
    settings = Settings(_env_file=None, sources=target, index_dir=target, embedding_model="hashing")
    service = AnsweringService(settings, HashingEmbedder(), index)
    questions = [*ASKED, *QUESTIONS]
    embedder = HashingEmbedder()
    qvecs = [embedder.embed_query(q) for q in questions]
    for q in questions:  # first answers: the owner map, the files opened
        service.answer(q)
    channel = search.search_sentence_chunks

    def answer_ms() -> float:
        times = []
        for _ in range(rounds):
            for q in questions:
                t = time.process_time()
                service.answer(q)
                times.append(1000 * (time.process_time() - t))
        return round(statistics.median(times), 2)

    out["answer_cpu_p50_ms_with_channel"] = answer_ms()
    search.search_sentence_chunks = lambda *a, **k: []  # type: ignore[assignment]
    out["answer_cpu_p50_ms_without"] = answer_ms()
    search.search_sentence_chunks = channel
    own = []
    for _ in range(rounds):
        for q in qvecs:
            t = time.process_time()
            sentence_search.search_sentence_chunks(index, q, 16)
            own.append(1000 * (time.process_time() - t))
    out["channel_cpu_p50_ms"] = round(statistics.median(own), 2)
    out["channel_cpu_p90_ms"] = round(float(np.percentile(own, 90)), 2)
    out["peak_mib"] = round(_kib("VmHWM") / 1024)
    out["rss_answered_mib"] = round(_kib("VmRSS") / 1024)
    info = index.manifest.get("sentence_cells") or {}
    files = list((target / "segments").glob(f"*/sent*-{info.get('name')}.npy"))
    out["cells_mib_on_disk"] = round(sum(f.stat().st_size for f in files) / 2**20, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    """File the slice in cells, compare with the exact scan, and optionally evaluate through the cells."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument(
        "--eval", action="store_true", help="then run the archive evaluation through the cells"
    )
    parser.add_argument("--split", default="dev")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--large", action="store_true", help="measure on a corpus-sized index instead")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.large:
        print(json.dumps(measure_large(), indent=1))
        return 0
    own = own_slice()
    info = file_in_cells(own / "index")
    from bench.sentence_features import open_service

    service = open_service(own / "sources")
    questions = [q["question"] for q in load_archive_questions(split="all")]
    result = {
        "cells": info,
        "sentences": len(service.index.sentences),
        **compare(service, questions, args.depth),
    }
    print(json.dumps(result, indent=1))
    if args.eval:
        from bench import archive_eval
        from retrieval import sentence_search

        sentence_search.MAX_SCANNED = 0  # the channel through the cells, in this process
        eval_args = ["--split", args.split, "--no-peers"]
        return archive_eval.main([*eval_args, *(["--out", str(args.out)] if args.out else [])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
