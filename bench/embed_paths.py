"""Texts per second of each way to run the embedding model over the same real index texts (issue 13).

    python -m bench.embed_paths [--sources DIR] [--chunks 2000] [--sentences 2000] [--paths ...]

Texts are what `usru index` embeds: chunk texts (title + body, about 1,000 characters) and quotable
sentences, cut from the articles in --sources (read only). Paths: torch (sentence-transformers),
ONNX fp32 (the local export), ONNX int8 (dynamic, MatMul weights per channel), bf16 (torch with
bfloat16 weights, USRU_EMBED_PRECISION=bf16), bf16-autocast (fp32 weights under CPU autocast), with
thread and batch-size variants. Cosine is measured against the torch vectors of the same texts.

For bf16 paths it also checks the question side: the dev split's and the seeds' questions embedded by
the fp32 export (what answering a bf16 index uses) against the same questions at bf16, as cosines and
as the overlap of the 10 chunks each ranks first among the bf16 chunk vectors.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.evaluation import ROOT
from retrieval.article import read_article
from retrieval.chunking import chunk_article, indexed_text

DEFAULT_SOURCES = Path.home() / ".cache" / "usru-bench" / "russia" / "sources"


def read_texts(sources: Path, chunks: int, sentences: int) -> tuple[list[str], list[str]]:
    """The first `chunks` chunk texts and `sentences` quotable sentences of the folder's articles."""
    chunk_texts: list[str] = []
    sentence_texts: list[str] = []
    for path in sorted(sources.glob("*.md")):
        article = read_article(path)
        for chunk in chunk_article(article):
            if len(chunk_texts) < chunks:
                chunk_texts.append(indexed_text(article, chunk))
            for s in chunk.sentences:
                if s.quotable and len(sentence_texts) < sentences:
                    sentence_texts.append(article.text[s.start : s.end])
        if len(chunk_texts) >= chunks and len(sentence_texts) >= sentences:
            break
    return chunk_texts, sentence_texts


def timed_rate(embed: Any, texts: list[str]) -> tuple[float, float, np.ndarray]:
    """Texts per wall second and per CPU second of one call over all texts, and the vectors."""
    t0, c0 = time.perf_counter(), time.process_time()
    vecs = embed(texts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(texts) / wall, len(texts) / cpu, np.asarray(vecs, dtype=np.float32)


def read_questions() -> list[str]:
    """The dev split's and the seeds' questions (never a holdout's)."""
    import yaml

    archive = yaml.safe_load((ROOT / "tests" / "eval" / "archive.yaml").read_text(encoding="utf-8"))
    seeds = yaml.safe_load((ROOT / "tests" / "eval" / "questions.yaml").read_text(encoding="utf-8"))
    rows = archive if isinstance(archive, list) else archive["questions"]
    seed_rows = seeds if isinstance(seeds, list) else seeds["questions"]
    return [q["question"] for q in rows if q.get("split") == "dev"] + [q["question"] for q in seed_rows]


def torch_encoder(model: Any, batch: int, autocast: bool = False) -> Any:
    """model.encode as usru's torch embedder calls it, normalised in float32, with an optional batch size."""

    def embed(texts: list[str]) -> np.ndarray:
        import contextlib

        import torch

        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
        with torch.inference_mode(), ctx:
            vecs = model.encode(texts, batch_size=batch, normalize_embeddings=False, convert_to_numpy=True)
        out: np.ndarray = np.asarray(vecs, dtype=np.float32)
        out /= np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        return out

    return embed


def question_side(onnx: Any, bf16: Any, chunk_vecs: np.ndarray) -> dict[str, Any]:
    """fp32-export questions against bf16 questions: cosine, and top-10 chunk overlap over bf16 chunks."""
    questions = read_questions()
    q32 = np.stack([onnx.embed_query(q) for q in questions])
    q16 = np.asarray(bf16(questions), dtype=np.float32)
    cos = (q32 * q16).sum(axis=1)
    top32 = np.argsort(-(q32 @ chunk_vecs.T), axis=1)[:, :10]
    top16 = np.argsort(-(q16 @ chunk_vecs.T), axis=1)[:, :10]
    overlap = [len(set(a) & set(b)) / 10 for a, b in zip(top32.tolist(), top16.tolist(), strict=True)]
    return {
        "questions": len(questions),
        "questions_fp32_to_bf16_cos_mean": round(float(cos.mean()), 5),
        "questions_fp32_to_bf16_cos_min": round(float(cos.min()), 5),
        "questions_top10_overlap_mean": round(float(np.mean(overlap)), 4),
        "questions_top1_same": round(float(np.mean(top32[:, 0] == top16[:, 0])), 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure each path and print (and write) texts/s and cosine to torch."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--paths", nargs="*", default=["torch", "fp32", "int8", "bf16"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "embed_paths.json")
    args = parser.parse_args(argv)
    from retrieval.embedding import SentenceTransformerEmbedder
    from retrieval.onnx_embedding import OnnxEmbedder, export_onnx
    from retrieval.onnx_precision import write_int8

    chunk_texts, sentence_texts = read_texts(args.sources, args.chunks, args.sentences)
    st = SentenceTransformerEmbedder("")
    results: dict[str, Any] = {"chunks": len(chunk_texts), "sentences": len(sentence_texts)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "fp32"
        export_onnx(st._model, st.name, folder)
        int8 = Path(tmp) / "int8"
        write_int8(folder, int8)
        reference: dict[str, np.ndarray] = {}
        bf16_model: Any = None
        for name in args.paths:
            # name: torch | fp32 | int8, optionally ":threads=N" and ":batch=N"
            base, *opts = name.split(":")
            kw = dict(o.split("=") for o in opts)
            if base == "torch":
                embed = st.embed_documents
            elif base in ("bf16", "bf16-autocast"):
                if base == "bf16" and bf16_model is None:
                    bf16_model = SentenceTransformerEmbedder("", bf16=True)._model
                model = bf16_model if base == "bf16" else st._model
                embed = torch_encoder(model, int(kw.get("batch", 32)), autocast=base == "bf16-autocast")
            else:
                emb = OnnxEmbedder(
                    folder if base == "fp32" else int8,
                    threads=int(kw.get("threads", 0)),
                    batch=int(kw.get("batch", 32)),
                    spin=kw.get("spin", "1") == "1",
                )
                embed = emb.embed_documents
            row: dict[str, Any] = {}
            for kind, texts in (("chunks", chunk_texts), ("sentences", sentence_texts)):
                if not texts:
                    continue
                embed(texts[:32])  # warm up
                rate, cpu_rate, vecs = timed_rate(embed, texts)
                row[f"{kind}_per_s"] = round(rate, 1)
                row[f"{kind}_per_cpu_s"] = round(cpu_rate, 1)
                if base == "torch" and kind not in reference:
                    reference[kind] = vecs
                if kind in reference:
                    cos = (vecs * reference[kind]).sum(axis=1)
                    row[f"{kind}_cos_min"] = round(float(cos.min()), 5)
                    row[f"{kind}_cos_mean"] = round(float(cos.mean()), 5)
                if kind == "chunks" and base.startswith("bf16"):
                    row |= question_side(OnnxEmbedder(folder), embed, vecs)
            results[name] = row
            print(name, json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
