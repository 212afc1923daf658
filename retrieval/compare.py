"""Side by side by leaning: the same question answered from each leaning's outlets alone (`usru compare`).

Each leaning's quotes come from the answering chain `ask` uses, limited to that leaning's articles, so the
retrieval, the verbatim check and the refusal rules are the same: a leaning with nothing relevant says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from retrieval.answer import Answer, Citation, verify_citation
from retrieval.errors import IndexError_, QuestionError
from retrieval.filters import Dated, Filters
from retrieval.leanings import UNRATED, HasOutlet, Leanings, load_leanings, order_labels

if TYPE_CHECKING:
    from retrieval.index import StoredVersion
    from retrieval.service import AnsweringService

PER_LEANING = 2
NOTHING_RELEVANT = "Nothing relevant from these outlets."


@dataclass(frozen=True)
class LeaningFilters(Filters):
    """The user's filters, and only articles of one leaning."""

    leaning: str = UNRATED
    leanings: Leanings = field(default_factory=Leanings, compare=False, hash=False)

    def __bool__(self) -> bool:
        return True

    def admits_article(self, article: Dated) -> bool:
        """Whether the article passes the user's filters and has this leaning."""
        if not super().admits_article(article):
            return False
        return self.leanings.of(_as_outlet(article)) == self.leaning

    def describe(self) -> str:
        """The filters in words, the leaning included."""
        rest = super().describe()
        return f"rated {self.leaning}" + (f", {rest}" if rest else "")


def _as_outlet(article: Dated) -> HasOutlet:
    if not hasattr(article, "leaning"):
        raise TypeError("a leaning filter needs article rows with a leaning")
    return article  # type: ignore[return-value]  # checked just above


@dataclass(frozen=True)
class LeaningGroup:
    """One leaning's side: how many of its articles could be quoted, and its best verified quotes."""

    leaning: str
    articles: int
    answer: Answer

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The leaning's quotes (none when nothing relevant was found)."""
        return self.answer.citations if self.answer.status == "answered" else ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of one group."""
        return {
            "leaning": self.leaning,
            "articles": self.articles,
            "status": self.answer.status,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class Comparison:
    """A question answered once per leaning."""

    question: str
    status: Literal["answered", "not_found"]
    groups: tuple[LeaningGroup, ...]
    note: str | None = None  # for a refusal, what the articles lack (as `ask` says it)
    all_unrated: bool = False  # no article has a leaning: the import or USRU_LEANINGS is missing

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by `usru compare --json`."""
        return {
            "question": self.question,
            "status": self.status,
            "note": self.note,
            "groups": [g.to_dict() for g in self.groups],
        }


def count_leanings(index: StoredVersion, leanings: Leanings, filters: Filters | None = None) -> Counter[str]:
    """How many indexed articles (admitted by the filters) each leaning has."""
    return Counter(
        leanings.of(a) for a in index.articles if filters is None or not filters or filters.admits_article(a)
    )


def compare_leanings(
    service: AnsweringService,
    question: str,
    filters: Filters | None = None,
    per_leaning: int = PER_LEANING,
) -> Comparison:
    """The best verified quotes for the question from each leaning's outlets, left to right.

    Raises QuestionError for a question `ask` would refuse to take, or when no article passes the filters.
    """
    index = service.index
    leanings = load_leanings(service.settings.leanings_file)
    base = filters or Filters()
    counts = count_leanings(index, leanings, base)
    if not counts:
        raise QuestionError(f"No indexed article is {base.describe()}, so none can be quoted.")
    groups = []
    for label in order_labels(counts):
        narrowed = LeaningFilters(base.since, base.until, base.outlets, leaning=label, leanings=leanings)
        answer = service.answer(question, filters=narrowed, max_quotes=per_leaning)
        _check_verbatim(service, answer)
        groups.append(LeaningGroup(label, counts[label], answer))
    answered = any(g.citations for g in groups)
    note = None if answered else next((g.answer.note for g in groups if g.answer.note), None)
    return Comparison(
        question=groups[0].answer.question,
        status="answered" if answered else "not_found",
        groups=tuple(groups),
        note=note,
        all_unrated=set(counts) == {UNRATED},
    )


def _check_verbatim(service: AnsweringService, answer: Answer) -> None:
    """Every quote is its article's text at its offsets (the chain checks too; side by side must not drift)."""
    for c in answer.citations:
        article = service.index.article_by_source(c.source)
        if article is None:
            raise IndexError_(f"The article {c.source!r} is no longer in the index.")
        verify_citation(c, article.text)
