"""BM25 over word stems, from the index's own postings: a question's "invoked" meets an article's "invoke".

The index keeps light stems (plurals only, lexical.stem), so a paraphrase's inflection of the article's
word scored nothing. Here each question word stands for all the vocabulary's words that share its
Snowball stem (morphology.vocabulary_forms): their postings are added up per chunk and the stem's document
frequency is the chunks holding any of them, which is BM25 over a stemmed index for the question's words,
with nothing re-indexed.
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from retrieval.arrays import distinct_inverse
from retrieval.lexical import Bm25
from retrieval.morphology import snowball_stem, vocabulary_forms

Scores = npt.NDArray[np.float32]

# A stem in more than this share of the chunks ("russia", "trump", "presid") has its scores kept as one array
# over all chunks: gathering and weighing its postings (up to half the chunks) was half of a warm answer's
# stemmed BM25 on the whole AllSides corpus, and one array added costs a tenth of that (3.0 -> 1.6 ms a question
# over 398 archive questions, scores bit-identical). Rarer stems' postings are short and read each time.
DENSE_SHARE = 1 / 16
# At most this many bytes of such arrays per loaded version (1.1 MB each on the whole corpus: ~40 stems; the
# archive's questions used 61 in 398 questions, most of them once).
DENSE_BYTES = 48 << 20
# A question keeps at most this many new stems' arrays: one of 120 common words (which fits in a question)
# otherwise turned the whole cache over, ran slower than reading postings (109 ms against 96 on the whole
# corpus: zeroing and filling 1.1 MB per stem) and emptied the cache for every other question (a24).
NEW_PER_QUESTION = 8
# A question of more distinct stems than this keeps none: asked again and again, 8 new arrays each time still
# turned the cache over (a25). News questions have 3 to 15.
ADMITTING_STEMS = 24
_DENSE: weakref.WeakKeyDictionary[Bm25, LRUCache[tuple[str, ...], Scores]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # cachetools' caches are not thread-safe on their own


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


def stemmed_scores(bm25: Bm25, tokens: list[str]) -> Scores:
    """BM25 score of every chunk for the question's tokens, each counted as its Snowball stem."""
    out = np.zeros(bm25.n_docs, dtype=np.float32)
    seen: set[str] = set()
    kept_now = 0 if len({snowball_stem(t) for t in tokens}) <= ADMITTING_STEMS else NEW_PER_QUESTION
    for token in tokens:
        stem = snowball_stem(token)
        if stem in seen:
            continue
        seen.add(stem)
        forms = vocabulary_forms(bm25.vocab, token)
        if not forms:
            continue
        # Keyed by the forms, not the stem: each token's look-up keeps the token itself, whatever its ending.
        key = tuple(forms)
        dense = _kept(bm25, key)
        if dense is not None:
            out += dense  # the same float32 sums as adding the postings: elsewhere it adds 0
            continue
        docs, scores = _stem_scores(bm25, forms)
        if len(docs) > DENSE_SHARE * bm25.n_docs and kept_now < NEW_PER_QUESTION:
            kept_now += 1
            dense = np.zeros(bm25.n_docs, dtype=np.float32)
            dense[docs] = scores
            dense.flags.writeable = False  # shared by every later question
            _keep(bm25, key, dense)
            out += dense
        else:
            out[docs] += scores
    return out


def _stem_scores(bm25: Bm25, forms: list[str]) -> tuple[npt.NDArray[np.int64], Scores]:
    """The chunks holding any of the forms and the stem's BM25 score in each."""
    docs, tf = stem_postings(bm25, forms)
    df = len(docs)
    idf = math.log(1.0 + (bm25.n_docs - df + 0.5) / (df + 0.5))
    norm = tf + bm25.length_norm[docs]
    scores: Scores = idf * tf * (bm25.k1 + 1.0) / norm
    return docs, scores


def _kept(bm25: Bm25, key: tuple[str, ...]) -> Scores | None:
    with _LOCK:
        kept = _DENSE.get(bm25)
        return None if kept is None else kept.get(key)


def _keep(bm25: Bm25, key: tuple[str, ...], dense: Scores) -> None:
    if dense.nbytes > DENSE_BYTES:
        return
    with _LOCK:
        kept = _DENSE.get(bm25)
        if kept is None:
            kept = _DENSE[bm25] = LRUCache(DENSE_BYTES, getsizeof=lambda a: a.nbytes)
        kept[key] = dense
