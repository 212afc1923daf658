"""What a question asks about that a large archive cannot report: later years, names and words it never uses.

Near a covered event the relevance score cannot tell an answer from a neighbour: "Who won the 2024
Russian presidential election?" finds the 2018 one, "How did the SolarWinds hack affect U.S. agencies?"
finds other hacks. Checks that need no threshold on relevance scores:
- a year or a month ("December 2017") after the last date searched: the archive can speak of it only
  ahead of time, and sentences that name it are mostly asides ("a potential 2020 presidential candidate"), so none is quoted, unless
  the question itself asks ahead ("will", "scheduled", "expected") or also names a year the archive
  covers: then the articles naming the years answer, with a caveat that they predate the later one;
- a capitalised name no indexed chunk mentions (coverage.unknown_names);
- a content word that no chunk holds in any form (no word of the vocabulary shares its stem);
- once quotes are chosen, a caveat (the answer stays): the quoted articles mention a rare name of the
  question but no passage of theirs says its rare (event) word beside the name, in any form, and either
  the name pins one story ("How did Alexei Navalny die in prison?" quoted his brother's sentencing) or no
  passage with the name says the word at all (the archive knows Nord Stream and Prigozhin, but no
  passage about them says "blew" or "crashed"). A passage (chunk), not the whole article: "Who replaced
  Sergei Shoigu as Russia's defense minister?" quoted an article naming Shoigu in a photo caption and
  saying "replaced" of Medvedev, and "Why did Russia boycott the 2018 World Cup?" one saying "boycott"
  of the Olympics; on the dev split this caveats both and changes no answerable question's answer. A name the quotes do not mention is left alone: they may say it another way ("the G20
  summit in Buenos Aires" for Argentina). As a refusal this check refused 5 more of the archive's 18 dev
  unanswerable questions and no answerable one, but on the test split it refused 4 answerable paraphrases
  ("Why did the Olympic committee exclude Russia from the Pyeongchang games?") and no unanswerable one:
  an event word said another way cannot be told from an event that never happened, so it only warns.
Absence says something only about a large archive: in five articles most words of a paraphrased question
are absent, so all but the first check wait for MIN_ARTICLES articles. The first three refuse with a note
naming the gap.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from retrieval.coverage import (
    PROPER,
    asked_years,
    date_span,
    outlet_terms,
    spellings,
    term_count,
    unknown_names,
)
from retrieval.dates import WEEKDAYS
from retrieval.filters import Filters
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, tokenize
from retrieval.morphology import snowball_forms
from retrieval.per_version import PerVersion
from retrieval.periphrases import descriptions
from retrieval.premise_words import IRREGULAR, describing_name, names_the_kind, side_words, unpremised_words
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case
from retrieval.window import describe_window, join_words, periods_after

# Below this many articles a missing name or word is no evidence that the archive misses the event.
MIN_ARTICLES = 200
# Shorter words (and numbers) are left alone: "ex", "v", "16" say nothing about an event.
MIN_WORD = 4
# Event words may be as short as "die" or "won".
MIN_EVENT_WORD = 3
# The last date bounds what an archive reports only when nearly all its articles are dated.
MAX_UNDATED = 0.1
# A name counts when at most NAME_SHARE of the chunks mention it (Prigozhin, Helsinki; not Putin), and pins
# one story when a word of it is in at most PIN_SHARE (Navalny, Shoigu); a word of the question names an
# event when at most EVENT_SHARE of the chunks hold it. Chosen on the archive's dev split (10,591 chunks):
# 0.4% flagged 5 more unanswerable questions ("die" in 11 chunks, "blew" 11, "grain" 1, "crashed" 33,
# "replaced" 19) and no answerable one; 0.5% also flagged "...since Devin Nunes stepped aside?" (its quotes
# say "recused"; "aside": 52). Checked beside tests/eval/compare.yaml's 23 questions over the same index:
# asked before a name had to be in the quotes, "Why did Trump cancel the planned meeting with Putin at the
# G20 summit in Argentina?" and "How did Republicans react to Trump's press conference with Putin in
# Helsinki?" were flagged; now none is.
NAME_SHARE = 0.03
EVENT_SHARE = 0.004
PIN_SHARE = 0.005
# ... and at most PIN_MAX chunks whatever the archive's size: one story fills a bounded number of passages,
# while a share of the whole-AllSides index (284,666 chunks: 1,423) counted Kiev (367) and Pyongyang (783)
# as one story each (bench/archive_big.py: q2-06 "never say “returning” about Kiev"). 53 is the share's
# value on the archive's dev slice (10,591 chunks), where nothing changes.
PIN_MAX = 53
# Capitalised, but dates rather than names.
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december monday tuesday"
    " wednesday thursday friday saturday sunday".split()
)
# A possessive "'s" is no part of the word ("Navalny's" is the name Navalny).
_WORD = re.compile(r"[^\W\d_]+(?:['’](?!s\b)[^\W\d_]+)*")
# British -ise, -ised, -ising, -isation: American archives (Reuters, AP) write -ize, beyond a common root.
_BRITISH = re.compile(r"is(e|es|ed|ing|ation|ations)$")
_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
# A question about what was planned or expected: an archive that ends before the year it names can answer
# it ("When is Papadopoulos's sentencing scheduled in 2018?" of Reuters articles from late 2017).
_AHEAD = re.compile(
    r"\b(?:will|would|should|going to|set to|upcoming|next|ahead|into (?:early |late |mid-)?\d{4}|expect\w*"
    r"|plan(?:s|ned|ning)?|schedul\w*"
    r"|forecast\w*|predict\w*|prospects?|outlook"
    # "Is New START due to expire in 2021?", "extending New START beyond 2021", "preparing for the 2020
    # election", "running for president in 2020": told ahead of time by 2014-2019 articles (a28). Not "due to"
    # as "because of" ("fall due to the 2022 sanctions").
    r"|due (?:to (?:expire|end|lapse|run out|begin|start|be|take|hold|meet|vote|open|close|finish)|in|by)"
    r"|beyond (?:early |late |mid-)?\d{4}|prepar\w*|run(?:s|ning)? for|expir(?:e|es|ing))\b",
    re.IGNORECASE,
)
# A later year naming what people talked of before it came ("What did Mueller say about Russian interference in
# the 2020 election?"), not the time of the act asked ("say about Navalny's poisoning in August 2020"), nor
# its outcome ("say after losing the 2020 election", "won"): 2019 articles report what was said of it (a28).
_SAID = re.compile(
    r"\b(?:say|says|said|saying|warn\w*|think|thinks|thought|believe\w*|fear\w*|tell|told|worr\w*)\b",
    re.IGNORECASE,
)
_TOPIC_YEAR = re.compile(
    r"\b(?:the|a|an|his|her|its|their)\s+(?:[a-z]+\s+)?(?:19|20)\d\d\s+(?:[a-z]+\s+)?"
    # What is set for a year before it comes (an election, a census, a deadline), as news can speak of
    # it ahead; not what happened in it ("the 2020 poisoning of Navalny", "the 2021 Capitol riot", a30).
    r"(?:elections?|race|campaign|midterms?|primary|primaries|caucus(?:es)?|nomination|convention|trial|vote"
    r"|ballot|cycle|census|olympics|games|world cup|deadline|expiration|candidates?|contest)\b",
    re.IGNORECASE,
)
_OUTCOME = re.compile(
    r"\b(?:won|wins?|winners?|lost|lose|losing|loss|results?|outcome|after|since|happened|defeat\w*"
    r"|(?:re-?)?elected|aftermath"
    # Where the words were said, not what they were about: "say about Russia in the 2020 presidential
    # debates" (dev) asks what was said in 2020.
    r"|debates?|interviews?|speech|speeches|address|rall(?:y|ies)|hearings?|conferences?|summit|town halls?"
    r"|testimony|state of the union)\b",
    re.IGNORECASE,
)

# Per version object, held weakly: keyed by the version's name they kept each replaced version's BM25
# postings and article list (whose texts hold a SQLite connection) until 4 or 8 names had gathered, as
# a25 found of the caches in coverage.py and asked_time.py.
_VOCABS: PerVersion[list[str]] = PerVersion(per_version=1)
_DATED: PerVersion[bool] = PerVersion(per_version=1)


class Quotable(Protocol):
    """A span of an article that may be quoted."""

    @property
    def article_id(self) -> int: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


Q = TypeVar("Q", bound=Quotable)


def is_dated(index: StoredVersion) -> bool:
    """Whether nearly all of the version's articles have a date (counted once per version)."""
    articles = index.articles
    return _DATED.get(
        index, "dated", lambda: sum(1 for a in articles if not a.date) <= MAX_UNDATED * len(articles)
    )


