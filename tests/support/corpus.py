"""Reading articles back from disk, to check that quotes are verbatim."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retrieval.answer import Answer, Citation


def file_text(where: Any, source: str) -> str:
    """The source file as it is on disk, decoded; `where` is a service or has a `sources` folder."""
    sources = where.settings.sources if hasattr(where, "settings") else where.sources
    return (sources / source).read_bytes().decode("utf-8")


def assert_verbatim(service: Any, citations: Answer | Iterable[Citation]) -> None:
    """Every citation (of an answer, or given) is its file's text at its offsets, non-empty and trimmed."""
    for c in citations.citations if isinstance(citations, Answer) else citations:
        text = file_text(service, c.source)
        assert 0 <= c.start < c.end <= len(text)
        assert c.quote == text[c.start : c.end], f"[{c.n}] is not verbatim at {c.source}[{c.start}:{c.end}]"
        assert c.quote == c.quote.strip() and c.quote
