"""What a question asks about that a large archive cannot report: later years, names and words it never uses.

Near a covered event the relevance score cannot tell an answer from a neighbour: "Who won the 2024
Russian presidential election?" finds the 2018 one, "How did the SolarWinds hack affect U.S. agencies?"
finds other hacks. Three checks that need no threshold on scores:
- a year after the last article's date: the archive can speak of it only ahead of time, and sentences
  that name it are mostly asides ("a potential 2020 presidential candidate"), so none is quoted;
- a capitalised name no indexed chunk mentions (coverage.unknown_names);
- a content word that no chunk holds in any form (no word of the vocabulary shares its stem);
- a rare name and a rare word of the question that no article holds together, in any form: the archive
  knows Nord Stream and Prigozhin, but no article about them says "blew" or "crashed";
- once quotes are chosen, a question with a rare name whose rare word none of the quoted articles holds in
  any form ("How did Alexei Navalny die in prison?" quoted his brother's sentencing).
Absence says something only about a large archive: in five articles most words of a paraphrased question
are absent, so the last three checks wait for MIN_ARTICLES articles; they refuse with a note naming the gap.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Sequence
from typing import Protocol, TypeVar

from retrieval.coverage import PROPER, asked_years, date_span, unknown_names
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, tokenize
from retrieval.prompts import render_prompt

# Below this many articles a missing name or word is no evidence that the archive misses the event.
MIN_ARTICLES = 200
# Shorter words (and numbers) are left alone: "ex", "v", "16" say nothing about an event.
MIN_WORD = 4
# Event words may be as short as "die" or "won".
MIN_EVENT_WORD = 3
# The last date bounds what an archive reports only when nearly all its articles are dated.
MAX_UNDATED = 0.1
# A name pins an event when at most this share of chunks mentions it (Prigozhin, Nord Stream; not Putin),
# and a word names one when at most this share holds it. Chosen on the archive's dev split (10,591 chunks):
# 0.4% refused 5 more unanswerable questions ("die" in 11 chunks, "blew" 11, "grain" 1, "crashed" 33,
# "replaced" 19) and no answerable one; 0.5% also refused "...since Devin Nunes stepped aside?" (its quotes
# say "recused"; "aside": 52), 1% "What share of Moldova's treasury assets was stolen?" ("stolen": 68, its
# article says "theft"). Names: 1% to 10% made no difference.
NAME_SHARE = 0.03
EVENT_SHARE = 0.004
# Capitalised, but dates rather than names.
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december monday tuesday"
    " wednesday thursday friday saturday sunday".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

_VOCABS: dict[str, tuple[object, list[str]]] = {}
_LOCK = threading.Lock()


class Quotable(Protocol):
    """A span of an article that may be quoted."""

    @property
    def article_id(self) -> int: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


Q = TypeVar("Q", bound=Quotable)


def later_years(index: StoredVersion, question: str) -> list[str]:
    """The years the question names that come after the last article's date (in a dated archive)."""
    last = date_span(index).last
    articles = index.articles
    undated = sum(1 for a in articles if not a.date)
    if not last or undated > MAX_UNDATED * len(articles):
        return []
    return [y for y in asked_years(question) if y > last[:4]]


def sorted_vocabulary(index: StoredVersion) -> list[str]:
    """The index's BM25 terms in order, kept per index version (prefix look-ups bisect it)."""
    bm25 = index.bm25
    with _LOCK:
        cached = _VOCABS.get(index.version)
    # Checked against the BM25 object too: two indexes (two folders, tests) reuse version names.
    if cached is not None and cached[0] is bm25:
        return cached[1]
    vocab = sorted(bm25.vocab)
    with _LOCK:
        if len(_VOCABS) > 4:
            _VOCABS.clear()
        _VOCABS[index.version] = (bm25, vocab)
    return vocab


def stem_root(term: str) -> str:
    """The part of a term its other forms share ("vaccine" → "vacc", "campaigning" → "campaign")."""
    return term[: max(MIN_WORD, len(term) - 3)]


def has_form(vocab: list[str], term: str) -> bool:
    """Whether some vocabulary word shares the term's root (or is the term)."""
    root = stem_root(term)
    at = bisect.bisect_left(vocab, root)
    return at < len(vocab) and vocab[at].startswith(root)


def unused_words(index: StoredVersion, question: str) -> list[str]:
    """The question's content words that no chunk holds in any form, as the question spells them."""
    vocab: list[str] | None = None
    words: list[str] = []
    for raw in _WORD.findall(question):
        if len(raw) < MIN_WORD or raw.lower() in STOPWORDS:
            continue
        terms = tokenize(raw)
        if not terms or any(index.bm25.doc_freq(t) for t in terms):
            continue
        vocab = vocab if vocab is not None else sorted_vocabulary(index)
        if not any(has_form(vocab, t) for t in terms) and raw not in words:
            words.append(raw)
    return words


