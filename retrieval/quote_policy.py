"""Which of the chosen quotes an answer can leave out: they add length, not the asked-for fact.

Applied after the quotes are chosen (retrieval/extractive.py select_quotes). Quotes are only dropped,
never cut: every quote shown stays a whole sentence at its offsets. The best quote always stays, so
no rule here turns an answer into a refusal. Measured on the dev split of tests/eval/archive.yaml
(bench/archive_eval.py): median characters shown 580 -> 560, the quoted answers, refusals and false
refusals of every group unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval.details import asked_detail
from retrieval.lexical import tokenize

if TYPE_CHECKING:
    from retrieval.extractive import Candidate
    from retrieval.index import StoredVersion

# When the best quote holds the asked-for detail, a further quote holding a detail too is shown only if it
# scores this close to it (both carry the detail bonus, so this is a gap in relevance): far below the best,
# it names some other number or person (dev split: "1.2 billion … passwords" under "500 million Yahoo
# accounts"). At 0.15 the dev split lost one strict hit (d11's fourth quote, restating the best one's fact).
DETAIL_LEAD = 0.20
# Two quotes from different articles sharing this share of their words say one thing (two copies of a wire
# sentence, "Putin won 76.6% of the vote"); the lower-scored one is left out. At 0.35 the dev split lost a
# hit (d29: two accounts of one meeting, each with its own detail), at 0.3 two.
RESTATES = 0.4


def drop_extra_quotes(index: StoredVersion, question: str, chosen: Sequence[Candidate]) -> list[Candidate]:
    """The chosen quotes less those that add no asked-for fact; their order is kept."""
    if len(chosen) < 2:
        return list(chosen)
    words = {id(c): frozenset(tokenize(index.article(c.article_id).text[c.start : c.end])) for c in chosen}
    ranked = sorted(chosen, key=lambda c: -c.score)
    top = ranked[0]
    if asked_detail(question) is not None and top.detail:
        ranked = _beside_detail(ranked, words, frozenset(tokenize(question)))
    kept: list[Candidate] = []
    for c in ranked:
        if not any(
            o.article_id != c.article_id and _overlap(words[id(o)], words[id(c)]) >= RESTATES for o in kept
        ):
            kept.append(c)
    keep = {id(c) for c in kept}
    return [c for c in chosen if id(c) in keep]


def _beside_detail(
    ranked: list[Candidate], words: dict[int, frozenset[str]], asked: frozenset[str]
) -> list[Candidate]:
    """Quotes ranked best first, kept beside a best one that holds the asked-for detail.

    A further quote stays if it holds a detail and scores within DETAIL_LEAD of the best, or if it holds no
    detail but a question word none of the quotes kept before it has (it may state the fact in words the
    detail rules miss).
    """
    top = ranked[0]
    kept = [top]
    covered = words[id(top)] & asked
    for c in ranked[1:]:
        if c.detail:
            if c.score < top.score - DETAIL_LEAD:
                continue
        elif not (words[id(c)] & asked) - covered:
            continue
        kept.append(c)
        covered |= words[id(c)] & asked
    return kept


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Words shared as a share of the words of both (Jaccard)."""
    return len(a & b) / len(a | b) if a or b else 0.0
