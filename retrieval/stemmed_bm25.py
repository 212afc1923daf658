"""BM25 over word stems, from the index's own postings: a question's "invoked" meets an article's "invoke".

The index keeps light stems (plurals only, lexical.stem), so a paraphrase's inflection of the article's
word scored nothing. Here each question word stands for all the vocabulary's words that share its
Snowball stem (morphology.vocabulary_forms): their postings are added up per chunk and the stem's document
frequency is the chunks holding any of them, which is BM25 over a stemmed index for the question's words,
with nothing re-indexed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from retrieval.arrays import distinct_inverse
from retrieval.lexical import Bm25
from retrieval.morphology import snowball_stem, vocabulary_forms


def stem_postings(bm25: Bm25, forms: list[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The chunks holding any of the forms, and the forms' summed term frequency in each."""
    spans = [(int(bm25.offsets[t]), int(bm25.offsets[t + 1])) for t in (bm25.vocab[f] for f in forms)]
    if len(spans) == 1:
        lo, hi = spans[0]
        return bm25.doc_ids[lo:hi].astype(np.int64), bm25.tfs[lo:hi]
    ids = np.concatenate([bm25.doc_ids[lo:hi] for lo, hi in spans]).astype(np.int64)
    tfs = np.concatenate([bm25.tfs[lo:hi] for lo, hi in spans])
    docs, at = distinct_inverse(ids)
    return docs, np.bincount(at, weights=tfs, minlength=len(docs)).astype(np.float32)


def stemmed_scores(bm25: Bm25, tokens: list[str]) -> npt.NDArray[np.float32]:
    """BM25 score of every chunk for the question's tokens, each counted as its Snowball stem."""
    out = np.zeros(bm25.n_docs, dtype=np.float32)
    seen: set[str] = set()
    for token in tokens:
        stem = snowball_stem(token)
        if stem in seen:
            continue
        seen.add(stem)
        forms = vocabulary_forms(bm25.vocab, token)
        if not forms:
            continue
        docs, tf = stem_postings(bm25, forms)
        df = len(docs)
        idf = math.log(1.0 + (bm25.n_docs - df + 0.5) / (df + 0.5))
        norm = tf + bm25.length_norm[docs]
        out[docs] += idf * tf * (bm25.k1 + 1.0) / norm
    return out
