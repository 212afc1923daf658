"""Peak memory of `usru index` by step: what grows with the corpus rather than with the batch (issue 13).

Builds an index of a sources folder in this process while a thread samples the resident set every 20 ms
(this process's and its embedding workers' together),
and reports the highest RSS seen inside each step of building.py (reading the sources, each batch's
embedding and segment write, compaction, the quantizers, reading the new version, preparing it, writing
its load files). Run it at growing corpus sizes: a step whose peak grows with the corpus is the one to fix.

    python -m bench.index_memory --sources SRC --index IDX [--fake] [--vectors sentence-mean-1]

--fake embeds with random unit vectors seeded by each text (no model; only the model's own memory and time
are left out), so large corpora can be measured in minutes. Without it the settings' model is used
(USRU_EMBED_PRECISION etc. as for `usru index`).

Measured (2026-12-01, 2 shared cores, sentence-mean-1; peak RSS in MiB):
- --fake, 3,000 / 8,000 / 22,823 articles: 317 / 419 / 896-950. The step that grows with the corpus is
  reading the sources: the plan holds every added article's text until its batch (112 / 204 / 479); each
  batch then holds ~620 at the full corpus, compaction (4,000 articles merged) 880, filing sentence
  cells on the merged segment 896 (300 of it the mapped vectors' pages).
- The real model, 1,500 articles: fp32 ONNX two-passes 893 (in the first 1,000-article batch: onnxruntime's
  arena at the longest chunks); bf16 1,430 before bounding oneDNN's kernel cache, 1,253 after (index files
  identical); 3,000 articles after: 1,418, the RSS after each batch 1,076 / 1,097 / 1,104. The whole corpus at bf16 peaked at 3,132 (last session) where the fake run peaks at 950: the
  rest is torch's, which grew block by block (oneDNN kept a kernel per batch shape, up to 1,024).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from bench.tree_memory import tree_rss_mib


def rss_mib() -> float:
    """This process's resident set plus its children's (a bf16 run embeds in a torch worker)."""
    return tree_rss_mib()


def rss_split() -> dict[str, int]:
    """The resident set in MiB: anonymous (heap, arrays) and file-backed (mapped files, libraries)."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                out[line.split(":")[0][3:].lower()] = int(line.split()[1]) // 1024
    return out


class FakeEmbedder:
    """Unit vectors seeded by each text's CRC: the vectors' shapes and dtype without a model."""

    name = "fake-crc (bench)"
    dim = 384

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            v = np.random.default_rng(zlib.crc32(t.encode("utf-8"))).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        out: np.ndarray = self.embed_documents([text])[0]
        return out


class Sampler:
    """The highest RSS seen inside each named step (the innermost one running)."""

    def __init__(self) -> None:
        self.stack: list[str] = ["start"]
        self.peaks: dict[str, float] = {}
        self.split: dict[str, dict[str, int]] = {}
        self.timeline: list[tuple[str, float, dict[str, int]]] = []
        self.order: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _note(self) -> None:
        step = self.stack[-1]
        rss = rss_mib()
        if step not in self.peaks:
            self.order.append(step)
        if rss > self.peaks.get(step, 0.0):
            self.peaks[step] = rss
            self.split[step] = rss_split()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._note()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def wrap(self, module: Any, name: str, label: str | None = None) -> None:
        fn = getattr(module, name)
        label = label or name

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(label)
            self._note()
            try:
                return fn(*args, **kwargs)
            finally:
                self._note()
                self.timeline.append((label, round(rss_mib()), rss_split()))
                self.stack.pop()

        setattr(module, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--fake", action="store_true", help="random vectors instead of the model")
    parser.add_argument("--vectors", default=os.environ.get("USRU_VECTORS", "two-passes"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from retrieval import precomputed
    from retrieval.index import building, segments, sentence_cells

    sampler = Sampler()
    for name in (
        "plan_sources",
        "_embed_articles",
        "_write_new_segment",
        "_compact",
        "update_quantizer",
        "update_cells",
        "_read_new",
        "publish_version",
        "_write_load_files",
        "take_finished",
    ):
        sampler.wrap(building, name)
    sampler.wrap(segments, "write_segment")
    sampler.wrap(sentence_cells, "file_segment")
    sampler.wrap(precomputed, "prepare_version")

    if args.fake:
        embedder: Any = FakeEmbedder()
    else:
        from retrieval.api import load_settings_embedder
        from retrieval.settings import Settings

        embedder = load_settings_embedder(Settings(index_dir=args.index))
    sampler.stack[0] = "after-load"
    sampler.start()
    started = time.perf_counter()
    cpu0 = time.process_time()
    summary = building.build_index(
        args.sources, args.index, embedder, vectors=args.vectors, prepare=precomputed.prepare_version
    )
    sampler.stop()
    result = {
        "sources": str(args.sources),
        "articles": summary.articles,
        "chunks": summary.chunks,
        "sentences": summary.sentences,
        "fake": args.fake,
        "vectors": args.vectors,
        "embedder": embedder.name,
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),
        # Workers' CPU, counted once they have exited (each update's worker stops before its finishing steps).
        "children_cpu_s": round(os.times().children_user + os.times().children_system, 1),
        # The highest sampled sum over this process and its workers; beside it each one's own peak.
        "peak_rss_mib": round(max(sampler.peaks.values())),
        "peak_rss_indexer_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_worker_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "steps": {k: [round(sampler.peaks[k]), sampler.split[k]] for k in sampler.order},
        "timeline": [f"{label} {rss} {split}" for label, rss, split in sampler.timeline],
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
