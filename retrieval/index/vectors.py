"""Vectors of a new segment: each sentence embedded once, and each chunk made from its sentences.

Quotes are chosen sentence by sentence, so every quotable sentence needs a vector of its own. Embedding
the chunks as well read the text twice; instead a chunk's vector is the mean of its sentences' vectors
and its title's, weighted by length (a mean over tokens, as the model pools a passage), so the model
reads each article's words once. On the seeds this answers as the two-pass scheme did (41/44 answered,
10/10 refused); pooling the sentences from the chunk pass instead answered 38/44 (issue 13).
"""

from __future__ import annotations

import numpy as np

from retrieval.article import Article
from retrieval.chunking import embedded_rows
from retrieval.embedding import Embedder, Vectors
from retrieval.index.records import ChunkCol, ChunkTable, Progress, SentenceTable

# Recorded in each manifest: an index whose vectors were made another way is embedded again.
SENTENCE_MEAN = "sentence-mean-1"
TWO_PASSES = "two-passes"
SCHEMES = (SENTENCE_MEAN, TWO_PASSES)
# What an update uses when its caller names no scheme (Settings.vectors, USRU_VECTORS, names one).
DEFAULT_VECTORS = TWO_PASSES
# A chunk's title counts this many times its words: it leads every chunk of the article.
TITLE_WEIGHT = 2.0
BLOCK = 256


def check_scheme(scheme: str) -> str:
    """The scheme, once it is one this version of usru knows how to make."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown vector scheme {scheme!r} (known: {', '.join(SCHEMES)})")
    return scheme


def _weight(text: str) -> float:
    # Words approximate tokens; +2 stands for the [CLS] and [SEP] each embedded text also pools.
    return float(len(text.split()) + 2)


def embed_segment(
    articles: list[Article],
    chunk_texts: list[str],
    chunks: ChunkTable,
    sentences: SentenceTable,
    embedder: Embedder,
    scheme: str,
    progress: Progress | None = None,
) -> tuple[Vectors, Vectors]:
    """Chunk vectors and sentence vectors made by `scheme` (zero rows for sentences too short to quote)."""
    if check_scheme(scheme) == TWO_PASSES:
        return _embed_two_passes(articles, chunk_texts, sentences, embedder, progress)
    return _embed_sentence_mean(articles, chunks, sentences, embedder, progress)


def _embed_sentence_mean(
    articles: list[Article],
    chunks: ChunkTable,
    sentences: SentenceTable,
    embedder: Embedder,
    progress: Progress | None,
) -> tuple[Vectors, Vectors]:
    rows = sentences.rows.tolist()
    texts = [articles[a].text[s:e] for a, s, e, _ in rows]
    titled = [i for i, a in enumerate(articles) if a.title]
    texts += [articles[i].title or "" for i in titled]
    vecs: Vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    # Shortest first, so each batch pads to a similar length.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for k in range(0, len(order), BLOCK):
        ids = order[k : k + BLOCK]
        vecs[ids] = embedder.embed_documents([texts[i] for i in ids])
        if progress:
            progress("embed", min(k + BLOCK, len(order)), len(order))
    weights = np.array([_weight(t) for t in texts], dtype=np.float32)
    n = len(rows)
    title_row = {a: n + j for j, a in enumerate(titled)}
    sentence_vecs = vecs[:n]
    chunk_vecs: Vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    C = ChunkCol
    for c, row in enumerate(chunks.rows.tolist()):
        lo, hi = row[C.FIRST_SENTENCE], row[C.END_SENTENCE]
        vec = weights[lo:hi] @ sentence_vecs[lo:hi]
        t = title_row.get(row[C.ARTICLE])
        if t is not None:
            vec = vec + TITLE_WEIGHT * weights[t] * vecs[t]
        chunk_vecs[c] = vec / max(float(np.linalg.norm(vec)), 1e-12)
    # Sentences too short to quote helped make their chunk's vector; no answer reads their own (issue 16.9).
    out: Vectors = np.ascontiguousarray(sentence_vecs)
    out[sentences.quotable == 0] = 0.0
    return chunk_vecs, out


def _embed_two_passes(
    articles: list[Article],
    chunk_texts: list[str],
    sentences: SentenceTable,
    embedder: Embedder,
    progress: Progress | None,
) -> tuple[Vectors, Vectors]:
    """The earlier scheme: the chunks' texts embedded, then every quotable sentence on its own."""
    sentence_texts = [articles[a].text[s:e] for a, s, e, _ in sentences.rows.tolist()]
    texts = chunk_texts + sentence_texts
    vecs: Vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    # Sentences too short to quote are not embedded (issue 16.9); their rows stay zero.
    order = sorted(embedded_rows(len(chunk_texts), sentences.quotable), key=lambda i: len(texts[i]))
    for k in range(0, len(order), BLOCK):
        ids = order[k : k + BLOCK]
        vecs[ids] = embedder.embed_documents([texts[i] for i in ids])
        if progress:
            progress("embed", min(k + BLOCK, len(order)), len(order))
    return vecs[: len(chunk_texts)], vecs[len(chunk_texts) :]