def later_years(index: StoredVersion, question: str, filters: Filters | None = None) -> list[str]:
    """The years and months the question names that come after the last date searched (in a dated archive)."""
    return _later_periods(index, question, filters)[0]


def _later_periods(index: StoredVersion, question: str, filters: Filters | None) -> tuple[list[str], int]:
    """The later years and months ("2024", "December 2017"), and how many periods the question names."""
    last = date_span(index, filters).last if asked_years(question) else None
    if not last or not is_dated(index):
        return [], 0
    return periods_after(question, last)


def asks_ahead(question: str) -> bool:
    """Whether the question asks what was planned or expected rather than what happened."""
    if _AHEAD.search(question):
        return True
    return bool(_SAID.search(question) and _TOPIC_YEAR.search(question) and not _OUTCOME.search(question))


def sorted_vocabulary(index: StoredVersion) -> list[str]:
    """The index's BM25 terms in order, kept per index version (prefix look-ups bisect it)."""
    return _VOCABS.get(index, "vocabulary", lambda: sorted(index.bm25.vocab))


def stem_root(term: str) -> str:
    """The part of a term its other forms share ("vaccine" → "vacc", "campaigning" → "campaign")."""
    return term[: max(MIN_WORD, len(term) - 3)]


def american(term: str) -> str:
    """The term in American spelling where British writes -ise/-isation ("organisation" → "organization")."""
    return _BRITISH.sub(r"iz\1", term)


