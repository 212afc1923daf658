"""Measure retrieval recall offline: where the chunk holding each archive question's answer ranks.

    python -m bench.retrieval_recall [--split dev] [--depth 16] [--ids REGEX]

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

Paraphrases (h12g, 2026-12-01): 33 new dev questions q2-01..q2-33 worded as a reader who never saw the
article would ask (`--ids '^q2-'`). Recall@16: old 65 61, n01-n32 31 of 32, q2 24 of 33; the 9 q2 misses
rank 70-620 by the chunk vector and past 89 by BM25 (the MiniLM vector does not bridge "America's top
diplomat" to "Tillerson"), and 5 of them are in an article that ranks 1st-3rd by another passage. Tried on
the fused ranks, none raising q2 without a loss: BM25 weighed by the share of the question's IDF mass its
best chunk holds (0.33-0.66 on q2, 0.3-1.0 on old; q2 24 -> 23, old 61 -> 62), with or without the sentence
channel raised as BM25 falls; the sentence channel at 0.75/1.0 or 30 deep (no change); the two leading
articles' other passages ranked by their vectors as one more channel (q2 24 -> 25, n 31 -> 32, MRR 0.632 ->
0.616; end to end only p43 gained, so dropped); pseudo-relevance feedback (top 3-5 chunks' rare terms as a
second BM25 channel: q2 21-24, old 58-61). Sentence choice on the same candidates (bench/sentence_features.py
replayed): for questions whose best candidate holds under half their rare words, W_LEXICAL 0.2/0.5,
W_CONTEXT 0.35/0.45, the sentence cosine x1.2/x1.4 and W_LEXICAL scaled by that share all quote 95-98 of 130
(98 before); the q2 answer sentences score 0.34-0.51 by their vectors, below sentences that do not answer.
A floor lowered by W_LEXICAL times the share no candidate holds (down to MIN_RELEVANCE) took dev false
refusals 3 -> 1 but quoted nothing more, and let a test unanswerable through (reverted).

BM25 by Snowball stems (h12p, 2026-12-01; retrieval/stemmed_bm25.py: each question word stands for the
vocabulary's words sharing its stem, nothing re-indexed). The BM25 channel alone, recall@16 / MRR: old 53
-> 58 / 0.587 -> 0.637, q2 19 -> 21 / 0.321 -> 0.365, c 11 -> 12, n 28 (0.801 -> 0.795). Fused search:
old 61 -> 63 (p29, p31 found at 11th and 16th), MRR 0.698 -> 0.705; q2 24 (MRR 0.417 -> 0.428); n 31 and
c 11 as before (MRR 0.722 -> 0.709, 0.578 -> 0.576). A stemmed index built in memory gave the same figures.
End to end the dev answers do not move (106/143 quoted, 20/44 refused, 3 false refusals, median 582):
the found chunks' answer sentences score 0.41-0.60 by relevance, below sentences that do not answer and
under the floor. Stems in the sentence scorer's word coverage too lost more than they gained (105/143,
false refusals 3 -> 6: the stems' lower IDF reweighs every question). The names of what a question
describes (retrieval/periphrases.py: "the Western military alliance" is NATO) added to the BM25 query:
q2 recall@16 24 -> 25 (q2-24 12th), MRR 0.428 -> 0.471; with a sentence naming the thing holding the
description's words, q2-24 is quoted (dev 107/143, false refusals 2: q2-19 and q2-30, whose answer
sentences score 0.42 and 0.59 against a floor of 0.75). Appending the names to the embedded question
lost answers (q2 15 -> 14, false refusals 5). Test once after: 50/64, 18/18 refused, 0 false refusals
(p24 answered with G7 quotes, not the expected one), median 604; holdout 22/32, 7/7, 0, median 580.
"""

from __future__ import annotations

import argparse
import os
import re
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
    from retrieval.stemmed_bm25 import stemmed_scores

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
        lexical = np.argsort(-stemmed_scores(index.bm25, tokenize(q["question"])), kind="stable")
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
    parser.add_argument("--ids", help="only the questions whose id matches this regular expression ('^q2-')")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    service = open_service(slice_sources())
    questions = load_archive_questions(split=args.split)
    if args.ids:
        questions = [q for q in questions if re.search(args.ids, q["id"])]
    rows = measure(questions, service, args.depth)
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
