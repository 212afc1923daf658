"""What stands beside a passage that describes a person: the sentence or chunk that names them.

An article says "Through a spokesman, Rohrabacher indicated …" and names him a sentence on ("… spokesman Ken
Grubbs said in an email"); asked who speaks for Rohrabacher, the quote without its next sentence has the role
but not the name (issue 12: "what was the name of the Russian lawyer…" got three quotes saying "a Russian
lawyer", never her name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from retrieval.details import asked_detail
from retrieval.people import named_roles, roles
from retrieval.question_vector import resolve_vector
from retrieval.search import ChunkHit, search_chunks

if TYPE_CHECKING:
    from retrieval.embedding import Embedder, Vectors
    from retrieval.extractive import Candidate
    from retrieval.filters import Filters
    from retrieval.index import StoredVersion
    from retrieval.question_vector import QuestionVector


def find_chunks(
    index: StoredVersion,
    embedder: Embedder,
    question: str,
    k: int,
    qvec: QuestionVector,
    filters: Filters | None = None,
    next_chunks: bool = True,
) -> list[ChunkHit]:
    """The chunks whose sentences are scored: the k retrieved, and for a "who" question the chunk after each."""
    hits = search_chunks(index, embedder, question, k, qvec=qvec, filters=filters)
    if not next_chunks or asked_detail(question) != "person":
        return hits
    # Not each article's lead chunk too: with short titles as roles it found p43's senator on dev (137 -> 138),
    # but lost a holdout answer (h4-34: the lead's announcement outscored "Rep. Mark Meadows …") and doubled
    # the sentences a who-question scores again.
    return add_next_chunks(index, hits, resolve_vector(qvec))


def add_next_chunks(index: StoredVersion, hits: Sequence[ChunkHit], qvec: Vectors) -> list[ChunkHit]:
    """The hits, then the chunk after each in its article (scored by its own cosine) where not among them."""
    # A story tells the act in the words a "who" question uses, and names the doer after it: "Trump was asked by
    # Jeff Glor of CBS News …" follows the paragraphs on the interview, in a chunk that shares few of the
    # question's words (archive dev split: 136 -> 137 of 175 quoted, nothing lost; the chunk before gains none).
    out = list(hits)
    have = {h.chunk_id for h in hits}
    articles = index.chunks.article
    for h in hits:
        cid = h.chunk_id + 1
        if cid < len(articles) and cid not in have and int(articles[cid]) == int(articles[h.chunk_id]):
            have.add(cid)
            out.append(ChunkHit(cid, 0.0, float(index.chunk_vector(cid) @ qvec.reshape(-1)), 0.0))
    return out


def same_paragraph(text: str, lo: int, hi: int) -> bool:
    """Whether text[lo:hi], between two spans, is only spaces with at most one line break."""
    gap = text[lo:hi]
    return lo <= hi and not gap.strip() and gap.count("\n") <= 1


def with_named_roles(
    index: StoredVersion, candidates: Sequence[Candidate], chosen: Sequence[Candidate]
) -> list[Candidate]:
    """The chosen quotes, each lacking the asked-for detail but naming a role run on into the neighbouring
    candidate that holds the detail and gives a person that role."""
    out = list(chosen)
    for i, o in enumerate(out):
        text = index.article(o.article_id).text
        asked_roles = roles(text[o.start : o.end]) if not o.detail else set()
        if not asked_roles:
            continue
        for c in candidates:
            if not (
                c.detail
                and c.article_id == o.article_id
                and (same_paragraph(text, o.end, c.start) or same_paragraph(text, c.end, o.start))
            ):
                continue
            if asked_roles & named_roles(text[c.start : c.end]):
                out[i] = replace(o, start=min(o.start, c.start), end=max(o.end, c.end), detail=True)
                break
    return out
