"""The cost of adding one article as the corpus grows (deterministic fake vectors, as the issue allows).

Embedding is the same work at every size, so the fake embedding isolates what must not grow with
the corpus: reading what changed, the index update, BM25, the documents and the version switch.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index

WORDS = (
    "sanctions embassy treaty missile summit Kremlin Washington Moscow diplomats talks envoy ministry "
    "pipeline grain visas election Ukraine Syria NATO arms control cyber space Arctic trade tariffs "
    "ceasefire negotiations delegation spokesman statement agreement dialogue security cooperation "
    "interference accusations relations tensions president minister parliament senate council"
).split()


def write_article(folder: Path, i: int, rng: random.Random) -> Path:
    """A synthetic news article of about 400 words in 6 paragraphs."""
    paragraphs = []
    for _ in range(6):
        sentences = []
        for _ in range(4):
            words = [rng.choice(WORDS) for _ in range(rng.randint(10, 20))]
            sentences.append(" ".join(words).capitalize() + f" in report {i}.")
        paragraphs.append(" ".join(sentences))
    path = folder / f"a{i:06d}.txt"
    path.write_text(f"Report number {i} on relations\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def time_add(
    sources: Path, index_dir: Path, n: int, rng: random.Random, repeats: int, targeted: bool
) -> float:
    """Median seconds of `build_index` after dropping one new article into the folder.

    Targeted: told which file arrived, as `usru index --watch` is; else it scans the whole folder.
    """
    embedder = HashingEmbedder()
    times = []
    for r in range(repeats):
        path = write_article(sources, 900_000 + n * 10 + r + (500 if targeted else 0), rng)
        t0 = time.perf_counter()
        build_index(sources, index_dir, embedder, paths=[path] if targeted else None)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_incremental(sizes: list[int], repeats: int = 3) -> dict[str, Any]:
    """Seconds to add one article to corpora of each size, and the ratio to indexing it alone."""
    rng = random.Random(7)
    out: dict[str, Any] = {"sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        alone_src, alone_idx = Path(tmp) / "alone", Path(tmp) / "alone-idx"
        alone_times = []
        for r in range(repeats):
            shutil.rmtree(alone_src, ignore_errors=True)
            shutil.rmtree(alone_idx, ignore_errors=True)
            alone_src.mkdir()
            write_article(alone_src, 800_000 + r, rng)
            t0 = time.perf_counter()
            build_index(alone_src, alone_idx, HashingEmbedder())
            alone_times.append(time.perf_counter() - t0)
        alone = statistics.median(alone_times)
        out["alone_s"] = round(alone, 4)
        sources = Path(tmp) / "src"
        index_dir = Path(tmp) / "idx"
        sources.mkdir()
        have = 0
        for n in sorted(sizes):
            for i in range(have, n):
                write_article(sources, i, rng)
            have = n
            t0 = time.perf_counter()
            build_index(sources, index_dir, HashingEmbedder())
            build_s = time.perf_counter() - t0
            scan = time_add(sources, index_dir, n, rng, repeats, targeted=False)
            watched = time_add(sources, index_dir, n, rng, repeats, targeted=True)
            have += 2 * repeats
            out["sizes"][str(n)] = {
                "corpus_build_s": round(build_s, 2),
                "add_one_watch_s": round(watched, 4),
                "watch_ratio_to_alone": round(watched / alone, 2),
                "add_one_scan_s": round(scan, 4),
                "scan_ratio_to_alone": round(scan / alone, 2),
            }
    return out
