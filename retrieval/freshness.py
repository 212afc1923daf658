"""Whether the quoted files still hold their quotes: an index older than its sources folder.

The index keeps each article's text, and every quote is checked against that copy. A file edited or
removed after `usru index` was still quoted from the copy with nothing said: "ready to work with the US"
shown after the file was changed to "NOT ready" (a17). Reading back the few quoted files of an answer
costs a few milliseconds; the caveat names them so the reader knows which quotes to doubt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from retrieval.answer import Answer, Citation
from retrieval.article import read_article_text
from retrieval.errors import ArticleError
from retrieval.prompts import render_prompt


def stale_sources(sources: Path, citations: Sequence[Citation]) -> list[str]:
    """The cited files that no longer hold their quote at its offsets (changed, removed or unreadable)."""
    texts: dict[str, str | None] = {}
    stale: list[str] = []
    for c in citations:
        if c.source not in texts:
            try:
                texts[c.source] = read_article_text(sources / c.source, c.source, root=sources)
            except (ArticleError, OSError):
                texts[c.source] = None
        text = texts[c.source]
        if (text is None or text[c.start : c.end] != c.quote) and c.source not in stale:
            stale.append(c.source)
    return stale


def flag_stale(sources: Path, answer: Answer) -> Answer:
    """The answer with a caveat naming the quoted files that changed since they were indexed, if any."""
    stale = stale_sources(sources, answer.citations)
    if not stale:
        return answer
    note = render_prompt("gap_stale.txt", sources=", ".join(stale))
    return replace(answer, note=f"{answer.note} {note}" if answer.note else note)
