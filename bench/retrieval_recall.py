"""Measure retrieval recall offline: where the chunk holding each archive question's answer ranks.

    python -m bench.retrieval_recall [--split dev] [--depth 16]

For every answerable question of tests/eval/archive.yaml, an answer chunk is a chunk of an expected article
whose text holds an expected phrase. Reported: the rank of the first answer chunk in what search_chunks
returns at the answer's depth (16 chunks: recall@16, MRR) and asked for 200 (recall@16, @30, @100, MRR), and, to see why it ranks where it does, its rank by the
chunk vectors alone, by BM25 alone, and the rank of the best answer-holding sentence by sentence vectors
alone. Loads the cached slice index read-only (bench/archive_slice.py); a run takes about 15 seconds.

Dev split, main at 239a466 (dense + BM25, reciprocal-rank fusion over 30 candidates each): recall@16 59 of
65, MRR 0.667. The six misses rank 45-200+ in the fused order, and each channel alone shows why: p21, p07
are paraphrases the chunk vector ranks 14th and 47th but BM25 ranks far down, so fusion drops them below
chunks both channels rank middling; p29, p31 are paraphrases neither chunk channel finds (dense 794, 846);
d45, d47 hold the detail in one sentence of a long chunk (dense 622 and 26, BM25 179 and 317: the question's
name or date sits in another chunk or only in the article's metadata) while that sentence's own vector ranks
2nd and 6th among all 36,391 sentences.

With the sentence channel at half weight (retrieval/sentence_search.py, 2026-12-01): dev recall@16 60 of 65,
MRR 0.682 (d47 found; for d45 the sentence channel's vote alone is too weak at half weight: full weight finds
it too, but then the answers lose d03 and p09 to close sentences that do not answer). Test 53 -> 56 of 64, MRR 0.532 -> 0.566; holdout 31 -> 31 of 32, MRR 0.668 -> 0.641
(both measured once after the choice, never tuned on). Left: p07, p21 (the chunk vector ranks them 14th and
47th, BM25 does not, so fusion drops them), p29, p31 (paraphrases neither chunk channel nor the sentences find).
Query reformulation (question scaffolding words dropped before embedding), query-side stop words, a cap per
article, near-duplicate chunks collapsed, RRF_K 10/30 and a deeper pool did not raise dev recall@16.

Articles a question points at (retrieval/focus.py, 2026-12-01): the chunks of articles dated in a time the
question places its event in ("in February 2018"; retrieval/asked_time.py) or of the at most 3 articles
naming a rare name of it are taken from 100 deep and ranked as one more channel. Dev recall@16 60 -> 61
(d45), MRR 0.682 -> 0.698 (d47 12th -> 3rd, p23 13th -> 2nd). Tried and dropped: the window's chunks
from a BM25-only pool (a probe asked "in June 2016" of an event reported a year later fell from 1st to
8th), a channel weight of 2 (d21, "in January 2017" of an event reported from July, 1st -> 2nd/15th).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np

from bench.archive_eval import load_archive_questions
from bench.archive_slice import slice_sources
from bench.sentence_features import open_service

DEEP = 200


def holding_rows(index: Any, q: dict[str, Any], table: str) -> set[int]:
    """Rows of `index.chunks` or `index.sentences` in the expected articles that hold an expected phrase."""
    phrases = [p.lower() for p in q["expect_phrases"]]
    rows = getattr(index, table)
    out: set[int] = set()
    for source in q["expect_sources"]:
        article = index.article_by_source(source)
        if article is None:
            continue
        for row in np.flatnonzero(rows.article == article.id).tolist():
            start, end = rows.row(row)[1:3]
            if any(p in article.text[start:end].lower() for p in phrases):
                out.add(row)
    return out


def first_rank(order: list[int] | np.ndarray, wanted: set[int]) -> int | None:
    """The 1-based rank of the first wanted id in the order, or None."""
    for r, cid in enumerate(order, start=1):
        if int(cid) in wanted:
            return r
    return None


def measure(questions: list[dict[str, Any]], service: Any, depth: int = 16) -> list[dict[str, Any]]:
    """Per question: the answer chunk's rank in the search, by dense, by BM25; the answer sentence's rank."""
    from retrieval.lexical import tokenize
    from retrieval.search import search_chunks

    index = service.index
    embedder = service.embedder
    all_sent = np.asarray(index.sentence_vecs[np.arange(len(index.sentences))], dtype=np.float32)
    all_chunks = np.asarray(index.faiss.reconstruct_n(0, len(index.chunks)), dtype=np.float32)
    rows = []
    for q in questions:
        if q["kind"] == "unanswerable":
            continue
        wanted = holding_rows(index, q, "chunks")
        qvec = embedder.embed_query(q["question"])
        hits = search_chunks(index, embedder, q["question"], depth, qvec=qvec)
        deep = search_chunks(index, embedder, q["question"], DEEP, qvec=qvec)
        dense = np.argsort(-(all_chunks @ qvec), kind="stable")
        lexical = np.argsort(-index.bm25.scores(tokenize(q["question"])), kind="stable")
        sent = np.argsort(-(all_sent @ qvec), kind="stable")
        rows.append(
            {
                "id": q["id"],
                "search": first_rank([h.chunk_id for h in hits], wanted),
                "deep": first_rank([h.chunk_id for h in deep], wanted),
                "dense": first_rank(dense, wanted),
                "bm25": first_rank(lexical, wanted),
                "sentence": first_rank(sent, holding_rows(index, q, "sentences")),
                "answer_chunks": len(wanted),
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]], depth: int = 16) -> str:
    """Recall at depth and 30, MRR, and the same for each single channel."""

    def at(key: str, k: int) -> int:
        return sum(1 for r in rows if r[key] is not None and r[key] <= k)

    def mrr(key: str) -> float:
        return sum(1.0 / r[key] for r in rows if r[key] is not None and r[key] <= DEEP) / max(len(rows), 1)

    lines = [f"{len(rows)} answerable questions"]
    for key in ("search", "deep", "dense", "bm25", "sentence"):
        lines.append(
            f"  {key:9s} @{depth} {at(key, depth):3d}  @30 {at(key, 30):3d}  @100 {at(key, 100):3d}  "
            f"MRR {mrr(key):.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print every question's ranks (the misses at depth first) and the summary."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=["dev", "test", "holdout", "all"], default="dev")
    parser.add_argument("--depth", type=int, default=16, help="chunks an answer reads (extractive.CHUNKS)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    service = open_service(slice_sources())
    rows = measure(load_archive_questions(split=args.split), service, args.depth)
    for r in sorted(rows, key=lambda r: r["deep"] or 10**6):
        if r["search"] is None or r["search"] > args.depth:
            print(
                f"{r['id']}: search {r['search']}  deep {r['deep']}  dense {r['dense']}  bm25 {r['bm25']}  "
                f"sentence {r['sentence']}  ({r['answer_chunks']} answer chunks)"
            )
    print(summarise(rows, args.depth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
