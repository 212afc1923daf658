"""Whether the quoted files still hold their quotes: an index older than its sources folder.

The index keeps each article's text, and every quote is checked against that copy. A file edited or
removed after `usru index` was still quoted from the copy with nothing said: "ready to work with the US"
shown after the file was changed to "NOT ready" (a17). Reading back the few quoted files of an answer
costs a few milliseconds; the caveat names them so the reader knows which quotes to doubt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from retrieval.answer import Answer, Citation
from retrieval.article import HTML_SUFFIXES, read_article, read_article_text
from retrieval.errors import ArticleError
from retrieval.prompts import render_prompt


def stale_sources(
    sources: Path, citations: Sequence[Citation], indexed_hash: Callable[[str], str | None] | None = None
) -> tuple[list[str], list[str]]:
    """The cited files that changed since they were indexed: (changed or removed, still there but unreadable
    as an article, such as emptied). A file changed if it no longer holds its quote at its offsets, or, given
    `indexed_hash` (the hash the index keeps of each file's text), if its text is not the one indexed: a date
    or publisher edited in its front matter leaves the quote where it was (a30)."""
    texts: dict[str, str | None] = {}
    stale: list[str] = []
    kept: list[str] = []
    for c in citations:
        if c.source not in texts:
            try:
                texts[c.source] = read_article_text(sources / c.source, c.source, root=sources)
            except (ArticleError, OSError):
                texts[c.source] = None
        text = texts[c.source]
        if c.source in stale + kept:
            continue
        if text is None or text[c.start : c.end] != c.quote:
            (kept if _refused(sources, c.source) else stale).append(c.source)
        elif indexed_hash is not None and not c.source.lower().endswith(HTML_SUFFIXES):
            # A web page's indexed hash covers its extracted metadata too: its quote check stands alone.
            indexed = indexed_hash(c.source)
            if indexed and hashlib.sha256(text.encode("utf-8")).hexdigest() != indexed:
                stale.append(c.source)
    return stale, kept


def _refused(sources: Path, source: str) -> bool:
    """Whether the file is there but `usru index` would refuse it, and so keep the copy indexed before."""
    path = sources / source
    if path.is_symlink() or not path.is_file():
        return False  # a link is dropped from the index, not kept (index/changes.py)
    try:
        # Read whole (front matter parsed) only here, for a quoted file that changed: rare.
        read_article(path, source, root=sources)
    except ArticleError:
        return True
    except OSError:
        return False
    return False


def flag_stale(
    sources: Path, answer: Answer, indexed_hash: Callable[[str], str | None] | None = None
) -> Answer:
    """The answer with a caveat naming the quoted files that changed since they were indexed, if any."""
    stale, kept = stale_sources(sources, answer.citations, indexed_hash)
    notes = [answer.note] if answer.note else []
    if stale:
        notes.append(render_prompt("gap_stale.txt", sources=", ".join(stale)))
    if kept:
        # `usru index` keeps the copy of a file it cannot read (emptied, say) on purpose: "Update the index"
        # would change nothing, however often it ran (a28).
        notes.append(render_prompt("gap_kept.txt", sources=", ".join(kept)))
    return replace(answer, note=" ".join(notes)) if stale or kept else answer
