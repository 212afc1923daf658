"""Splitting article bodies into sentences and chunks, with offsets into the original file."""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.article import Article, Span

# Bump when splitting changes, so stored vectors of unchanged articles are not reused wrongly.
CHUNKER_VERSION = 1
MAX_CHUNK_CHARS = 700
MIN_QUOTE_WORDS = 5

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
# A full stop, ? or ! (with closing quotes/brackets) followed by space and a sentence opener.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-ZА-ЯЁ0-9])")
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
        if s < e:
            words = len(_WORD.findall(text[s:e]))
            sentences.append(Sentence(s, e, words >= MIN_QUOTE_WORDS))
    return sentences


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
