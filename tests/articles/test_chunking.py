"""Sentences and chunks: abbreviation-aware splitting, exact offsets, bounded chunk sizes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from retrieval.article import Article, Span, parse_article, read_article
from retrieval.chunking import (
    MAX_CHUNK_CHARS,
    MAX_QUOTE_CHARS,
    MIN_QUOTE_WORDS,
    chunk_article,
    chunk_text,
    split_sentences,
)


def sentences_of(text: str, span: Span | None = None) -> list[str]:
    span = span or Span(0, len(text))
    return [text[s.start : s.end] for s in split_sentences(text, span)]


def seed_articles(seeds_dir: Path) -> list[Article]:
    return [read_article(p) for p in sorted(seeds_dir.iterdir())]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. President met Mr. Putin in Geneva. They talked for hours.",
            ["The U.S. President met Mr. Putin in Geneva.", "They talked for hours."],
        ),
        (
            "The summit was held on Dec. 5 in Geneva. Mrs. Clinton and Dr. Rice were not there.",
            ["The summit was held on Dec. 5 in Geneva.", "Mrs. Clinton and Dr. Rice were not there."],
        ),
        (
            "He addressed the U.N. Security Council on Friday. Gen. Milley spoke to Sen. Jones later.",
            ["He addressed the U.N. Security Council on Friday.", "Gen. Milley spoke to Sen. Jones later."],
        ),
        (
            "Was it useful? Yes! Both sides agreed to meet again.",
            ["Was it useful?", "Yes!", "Both sides agreed to meet again."],
        ),
        (
            '"We have a common agenda." Putin said so on Saturday.',
            ['"We have a common agenda."', "Putin said so on Saturday."],
        ),
        (
            "“We are ready,” he said. “The issue should be addressed to Washington.” Lavrov agreed.",
            ["“We are ready,” he said.", "“The issue should be addressed to Washington.”", "Lavrov agreed."],
        ),
        (
            "It ended with a question mark?” Then a new sentence began.",
            ["It ended with a question mark?”", "Then a new sentence began."],
        ),
        (
            "Relations were at their lowest point (since 1991.) Russia said talks could resume.",
            ["Relations were at their lowest point (since 1991.)", "Russia said talks could resume."],
        ),
        (
            "Путин заявил о готовности к диалогу. Москва ждёт ответа из Вашингтона!",
            ["Путин заявил о готовности к диалогу.", "Москва ждёт ответа из Вашингтона!"],
        ),
    ],
)
def test_sentence_splitting(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


def test_lower_case_after_a_full_stop_does_not_start_a_sentence() -> None:
    text = "Talks at 5 p.m. on Friday were short. Nothing was agreed."
    assert sentences_of(text) == ["Talks at 5 p.m. on Friday were short.", "Nothing was agreed."]


def test_sentence_offsets_are_absolute_and_trimmed() -> None:
    prefix = "HEADER LINE THAT IS NOT PART OF THE SPAN\n\n"
    body = "  The U.S. and Russia met.   Mr. Lavrov spoke first!  "
    text = prefix + body + "\n\nTrailing text. More."
    span = Span(len(prefix), len(prefix) + len(body))
    found = split_sentences(text, span)
    assert [text[s.start : s.end] for s in found] == ["The U.S. and Russia met.", "Mr. Lavrov spoke first!"]
    assert all(span.start <= s.start < s.end <= span.end for s in found)


def test_short_sentences_are_not_quotable() -> None:
    text = "Yes! The two presidents agreed to meet again in Geneva next month."
    found = split_sentences(text, Span(0, len(text)))
    assert [s.quotable for s in found] == [False, True]
    assert MIN_QUOTE_WORDS > 1


def test_seed_sentences_slice_the_original_text(seeds_dir: Path) -> None:
    for article in seed_articles(seeds_dir):
        file_text = (seeds_dir / article.source).read_text(encoding="utf-8")
        for paragraph in article.paragraphs:
            found = split_sentences(article.text, paragraph)
            assert found, article.source
            for s in found:
                piece = file_text[s.start : s.end]
                assert piece and piece == piece.strip()
                assert paragraph.start <= s.start < s.end <= paragraph.end
            # Nothing but whitespace is lost between the sentences of a paragraph.
            joined = "".join(file_text[s.start : s.end] for s in found)
            assert "".join(joined.split()) == "".join(file_text[paragraph.start : paragraph.end].split())


def test_seed_abbreviations_stay_inside_sentences(seeds_dir: Path) -> None:
    by_source = {a.source: a for a in seed_articles(seeds_dir)}
    article = by_source["004_d8420f329212aa7b.txt"]
    texts = [
        article.text[s.start : s.end] for p in article.paragraphs for s in split_sentences(article.text, p)
    ]
    assert (
        "Problems in relations between Russia and the U.S. can be resolved through the joint work." in texts
    )
    assert (
        "Someone lost the election to Mr. Trump and the blame was laid on Russia and an anti-Russian hysteria"
        " was simply unfolded, according to Putin." in texts
    )
    assert not any(t.endswith(("U.S.", "Mr.")) and len(t) < 30 for t in texts)


def check_chunks(article: Article, max_chars: int) -> None:
    chunks = chunk_article(article, max_chars=max_chars)
    expected = [s for p in article.paragraphs for s in split_sentences(article.text, p)]
    in_chunks = [s for c in chunks for s in c.sentences]
    # Every body sentence is in exactly one chunk, in reading order.
    assert in_chunks == expected
    previous_end = 0
    for chunk in chunks:
        assert chunk.sentences
        assert chunk.start == chunk.sentences[0].start and chunk.end == chunk.sentences[-1].end
        assert previous_end <= chunk.start, "chunks do not overlap"
        previous_end = chunk.end
        body = chunk_text(article.text, chunk)
        assert body == " ".join(article.text[s.start : s.end] for s in chunk.sentences)
        if len(chunk.sentences) > 1:
            assert len(body) <= max_chars, f"{article.source}: a {len(body)}-character chunk"


@pytest.mark.parametrize("max_chars", [MAX_CHUNK_CHARS, 300, 120])
def test_seed_chunks_cover_every_sentence_once_and_stay_small(seeds_dir: Path, max_chars: int) -> None:
    for article in seed_articles(seeds_dir):
        check_chunks(article, max_chars)


def test_default_chunks_are_at_most_max_chunk_chars(seeds_dir: Path) -> None:
    for article in seed_articles(seeds_dir):
        for chunk in chunk_article(article):
            body = chunk_text(article.text, chunk)
            assert len(body) <= MAX_CHUNK_CHARS or len(chunk.sentences) == 1


def test_a_sentence_longer_than_a_chunk_is_cut_into_quotes_at_its_clauses() -> None:
    long = "The sanctions cover " + ", ".join(f"state bank number {i}" for i in range(80)) + "."
    short = "Officials in Moscow said the new sanctions imposed by Washington would fail."
    text = "\n\n".join(
        ["Sanctions on Russian banks widen again", short, long, short.replace("fail", "backfire")]
    )
    article = parse_article(text, "long.txt")
    assert len(long) > MAX_CHUNK_CHARS
    check_chunks(article, MAX_CHUNK_CHARS)
    start = text.index(long)
    pieces = [s for c in chunk_article(article) for s in c.sentences if start <= s.start < start + len(long)]
    # Issue 16.8: no quote is longer than MAX_QUOTE_CHARS; the pieces cover the sentence, cut after commas.
    assert len(pieces) >= 3 and all(s.end - s.start <= MAX_QUOTE_CHARS for s in pieces)
    assert pieces[0].start == start and pieces[-1].end == start + len(long)
    assert all(text[a.end : b.start] == " " and text[a.end - 1] == "," for a, b in itertools.pairwise(pieces))


def test_many_paragraphs_fill_several_chunks() -> None:
    paragraphs = [
        f"Paragraph {i} says that diplomats from Russia and the United States met again on day {i} of the talks. "
        f"They agreed on point {i} and disagreed on point {i + 1}."
        for i in range(40)
    ]
    text = "Talks continue between Russia and the United States\n\n" + "\n\n".join(paragraphs) + "\n"
    article = parse_article(text, "many.txt")
    chunks = chunk_article(article)
    assert len(chunks) > 5
    check_chunks(article, MAX_CHUNK_CHARS)