def word_forms(vocab: list[str], term: str) -> list[str]:
    """The vocabulary words that share the term's root ("crashed" → crash, crashed, crashes)."""
    root = stem_root(term)
    at = bisect.bisect_left(vocab, root)
    forms = []
    while at < len(vocab) and vocab[at].startswith(root):
        forms.append(vocab[at])
        at += 1
    return forms


def articles_with(index: StoredVersion, terms: Sequence[str]) -> set[int]:
    """The articles with a chunk that holds any of the terms."""
    bm25 = index.bm25
    chunk_article = index.chunks.article
    out: set[int] = set()
    for term in terms:
        t = bm25.vocab.get(term)
        if t is not None:
            chunks = bm25.doc_ids[int(bm25.offsets[t]) : int(bm25.offsets[t + 1])]
            out.update(int(a) for a in chunk_article[chunks])
    return out


def full_names(question: str) -> list[str]:
    """The capitalised names of the question, runs of words kept whole ("Nord Stream", "Black Sea")."""
    names: list[str] = []
    end = -2
    for m in PROPER.finditer(question):
        if names and question[end : m.start()] == " ":
            names[-1] += " " + m.group(0)
        else:
            names.append(m.group(0))
        end = m.end()
    return names


def rare_names(index: StoredVersion, question: str) -> dict[str, list[str]]:
    """The question's names that few chunks mention, each with its rare terms."""
    bm25 = index.bm25
    names: dict[str, list[str]] = {}
    for name in full_names(question.strip()):
        terms = [
            t
            for t in tokenize(name)
            if t not in _NOT_NAMES and 0 < bm25.doc_freq(t) <= NAME_SHARE * bm25.n_docs
        ]
        if terms:
            names[name] = terms
    return names


def event_words(index: StoredVersion, question: str, names: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The question's rare words outside its names, as (spelling, term)."""
    bm25 = index.bm25
    in_names = {t for name in full_names(question.strip()) for t in tokenize(name)}
    words = []
    for raw in _WORD.findall(question):
        terms = tokenize(raw)
        if len(raw) < MIN_EVENT_WORD or len(terms) != 1 or terms[0] in in_names:
            continue
        if 0 < bm25.doc_freq(terms[0]) <= EVENT_SHARE * bm25.n_docs and (raw, terms[0]) not in words:
            words.append((raw, terms[0]))
    return words


def unmet_events(index: StoredVersion, question: str) -> list[tuple[str, str]]:
    """(name, word) pairs of the question, both rare, that no article holds together in any form."""
    names = rare_names(index, question)
    if not names:
        return []
    vocab = sorted_vocabulary(index)
    unmet = []
    for raw, term in event_words(index, question, names):
        with_word = articles_with(index, word_forms(vocab, term) or [term])
        unmet += [
            (name, raw)
            for name, ts in names.items()
            if any(not with_word & articles_with(index, [t]) for t in ts)
        ]
    return unmet


def unquoted_events(index: StoredVersion, question: str, article_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(name, word) pairs of a question with a rare name whose rare word no quoted article holds in any form."""
    names = rare_names(index, question)
    if not names or not article_ids:
        return []
    vocab = sorted_vocabulary(index)
    quoted = set(article_ids)
    name = next(iter(names))
    return [
        (name, raw)
        for raw, term in event_words(index, question, names)
        if not quoted & articles_with(index, word_forms(vocab, term) or [term])
    ]


def quoted_gap(index: StoredVersion, question: str, article_ids: Sequence[int]) -> str | None:
    """The refusal note when the quoted articles never say the event the question asks about, else None."""
    if len(index.articles) < MIN_ARTICLES or not (unquoted := unquoted_events(index, question, article_ids)):
        return None
    name, word = unquoted[0]
    return render_prompt("gap_quoted.txt", subject=name, word=word)


def missing_words(index: StoredVersion, question: str) -> list[str]:
    """The names and words of the question that a large archive never uses (none in a small one)."""
    if len(index.articles) < MIN_ARTICLES:
        return []
    missing = unknown_names(index, question)
    return missing + [w for w in unused_words(index, question) if w not in missing]


def screen_events(index: StoredVersion, question: str, candidates: Sequence[Q]) -> tuple[list[Q], str | None]:
    """The candidates that may answer, and a note on what the archive cannot report (None: no gap).

    A question about a later year, or naming what a large archive never uses, keeps no candidate.
    """
    if years := later_years(index, question):
        span = date_span(index)
        note = render_prompt("gap_later_years.txt", first=span.first, last=span.last, years=", ".join(years))
        return [], note
    if missing := missing_words(index, question):
        return [], render_prompt("gap_names.txt", names=", ".join(missing))
    if len(index.articles) >= MIN_ARTICLES and (unmet := unmet_events(index, question)):
        name, word = unmet[0]
        return [], render_prompt("gap_together.txt", subject=name, word=word)
    return list(candidates), None
