"""The few articles a question points at by itself: dated in the time it asks about, or naming its rare name.

Search fuses ranks over the whole archive, so the chunk that holds a detail can rank far down when its own
words do not repeat the question's: "For how many years has Putin dominated Russia, according to Mark
Galeotti?" is answered by "over his 17 years dominating Russia", in a chunk of the one article that quotes
Galeotti but in another of its chunks (answer chunk 74th fused, 622nd by its vector). When the question
names something only a few articles mention, or places its event in time (asked_time.py), the chunks of
those articles are taken from deeper in the rankings and ranked among themselves as one more channel.
"""

from __future__ import annotations

from collections.abc import Callable

from retrieval.arrays import distinct
from retrieval.asked_time import article_dates, asked_window
from retrieval.event_check import rare_names
from retrieval.index import StoredVersion

# A rare name of the question that at most this many articles mention points at them. Archive dev split:
# at 3, 6 of 83 questions point at articles, and d45 is answered (56 -> 57 of 65; d55 drops an off-point
# quote; no other answer changes); at 10, 20 questions do, with the same answers.
NAMED_ARTICLES = 3


def named_articles(index: StoredVersion, question: str) -> set[int]:
    """The articles that mention a rare name of the question, when at most NAMED_ARTICLES do."""
    bm25 = index.bm25
    chunk_article = index.chunks.article
    out: set[int] = set()
    for terms in rare_names(index, question).values():
        articles: set[int] | None = None
        for term in sorted(terms, key=bm25.doc_freq):
            t = bm25.vocab[term]
            chunks = bm25.doc_ids[int(bm25.offsets[t]) : int(bm25.offsets[t + 1])]
            found = set(distinct(chunk_article[chunks]).tolist())
            articles = found if articles is None else articles & found
            if not articles:
                break
        if articles and len(articles) <= NAMED_ARTICLES:
            out |= articles
    return out


def focus_chunks(index: StoredVersion, question: str) -> Callable[[int], bool] | None:
    """Whether a chunk belongs to the articles the question points at; None when it points at none."""
    window = asked_window(question)
    named = named_articles(index, question)
    if window is None and not named:
        return None
    dates = article_dates(index) if window else None
    chunk_article = index.chunks.article

    def inside(cid: int) -> bool:
        aid = int(chunk_article[cid])
        if aid in named:
            return True
        return dates is not None and window is not None and bool(window.first <= dates[aid] <= window.last)

    return inside