def has_form(vocab: list[str], term: str) -> bool:
    """Whether some vocabulary word shares the term's root or Snowball stem (or is the term), in either
    apostrophe or spelling.

    The root alone missed inflections that double a consonant: dev q2-19 was refused with "No indexed
    article mentions plugging" over an archive that says "plug" ("plugging" → root "plugg", stem "plug").
    """
    for spelling in {*spellings(term), *spellings(american(term))}:
        root = stem_root(spelling)
        at = bisect.bisect_left(vocab, root)
        if at < len(vocab) and vocab[at].startswith(root):
            return True
        if snowball_forms(vocab, spelling):
            return True
    return False


def unused_words(index: StoredVersion, question: str) -> list[str]:
    """The question's content words that no chunk holds in any form, as the question spells them."""
    vocab: list[str] | None = None
    words: list[str] = []
    joined = set()
    for compound in _COMPOUND.findall(question):
        # "e-mails" is a spelling of "emails": its halves are no words of their own.
        terms = tokenize(compound.replace("-", ""))
        vocab = vocab if vocab is not None else sorted_vocabulary(index)
        if terms and all(term_count(index, t) or has_form(vocab, t) for t in terms):
            joined.update(compound.split("-"))
    for raw in _WORD.findall(question):
        if len(raw) < MIN_WORD or raw.lower() in STOPWORDS or raw in joined or raw.lower() in WEEKDAYS:
            continue  # a weekday is a time: "on Tues." names nothing the archive must hold (a17)
        terms = tokenize(raw)
        if not terms or any(term_count(index, t) for t in terms):
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
            out.update(chunk_article[chunks].tolist())
    return out


# A particle inside a name ("Marine Le Pen", "Ursula von der Leyen", "Bashar al-Assad"): too short for PROPER, it would split
# the name in two, and "Pen" alone was read as the name of 2017's stories (holdout5 h5-07).
_PARTICLES = re.compile(
    r" (?:(?:Le|La|De|Du|Da|Di|Van|Von|de|du|da|di|van|von|der|den|bin|ibn|al|el) )+| (?:al|el|Al|El)-"
)


