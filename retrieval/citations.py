"""How an answer shows its quotes: each checked verbatim, numbered, with who published it and when."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.answer import Citation, one_line, verify_citation
from retrieval.index import StoredVersion
from retrieval.prompts import load_prompt, render_prompt


def timeline_note(citations: Sequence[Citation], groups: Sequence[tuple[int, ...]] = ()) -> str:
    """A sentence saying over which dates the quotes run, when they span several, and in what order."""
    shown = [c.date for c in citations if c.date]
    dates = sorted(set(shown))
    if len(dates) < 2:
        return ""
    if shown == sorted(shown):
        return render_prompt("timeline.txt", first=dates[0], last=dates[-1])
    # A story's quotes stand together at its earliest date (extractive.order_by_date), so a later quote of
    # one may come before an earlier one of another: "in date order" would be untrue (a28).
    template = "timeline_grouped.txt" if any(len(g) > 1 for g in groups) else "timeline_span.txt"
    return render_prompt(template, first=dates[0], last=dates[-1])


def cite(index: StoredVersion, n: int, article_id: int, start: int, end: int) -> Citation:
    """Citation [n] of text[start:end] of an article, asserted verbatim: every answer mode cites through here."""
    article = index.intact_article(article_id)
    citation = Citation(
        n=n,
        source=article.source,
        title=article.title,
        publisher=article.publisher,
        date=article.date,
        quote=article.text[start:end],
        start=start,
        end=end,
    )
    verify_citation(citation, article.text)
    return citation


def display_quote(quote: str) -> str:
    """The quote on one line, in quotation marks unless it already opens or closes with one."""
    flat = " ".join(quote.split())
    # Only a quote that both opens and closes with a mark is shown bare: 'He said "no"' needs our marks, and
    # so does '“Of course,” Peskov told reporters.', which showed an opening mark short (a17).
    if flat[:1] in "\"“‘«'" and flat[-1:] in "\"”’»'":
        return flat
    return f"“{flat}”"


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def render_answer(citations: list[Citation], groups: list[tuple[int, ...]]) -> tuple[str, str]:
    """The lead line and the full answer text a user reads."""
    outlets: list[str] = []
    sources: set[str] = set()
    for c in citations:
        name = one_line(c.publisher or c.source)
        if name not in outlets:
            outlets.append(name)
        sources.add(c.source)
    if len(sources) == 1:
        lead = render_prompt("lead_one.txt", outlets=join_names(outlets))
    else:
        lead = render_prompt("lead_many.txt", count=len(sources), outlets=join_names(outlets))
    if note := timeline_note(citations, groups):
        lead = f"{lead} {note}"
    return lead, "\n".join([lead, "", *render_citations(citations, groups)])


def render_citations(citations: Sequence[Citation], groups: Sequence[tuple[int, ...]] = ()) -> list[str]:
    """The numbered quotes with who published them, noting quotes that repeat another outlet's point."""
    undated = load_prompt("undated.txt")
    same_as = {pos: group[0] for group in groups for pos in group[1:]}
    lines = []
    for pos, c in enumerate(citations):
        lines.append(
            render_prompt(
                "citation.txt",
                n=c.n,
                quote=display_quote(c.quote),
                publisher=one_line(c.publisher or c.source),
                date=c.date or undated,
                title=one_line(c.title or c.source),
            )
        )
        if pos in same_as:
            lines.append(same_story_note(citations[same_as[pos]], c))
    return lines


def same_story_note(first: Citation, later: Citation) -> str:
    """The line under a quote on an earlier one's story, saying whether another outlet tells it."""
    # Two Reuters articles on one story are no second outlet's word for it.
    same_outlet = one_line(first.publisher or first.source) == one_line(later.publisher or later.source)
    template = "same_story_same_outlet.txt" if same_outlet else "same_story.txt"
    return render_prompt(template, first=first.n)
