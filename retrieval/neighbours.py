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

from retrieval.details import named_roles, roles
from retrieval.search import ChunkHit

if TYPE_CHECKING:
    from retrieval.embedding import Vectors
    from retrieval.extractive import Candidate
    from retrieval.index import StoredVersion


def with_next_chunks(index: StoredVersion, hits: Sequence[ChunkHit], qvec: Vectors) -> list[ChunkHit]:
    """The hits, then the chunk after each in its article (scored by its own cosine) where not among them."""
    # A story tells the act in the words a "who" question uses, and names the doer after it: "Trump was asked by
    # Jeff Glor of CBS News …" follows the paragraphs on the interview, in a chunk that shares few of the
    # question's words (archive dev split: 136 -> 137 of 175 quoted, nothing lost; the chunk before gains none).
    out = list(hits)
    have = {h.chunk_id for h in hits}
    articles = index.chunks.article
    for h in hits:
        after = h.chunk_id + 1
        if after < len(articles) and after not in have and int(articles[after]) == int(articles[h.chunk_id]):
            have.add(after)
            out.append(ChunkHit(after, 0.0, float(index.chunk_vector(after) @ qvec.reshape(-1)), 0.0))
    return out


def with_lead_chunks(index: StoredVersion, hits: Sequence[ChunkHit], qvec: Vectors) -> list[ChunkHit]:
    """The hits, then the first chunk of each one's article (scored by its own cosine) where not among them."""
    # A story's lead names who did what ("Sen. Mark Warner said Sunday that President Trump has 'parroted' Russian
    # policies"); the paragraphs retrieved for the question's other words call them "Mr. Warner" or "he" (archive
    # dev split, with short titles as roles: 137 -> 138 of 175 quoted, nothing lost).
    out = list(hits)
    have = {h.chunk_id for h in hits}
    articles = index.chunks.article
    for h in hits:
        first = h.chunk_id
        while first > 0 and int(articles[first - 1]) == int(articles[h.chunk_id]):
            first -= 1
        if first not in have:
            have.add(first)
            out.append(ChunkHit(first, 0.0, float(index.chunk_vector(first) @ qvec.reshape(-1)), 0.0))
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