# The particles' own terms: a name's passages are those with its other words, however they write "al-".
NAME_PARTICLES = frozenset("le la de du da di van von der den bin ibn al el".split())


def full_names(question: str) -> list[str]:
    """The capitalised names of the question, runs of words kept whole ("Nord Stream", "Black Sea")."""
    names: list[str] = []
    end = -2
    for m in PROPER.finditer(question):
        gap = question[end : m.start()]
        if names and (gap == " " or _PARTICLES.fullmatch(gap)):
            names[-1] += gap + m.group(0)
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
            if t not in _NOT_NAMES
            and t not in NAME_PARTICLES
            and 0 < bm25.doc_freq(t) <= NAME_SHARE * bm25.n_docs
        ]
        if terms:
            names[name] = terms
    return names


def event_words(index: StoredVersion, question: str, names: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The question's rare words outside its names, as (spelling, term)."""
    bm25 = index.bm25
    in_names = {t for name in full_names(question.strip()) for t in tokenize(name)}
    unpremised = unpremised_words(question)
    words = []
    for raw in _WORD.findall(question):
        terms = tokenize(raw)
        if len(raw) < MIN_EVENT_WORD or len(terms) != 1 or terms[0] in in_names or raw.lower() in unpremised:
            continue
        if 0 < bm25.doc_freq(terms[0]) <= EVENT_SHARE * bm25.n_docs and (raw, terms[0]) not in words:
            words.append((raw, terms[0]))
    return words


def chunks_with(index: StoredVersion, terms: Sequence[str]) -> set[int]:
    """The chunks that hold any of the terms."""
    bm25 = index.bm25
    out: set[int] = set()
    for term in terms:
        t = bm25.vocab.get(term)
        if t is not None:
            out.update(bm25.doc_ids[int(bm25.offsets[t]) : int(bm25.offsets[t + 1])].tolist())
    return out


def unsaid_events(
    index: StoredVersion, question: str, article_ids: Sequence[int]
) -> list[tuple[str, str, bool]]:
    """(name, word, anywhere) for each rare name of the question that the quoted articles mention and each
    rare word of it that no passage of theirs says beside the name, in any form; `anywhere`: some passage
    of the archive does.

    A passage, not the article: a long article names Shoigu in a photo caption and says "replaced" of
    Medvedev, which reports no replacing of Shoigu.
    """
    quoted = set(article_ids)
    described = descriptions(question)
    rare = rare_names(index, question)
    names = {
        name: terms
        for name, terms in rare.items()
        if all(quoted & articles_with(index, [t]) for t in terms)
        # "according to Mark Galeotti" names who says it, not whom the event is about (archive d45).
        and not re.search(r"\baccording to " + re.escape(name), question, re.IGNORECASE)
        # "Western" of "the Western military alliance" describes NATO, which the quotes may name (q2-24).
        and not any(name in d for d in described)
        # "the Philippine president": whose, not what the event is about; news names him (premise_words).
        and not describing_name(question, name)
        # "Which Texas senator mocked ...": the answer is a senator from Texas, the event is not about Texas.
        and not names_the_kind(question, name)
    }
    if not names:
        return []
    vocab = sorted_vocabulary(index)
    chunk_article = index.chunks.article
    # "Which Fox News anchor clashed with Eric Swalwell": a quoted passage naming the asked group beside the
    # name names the member who met him, and tells the meeting in its own words ("Swalwell duked it out
    # with Fox News host Martha MacCallum", dev cv-31): the answer the question asks for, not a gap.
    grouped = {
        c
        for group, terms in rare.items()
        if names_the_kind(question, group)
        for c in set.intersection(*(chunks_with(index, [t]) for t in terms))
        if int(chunk_article[c]) in quoted
    }
    # Per name, read once for all the event words: the words of its side phrase, its passages, and the
    # articles that name it whole. News names a person in full once, then by surname: a passage names them
    # by any part of the name, in an article that has it whole ("Shoigu was replaced" after "Sergei Shoigu").
    read = {
        name: (
            side_words(question, name),
            named,
            set.intersection(*(articles_with(index, [t]) for t in terms)),
        )
        for name, terms in names.items()
        if not grouped & (named := chunks_with(index, terms))
    }
    unsaid = []
    for raw, term in event_words(index, question, names):
        # "fly" is said "flew": a past form that shares no root counts as the word.
        forms = (word_forms(vocab, term) or [term]) + [
            f for v in IRREGULAR.get(term, ()) for f in tokenize(v)
        ]
        with_word = chunks_with(index, forms)
        for name, (side, named, whole) in read.items():
            if side is not None and raw.lower() not in side:
                continue  # "talked by telephone before they met in Hamburg": Hamburg is the meeting's, not the call's
            together = {c for c in with_word & named if int(chunk_article[c]) in whole}
            if not any(int(chunk_article[c]) in quoted for c in together):
                unsaid.append((name, raw, bool(together)))
    return unsaid


def quoted_gap(index: StoredVersion, question: str, article_ids: Sequence[int]) -> str | None:
    """The caveat when the quoted articles are about the question's rare name but never say its event.

    A name with a word in at most PIN_SHARE of the chunks (Shoigu, Navalny) pins one story, so the quotes
    missing the word is enough; a commoner one (the Black Sea, Helsinki) needs no passage with it to say it.
    """
    if len(index.articles) < MIN_ARTICLES:
        return None
    question = restore_case(index, question)  # a name typed in lower case is still a name
    bm25 = index.bm25
    for name, word, anywhere in unsaid_events(index, question, article_ids):
        pinned = any(0 < bm25.doc_freq(t) <= min(PIN_SHARE * bm25.n_docs, PIN_MAX) for t in tokenize(name))
        if not anywhere:
            return render_prompt("gap_together.txt", subject=name, word=word)
        if pinned:
            return render_prompt("gap_quoted.txt", subject=name, word=word)
    return None


def missing_words(index: StoredVersion, question: str) -> list[str]:
    """The names and words of the question that a large archive never uses (none in a small one)."""
    if len(index.articles) < MIN_ARTICLES:
        return []
    missing = unknown_names(index, question)
    # The halves of a missing "Jean-Claude" are unused words too: it is named once.
    parts = {part for name in missing for part in re.split(r"[-'’ ]", name)}
    # A publisher's name is known though no text prints it (coverage.outlet_terms).
    outlets = outlet_terms(index)
    unused = [w for w in unused_words(index, question) if not set(tokenize(w)) & outlets]
    return missing + [w for w in unused if w not in missing and w not in parts]


def screen_events(
    index: StoredVersion,
    question: str,
    candidates: Sequence[Q],
    rendered: bool = False,
    filters: Filters | None = None,
) -> tuple[list[Q], str | None]:
    """The candidates that may answer, and a note on what the archive cannot report (None: no gap).

    A question about a later year, or naming what a large archive never uses, keeps no candidate. A
    Russian question's English rendering (`rendered`) spells names by sound ("Guchchifera" for Guccifer),
    so an unknown one is no evidence: it keeps the caveat and the score penalty it always had. With
    `filters`, "later" means after the last article they admit, and the note names that window.
    """
    question = restore_case(index, question)  # a name typed in lower case is still a name
    years, asked = _later_periods(index, question, filters)
    if years:
        span = describe_window(date_span(index, filters), filters)
        if asks_ahead(question) or len(years) < asked:
            # Only articles that name the year are candidates by now (coverage.years_covered). A question
            # that also names a year the archive covers ("in 2017 and 2018") is answered for that part.
            note = render_prompt("gap_expected.txt", span=span, years=join_words(years))
            return list(candidates), note
        note = render_prompt("gap_later_years.txt", span=span, years=join_words(years))
        return [], note
    if not rendered and (missing := missing_words(index, question)):
        return [], render_prompt("gap_names.txt", names=", ".join(missing))
    return list(candidates), None
