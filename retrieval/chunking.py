"""Splitting article bodies into sentences and chunks, with offsets into the original file."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval.article import Article, Span
from retrieval.errors import ArticleError

IntArray = NDArray[np.int64]

# Bump when splitting changes, so stored vectors of unchanged articles are not reused wrongly.
# 2: sentences longer than MAX_QUOTE_CHARS are cut into pieces (issue 16.8).
CHUNKER_VERSION = 2
MAX_CHUNK_CHARS = 700
MIN_QUOTE_WORDS = 5
# A quote is at most this long: longer "sentences" (text without sentence breaks) are cut at a clause
# or word boundary into pieces, each still an exact span of the text. Real sentences are shorter:
# 137 of 79,358 sentences of 3,000 archive articles pass it, none of the seeds'.
MAX_QUOTE_CHARS = 600
# Past these an article is skipped with the reason: 4.9 MB of "Yes. " made 980,000 sentences. The
# longest of 3,000 archive articles has 378 sentences; a 1 MB report has about 7,000.
MAX_SENTENCES_PER_ARTICLE = 20_000
MAX_CHUNKS_PER_ARTICLE = 5_000
# Where a long sentence may be cut, best first: after a clause's punctuation, then after any space.
_CLAUSE_END = re.compile(r"[,;:)\]”’»\"']\s|\s[—–-]\s")

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "st",
    "gen",
    "sen",
    "rep",
    "gov",
    "lt",
    "col",
    "maj",
    "capt",
    "sgt",
    "jr",
    "sr",
    "vs",
    "etc",
    "inc",
    "co",
    "corp",
    "ltd",
    "no",
    "vol",
    "pp",
    "fig",
    "approx",
    "dept",
    "est",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mt",
    "ft",
    "pres",
}
# A full stop, ? or ! (with closing quotes/brackets) followed by space and a sentence opener. Matched
# only from the start of a run of stops, so "." * 40000 is one linear scan instead of 40000 (issue 16.4).
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-ZА-ЯЁ0-9])")
_TOKEN_BEFORE = re.compile(r"([\w.]+)$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article body."""

    start: int
    end: int
    quotable: bool


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one article, the unit of retrieval."""

    start: int
    end: int
    sentences: tuple[Sentence, ...]


def split_sentences(text: str, span: Span) -> list[Sentence]:
    """Split text[span] into sentences with absolute offsets; whitespace is trimmed off each."""
    pieces: list[tuple[int, int]] = []
    cursor = span.start
    body = text[span.start : span.end]
    for m in _BOUNDARY.finditer(body):
        end = span.start + m.end()
        if _is_abbreviation(text, span.start + m.start()):
            continue
        pieces.append((cursor, end))
        cursor = end
    pieces.append((cursor, span.end))
    sentences = []
    for s, e in pieces:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        for a, b in _bounded(text, s, e):
            words = len(_WORD.findall(text[a:b]))
            sentences.append(Sentence(a, b, words >= MIN_QUOTE_WORDS))
    return sentences


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The trimmed span [start, end) as pieces of at most MAX_QUOTE_CHARS, cut at clauses or words."""
    pieces = []
    while end - start > MAX_QUOTE_CHARS:
        window = text[start : start + MAX_QUOTE_CHARS]
        # The last clause end in the window's second half, else its last space, else a hard cut.
        cut = max((m.start() + 1 for m in _CLAUSE_END.finditer(window, MAX_QUOTE_CHARS // 2)), default=0)
        if not cut:
            cut = max(window.rfind(" ", MAX_QUOTE_CHARS // 4), window.rfind("\n", MAX_QUOTE_CHARS // 4), 0)
        cut = cut or MAX_QUOTE_CHARS
        piece_end = start + cut
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        if piece_end > start:
            pieces.append((start, piece_end))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def check_article_size(article: Article) -> None:
    """Raise ArticleError when an article has more sentences or chunks than one article may."""
    sentences = sum(len(split_sentences(article.text, p)) for p in article.paragraphs)
    if sentences > MAX_SENTENCES_PER_ARTICLE:
        raise ArticleError(
            f"it has {sentences:,} sentences, more than the {MAX_SENTENCES_PER_ARTICLE:,} one article may have"
        )
    chunks = len(chunk_article(article))
    if chunks > MAX_CHUNKS_PER_ARTICLE:
        raise ArticleError(
            f"it has {chunks:,} passages, more than the {MAX_CHUNKS_PER_ARTICLE:,} one article may have"
        )


def embedded_rows(chunks: int, quotable: IntArray) -> list[int]:
    """Which of the chunk and sentence texts (chunks first) get a vector: sentences too short to quote don't.

    Their vector rows stay zero: no answer reads them, and embedding 980,000 "Yes." cost 1.5 GB.
    """
    return [*range(chunks), *(chunks + int(i) for i in np.flatnonzero(quotable))]


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    m = _TOKEN_BEFORE.search(text[max(0, dot - 20) : dot])
    if not m:
        return False
    token = m.group(1)
    # Initials and dotted acronyms: "U.S.", "J. Smith", "U.N."
    if (
        re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", token)
        and len(token.replace(".", "")) <= 3
        and ("." in token or token.isupper())
    ):
        return True
    return token.lower() in _ABBREVIATIONS


def chunk_article(article: Article, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Group an article's sentences into chunks of at most max_chars, breaking at paragraphs when full enough."""
    chunks: list[Chunk] = []
    current: list[Sentence] = []
    size = 0
    for paragraph in article.paragraphs:
        sentences = split_sentences(article.text, paragraph)
        if current and size >= max_chars // 2:
            chunks.append(_make_chunk(current))
            current, size = [], 0
        for sentence in sentences:
            length = sentence.end - sentence.start
            if current and size + length > max_chars:
                chunks.append(_make_chunk(current))
                current, size = [], 0
            current.append(sentence)
            size += length + 1
    if current:
        chunks.append(_make_chunk(current))
    return chunks


def _make_chunk(sentences: list[Sentence]) -> Chunk:
    return Chunk(sentences[0].start, sentences[-1].end, tuple(sentences))


def chunk_text(text: str, chunk: Chunk) -> str:
    """The chunk's words as one string, without any furniture lying between its paragraphs."""
    return " ".join(text[s.start : s.end] for s in chunk.sentences)


def indexed_text(article: Article, chunk: Chunk) -> str:
    """What a chunk is embedded and word-indexed as: its article's title, then its words."""
    body = chunk_text(article.text, chunk)
    return f"{article.title}\n{body}" if article.title else body
