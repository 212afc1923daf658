"""Bounded quotes (issue 16.8) and bounded work per article (issue 16.9).

Text without sentence breaks used to become one 290,886-character quote; 4.9 MB of "Yes. " made
980,000 sentences, each embedded, and a 1.5 GB index.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from retrieval import chunking
from retrieval.article import Span, read_article
from retrieval.chunking import MAX_QUOTE_CHARS, MAX_SENTENCES_PER_ARTICLE, split_sentences
from retrieval.embedding import HashingEmbedder, Vectors
from retrieval.errors import ArticleError
from retrieval.index import build_index, load_index
from retrieval.service import build_service
from tests.conftest import copy_seeds, hashing_settings_for
from tests.support.cli import QUESTION, QUOTE


def assert_bounded_exact_pieces(text: str, span: Span) -> list[tuple[int, int]]:
    pieces = [(s.start, s.end) for s in split_sentences(text, span)]
    assert pieces and all(0 < e - s <= MAX_QUOTE_CHARS for s, e in pieces)
    # The pieces cover the span in order, with only whitespace between them.
    assert pieces[0][0] == span.start and pieces[-1][1] == span.end
    assert all(text[a:b].strip() == "" for (_, a), (b, _) in itertools.pairwise(pieces))
    return pieces


def test_text_without_sentence_breaks_is_cut_at_words_into_bounded_pieces() -> None:
    text = " ".join(f"word{i}" for i in range(60_000))  # 290 KB with no full stop
    pieces = assert_bounded_exact_pieces(text, Span(0, len(text)))
    assert len(pieces) >= len(text) // MAX_QUOTE_CHARS
    # Cut between words, never inside one.
    assert all(text[e] == " " for _, e in pieces[:-1]) and all(text[s - 1] == " " for s, _ in pieces[1:])


def test_a_long_sentence_is_cut_after_a_clause_where_it_has_one() -> None:
    text = (
        "; ".join(
            f"the {i}th clause of a very long sentence about the arms control treaty" for i in range(40)
        )
        + "."
    )
    pieces = assert_bounded_exact_pieces(text, Span(0, len(text)))
    assert all(text[e - 1] == ";" for _, e in pieces[:-1])
    assert all(e - s > MAX_QUOTE_CHARS // 2 for s, e in pieces[:-1]), "cut late in the window, not early"


def test_text_without_spaces_is_cut_hard_at_the_bound() -> None:
    text = "x" * 2_000
    pieces = assert_bounded_exact_pieces(text, Span(0, len(text)))
    assert [e - s for s, e in pieces] == [600, 600, 600, 200]


def test_normal_sentences_are_not_cut(seeds_dir: Path) -> None:
    text = "Putin said that Russia is ready to work with the US on arms control issues. " * 3
    assert [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)))] == [QUOTE] * 3


def test_answers_from_text_without_breaks_quote_at_most_600_characters_verbatim(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    words = [f"zorblax{i % 97} treaty" for i in range(30_000)]
    (sources / "nobreaks.txt").write_text("No breaks at all\n\n" + " ".join(words) + "\n", encoding="utf-8")
    settings = hashing_settings_for(sources, tmp_path / "idx").model_copy(update={"min_relevance": 0.0})
    service = build_service(settings)
    for question in ("What about the zorblax5 treaty?", "zorblax17 and zorblax18", QUESTION):
        answer = service.answer(question)
        assert answer.citations
        for c in (*answer.citations, *answer.more):
            text = (sources / c.source).read_bytes().decode("utf-8")
            assert c.quote == text[c.start : c.end]
            # One sentence (or piece) at most MAX_QUOTE_CHARS; a sentence that leans on the one before
            # ("This …") is quoted with it, so two of them at most.
            limit = MAX_QUOTE_CHARS if c.source == "nobreaks.txt" else 2 * MAX_QUOTE_CHARS
            assert len(c.quote) <= limit, f"a {len(c.quote)}-character quote from {c.source}"
        assert question == QUESTION or "nobreaks.txt" in [c.source for c in answer.citations]
    assert QUOTE in [c.quote for c in service.answer(QUESTION).citations], "the seeds still answer"


def test_an_article_with_too_many_sentences_is_skipped_with_its_reason(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    (sources / "yes.txt").write_text("Yes. " * (MAX_SENTENCES_PER_ARTICLE + 5_000), encoding="utf-8")
    with pytest.raises(ArticleError, match=r"25,000 sentences, more than the 20,000"):
        read_article(sources / "yes.txt")
    summary = build_index(sources, tmp_path / "idx", HashingEmbedder())
    assert summary.articles == 5
    assert [(s, r) for s, r in summary.skipped if s == "yes.txt"] == [
        ("yes.txt", "it has 25,000 sentences, more than the 20,000 one article may have")
    ]


def test_an_article_with_too_many_passages_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunking, "MAX_CHUNKS_PER_ARTICLE", 50)
    sources = copy_seeds(tmp_path / "sources")
    sentence = "Diplomats from Russia and the United States met again to talk about arms control in Geneva. "
    (sources / "long.txt").write_text("Long\n\n" + "\n\n".join([sentence * 8] * 60), encoding="utf-8")
    summary = build_index(sources, tmp_path / "idx", HashingEmbedder())
    reasons = dict(summary.skipped)
    assert re.fullmatch(r"it has \d+ passages, more than the 50 one article may have", reasons["long.txt"])
    assert summary.articles == 5


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering every text it embedded."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.embedded += texts
        return super().embed_documents(texts)


def test_sentences_too_short_to_quote_are_not_embedded(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    (sources / "yes.txt").write_text(
        "Short answers\n\n"
        + "Yes. No. " * 2_000
        + "Diplomats from Russia and the United States met in Geneva.",
        encoding="utf-8",
    )
    embedder = CountingEmbedder()
    build_index(sources, tmp_path / "idx", embedder)
    index = load_index(tmp_path / "idx")
    quotable = index.sentences[:, 3].astype(bool)
    assert (~quotable).sum() >= 2_000
    assert "Yes." not in embedder.embedded and "No." not in embedder.embedded
    assert len(embedder.embedded) == len(index.chunks) + int(quotable.sum())
    assert not np.any(index.sentence_vecs[~quotable]), "no vector for a sentence no answer can quote"
    assert np.all(np.linalg.norm(index.sentence_vecs[quotable], axis=1) > 0.99)
