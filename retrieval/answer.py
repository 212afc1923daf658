"""What an answer is: the lead, the verified citations, and how long it took."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

# Names in citations are printed through the one rule for unsafe characters.
from retrieval.textsafety import one_line as one_line

Status = Literal["answered", "not_found"]


class QuoteMismatchError(AssertionError):
    """A citation's quote is not the source text at its offsets."""


@dataclass(frozen=True)
class Citation:
    """One verbatim quote, where it sits in its source file and who published it."""

    n: int
    source: str
    title: str | None
    publisher: str | None
    date: str | None
    quote: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, exactly the documented fields."""
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "publisher": self.publisher,
            "date": self.date,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Answer:
    """The reply to one question."""

    question: str
    status: Status
    lead: str
    answer: str
    citations: tuple[Citation, ...]
    mode: str
    timings_ms: dict[str, float]
    # Lists of citation numbers that tell one story (retrieval/same_story.py), shown side by side.
    groups: tuple[tuple[int, ...], ...] = ()
    # Further supporting quotes that were not shown, for a "more quotes" action.
    more: tuple[Citation, ...] = field(default=())
    # The language of the lead and of the question as asked: "ru" for a Russian question's reply.
    language: str = "en"
    # What the articles lack ("The articles run from 2014-01-01 to 2019-12-31; none … 2022"): said with a
    # refusal so the reader learns why, and printed by every front end (JSON: "note", null when none).
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form printed by `usru ask --json`."""
        return {
            "question": self.question,
            "status": self.status,
            "answer": self.answer,
            "citations": [c.to_dict() for c in self.citations],
            "mode": self.mode,
            "timings_ms": dict(self.timings_ms),
            # Which quotes tell one story, for a reader of the JSON as for one of the text.
            "groups": [list(group) for group in self.groups],
            "note": self.note,
        }


def answer_timings(t0: float, retrieve_s: float) -> dict[str, float]:
    """An answer's timings in ms: retrieval, the rest, and the total since `t0` (a perf_counter time)."""
    retrieve_ms = retrieve_s * 1000
    total_ms = (time.perf_counter() - t0) * 1000
    return {
        "retrieve": round(retrieve_ms, 2),
        "answer": round(total_ms - retrieve_ms, 2),
        "total": round(total_ms, 2),
    }


def verify_citation(citation: Citation, text: str) -> None:
    """Raise QuoteMismatchError unless the quote is exactly text[start:end]."""
    if (
        not (0 <= citation.start < citation.end <= len(text))
        or text[citation.start : citation.end] != citation.quote
    ):
        raise QuoteMismatchError(
            f"quote [{citation.n}] is not verbatim at {citation.source}[{citation.start}:{citation.end}]"
        )
