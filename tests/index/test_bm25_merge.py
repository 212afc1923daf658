"""Merging word statistics places each part's postings directly (issue 13): the same as merging by hand."""

from __future__ import annotations

import numpy as np

from retrieval.lexical import Bm25


def postings(bm: Bm25) -> dict[str, list[tuple[int, float]]]:
    out = {}
    for term, t in bm.vocab.items():
        lo, hi = int(bm.offsets[t]), int(bm.offsets[t + 1])
        out[term] = list(zip(bm.doc_ids[lo:hi].tolist(), bm.tfs[lo:hi].tolist(), strict=True))
    return out


def test_merged_postings_are_the_kept_documents_renumbered_in_order() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        docs = [
            [
                [str(w) for w in rng.choice(list("abcdefg"), rng.integers(0, 7))]
                for _ in range(rng.integers(0, 8))
            ]
            for _ in range(rng.integers(1, 5))
        ]
        parts = [(Bm25.build(d), rng.random(len(d)) > 0.3) for d in docs]
        merged = Bm25.merge(parts)
        kept = [
            doc for d, (_, keep) in zip(docs, parts, strict=True) for doc, k in zip(d, keep, strict=True) if k
        ]
        expected = Bm25.build(kept)
        assert postings(merged) == {t: p for t, p in postings(expected).items()} | {
            t: [] for t in merged.vocab if t not in expected.vocab
        }
        assert np.array_equal(merged.doc_lens, expected.doc_lens)
        assert merged.doc_ids.dtype == np.int32 and merged.tfs.dtype == np.float32
