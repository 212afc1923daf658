"""Synthetic article pages for the reader's tests, and their kept paragraphs checked against the text."""

from __future__ import annotations

from retrieval.article import Article, parse_article

# Ordinary body paragraphs: long enough and ending like sentences, so the reader takes them for body.
B1 = "The foreign ministers of Russia and the United States met in Vienna on Tuesday to discuss arms control."
B2 = "Both delegations said the talks were useful and agreed to meet again before the end of the year."
B3 = (
    "Analysts in Washington said a new treaty was unlikely, but that contacts between the militaries "
    "would continue."
)
BODY = [B1, B2, B3]
TITLE = "Russia and US agree to keep talking on arms control"


def page(*lines: str, sep: str = "\n\n") -> str:
    """A synthetic article: its lines separated by blank lines."""
    return sep.join(lines) + "\n"


def kept(article: Article, original: str) -> list[str]:
    """The kept paragraphs as slices of the ORIGINAL text, after checking the spans are sane."""
    assert article.text == original, "the article text must be the file's text, unchanged"
    previous_end = 0
    for span in article.paragraphs:
        assert previous_end <= span.start < span.end <= len(original), "spans are ordered and inside the text"
        piece = original[span.start : span.end]
        assert piece == piece.strip(), f"a paragraph span carries surrounding whitespace: {piece!r}"
        previous_end = span.end
    return [original[s.start : s.end] for s in article.paragraphs]


def parse(text: str) -> tuple[Article, list[str]]:
    """The article parsed from `text` and its kept paragraphs."""
    article = parse_article(text, "synthetic.txt")
    return article, kept(article, text)
