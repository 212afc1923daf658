"""A real event asked in a year no article puts it in, when no rare name anchors it: "Why did Obama expel 35
Russian diplomats in 2015?" (December 2016).

presupposition.misplaced_year reads the passages of a rare name of the question (Helsinki, Skripal, MH17);
Obama, Russia and diplomats are in thousands of passages, so it has nothing to read. The event is told by
its rarest words instead: the sentences that hold the question's two rarest content words (in any form:
"expelled", "35") report it. When several do, none is in an article dated the asked year and none names the
year, the articles put the event elsewhere in time: a caveat names the years of the articles that report it.
A caveat, not a refusal: two words can meet in sentences about another event, and the asked one may be
told in other words in the asked year.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from retrieval import event_check
from retrieval.asked_time import article_dates
from retrieval.coverage import date_span
from retrieval.dates import MONTH, MONTHS
from retrieval.event_check import chunks_with, sorted_vocabulary
from retrieval.index import StoredVersion
from retrieval.lexical import STOPWORDS, tokenize
from retrieval.morphology import snowball_forms
from retrieval.premise_words import IRREGULAR, attribution_words
from retrieval.presupposition import passage_sentences
from retrieval.prompts import render_prompt
from retrieval.truecase import restore_case

# Sentences holding the event's words needed before their dates say when it happened.
MIN_EVIDENCE = 2
# Past this many passages holding both words they are too common to pin one event: the check passes.
MAX_PASSAGES = 120
# How many of the question's rarest words are tried to tell its event: three of them in a sentence first
# (two rare words alone meet in other stories: on the whole AllSides index "accord" and "broke" placed the
# 2019 INF withdrawal in 2014), then two with a name among them, as the event may be told in other words than
# one of them ("subway" for "metro").
CANDIDATES = 4
_GROUPS = ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3), (0, 1), (0, 2), (1, 2))


# A year asked as the time of the event: "in 2015", "in December 2016", "in late August 2014", "during 2017";
# not a year naming a topic ("the 2016 election", "the 2018 World Cup").
def _year_after(prepositions: str) -> re.Pattern[str]:
    """A year after one of the prepositions, with an optional "early"/"late"/"mid", month and day ("in late
    March 2014", "by Sept. 30, 2015"); the year is the group."""
    return re.compile(
        rf"\b(?:{prepositions})\s+(?:(?:early|late|mid)-?\s*)?(?:{MONTH}\s+)?(?:\d{{1,2}},?\s+)?((?:19|20)\d\d)\b",
        re.IGNORECASE,
    )


_ASKED_YEAR = _year_after("in|during")
_RAW = re.compile(r"[\w'’-]+")
# The event's words a shown quote putting something in the asked year must hold to speak against a year note:
# one let "killing 224 people in October 2015" (the Sinai bomb) silence the note on the St. Petersburg subway
# bombing "in 2015" (g3-u04).
SHOWN_TERMS = 2
# Sentences placing an event in one year needed to question another the articles cover, and their share of
# the years such sentences name.
PLACED_EVIDENCE = 3
PLACED_SHARE = 0.6
# Letters a verb and its form among the event's words share ("appoint", "appointed").
VERB_ROOT = 5
_AUXILIARY_REST = re.compile(r"\b(?:did|does|do|was|were|is|are|has|have|had)\s+(.*)", re.IGNORECASE)
_LOWER = re.compile(r"\b[a-z][a-z'’-]{2,}\b")
# The word after a placed year: a topic's noun ("in 2018 elections") makes it no time.
_HEAD_WORD = re.compile(r"\s+([A-Za-z][\w-]*)")
# A year a sentence puts its event in: "in 2014", "in March 2014", "since late 2013", "by Sept. 30, 2015".
_PLACED = _year_after("in|since|by|during|until")
_MONTH_WORDS = frozenset(MONTHS)


def asked_years(question: str) -> list[str]:
    """The years the question asks its event in ("in 2015", "in December 2016")."""
    return sorted(set(_ASKED_YEAR.findall(question)))


def term_forms(vocab: list[str], term: str) -> set[str]:
    """The term's forms in the vocabulary ("expel": expelled, expelling); a number only as written."""
    return {term} if term.isdigit() else {term, *snowball_forms(vocab, term)}


def key_terms(index: StoredVersion, question: str, skip: set[str]) -> list[str]:
    """The question's rarest content terms, in any form (numbers but years included), rarest first."""
    bm25 = index.bm25
    vocab = sorted_vocabulary(index)
    found: dict[str, int] = {}
    for term in tokenize(question):
        if (
            term in STOPWORDS
            or term in skip
            or term in _MONTH_WORDS
            or (len(term) < 3 and not term.isdigit())
        ):
            continue
        if (n := sum(bm25.doc_freq(f) for f in term_forms(vocab, term))) > 0:
            found[term] = n
    return sorted(found, key=lambda t: (found[t], t))[:CANDIDATES]


def unplaced_event(index: StoredVersion, question: str) -> tuple[str, list[str], list[str]] | None:
    """(asked year, the event's words, years of the articles that report it) when the sentences that report
    the event are neither dated in nor name the year asked."""
    if len(index.articles) < event_check.MIN_ARTICLES:
        return None
    span = date_span(index)
    if not span.first or not span.last:
        return None
    years = [y for y in asked_years(question) if span.first[:4] <= y <= span.last[:4]]
    if not years:
        return None
    found = _reporting(index, question, years)
    if found is None:
        return None
    terms, (reporting, passage_years) = found
    dates = article_dates(index)
    reported = sorted({int(dates[a]) // 10_000 for a, _ in reporting} - {0})
    for year in years:
        if (
            int(year) in reported
            or int(year) in passage_years
            or any(re.search(rf"\b{year}\b", s) for _, s in reporting)
        ):
            continue
        return year, terms, [str(y) for y in reported]
    return None


def placed_elsewhere(index: StoredVersion, question: str) -> tuple[str, list[str], str] | None:
    """(asked year, the event's words, the year its sentences put it in) for a year before the first article
    that no sentence reporting the event names, when MIN_EVIDENCE of them place it in one other year; or for a
    year the articles cover, when the question's verb is among those words and PLACED_EVIDENCE of them
    (PLACED_SHARE of all the years they name) place it in one other year."""
    if len(index.articles) < event_check.MIN_ARTICLES:
        return None
    span = date_span(index)
    if not span.first or not span.last:
        return None
    # Before the first article no article's date can speak against the year, but the articles' own words
    # can: "Why did Russia annex Crimea in 2012?" meets a dozen sentences saying it did so in 2014 (h5-u04).
    # Inside the archive the articles' dates do not: each March brought anniversary pieces on Crimea, and
    # "Did Russia annex Crimea in 2015?" was answered without a note (a32); the sentences still say 2014.
    asked = asked_years(question)
    before = [y for y in asked if y < span.first[:4]]
    inside = [y for y in asked if span.first[:4] <= y <= span.last[:4]]
    years = before or inside
    if not years:
        return None
    found = _reporting(index, question, years, sample=True)
    if found is None:
        return None
    terms, (reporting, _) = found
    if not _holds_verb(index, question, terms):
        # "What were the attorneys working on … in October 2018?": "special counsel" is no event; "Did Russia
        # expel USAID in 2012?" met "expel" only in the G8's expulsion (a33).
        return None
    placed = Counter(y for _, sentence in reporting for y in set(placed_years(sentence)))
    # A sentence putting the event in the asked year clears it; one naming the year otherwise does not ("the
    # 2016 election" beside Comey's firing, h4-u06 "Why did Trump fire … Comey in May 2016?").
    if not placed or any(placed.get(y) for y in years):
        return None
    year, n = placed.most_common(1)[0]
    least = MIN_EVIDENCE if before else PLACED_EVIDENCE
    return (years[0], terms, year) if n >= least and n >= PLACED_SHARE * sum(placed.values()) else None


def placed_years(sentence: str) -> list[str]:
    """The years the sentence puts something in ("in March 2014", "since 2014"), not those naming a topic:
    a headline list's "sanctions Russian individuals for interference in 2018 elections" put no sanctions in
    2018 (a33: "Did Congress pass sanctions on Russia in 2017?" was noted "put it in 2018")."""
    out = []
    for m in _PLACED.finditer(sentence):
        head = _HEAD_WORD.match(sentence, m.end())  # a possessive ("2016's first weeks") is still a time
        if head is None or head.group(1).lower() in STOPWORDS:
            out.append(m.group(1))
    return out


def _holds_verb(index: StoredVersion, question: str, terms: list[str]) -> bool:
    """Whether the question's verb is among the event's words."""
    verb = question_verb(index, question)
    return verb is not None and any(t[:VERB_ROOT] == verb[:VERB_ROOT] for t in terms)


def question_verb(index: StoredVersion, question: str) -> str | None:
    """The question's verb as a term: its first lower-case word after the auxiliary that is a verb ("did Russia
    annex", "was Mueller appointed"; not "did the Assad regime use": "regime")."""
    m = _AUXILIARY_REST.search(question)
    if m is None:
        return None
    vocab = index.bm25.vocab
    for raw in _LOWER.findall(m.group(1)):
        word = raw.lower()
        if word in STOPWORDS:
            continue
        # A verb: a past form or gerund asked ("appointed", "working": cv-12's attorneys were "working on" it,
        # not "counseled"), one the archive writes ("annexed", "used"), or an irregular one ("meet": "met").
        if (
            word.endswith(("ed", "ing"))
            or word in IRREGULAR
            or any(f in vocab for f in (word + "ed", word + "d", word + word[-1] + "ed"))
        ):
            term = tokenize(raw)
            return term[0] if term else None
    return None


def _reporting(
    index: StoredVersion, question: str, years: list[str], sample: bool = False
) -> tuple[list[str], tuple[list[tuple[int, str]], set[int]]] | None:
    """The event's words and the sentences (and passage years) that report it, by the first group of the
    question's rarest words that enough sentences hold."""
    # "according to a report for Congress" names who tells it: its words are not the event's.
    source = {t for w in attribution_words(question) for t in tokenize(w)}
    rare = key_terms(index, question, set(years) | source)
    # Capitalised past the first word: "St. Petersburg" too, which coverage.PROPER reads as a sentence start.
    named = {t for raw in _RAW.findall(question)[1:] if raw[:1].isupper() for t in tokenize(raw)}
    for group in _GROUPS:
        if group[-1] >= len(rare):
            continue
        terms = [rare[i] for i in group]
        if len(terms) == 2 and (not named & set(terms) or _meets(index, terms, rare[:3])):
            # Two common words meet in many stories: a pair needs a name ("Petersburg", "bombing"), and the
            # question's other rare word must be absent from its passages ("metro": the articles say
            # "subway"); where it is there, the sentences with all three have spoken ("Which Democrat did
            # Rohrabacher defeat in 2016?": the sentences of his 2018 defeat hold "Democrat" too).
            continue
        found = _evidence(index, terms, sample)
        if found is None:
            continue
        return terms, found
    return None


def _meets(index: StoredVersion, pair: list[str], rare: list[str]) -> bool:
    """Whether a rare word outside the pair is in a passage holding the pair."""
    vocab = sorted_vocabulary(index)
    passages = set.intersection(*(chunks_with(index, sorted(term_forms(vocab, t))) for t in pair))
    return any(passages & chunks_with(index, sorted(term_forms(vocab, t))) for t in rare if t not in pair)


def _evidence(
    index: StoredVersion, terms: list[str], sample: bool = False
) -> tuple[list[tuple[int, str]], set[int]] | None:
    """The sentences holding every term in any form, with the years of the passages holding both; None when
    fewer than MIN_EVIDENCE sentences or more than MAX_PASSAGES passages hold them (with `sample`, the first
    MAX_PASSAGES are read instead: an event that common is told the same way in any of them)."""
    vocab = sorted_vocabulary(index)
    forms = [term_forms(vocab, t) for t in terms]
    passages = set.intersection(*(chunks_with(index, sorted(f)) for f in forms))
    if len(passages) > MAX_PASSAGES:
        if not sample:
            return None
        passages = set(sorted(passages)[:MAX_PASSAGES])
    dates = article_dates(index)
    chunk_article = index.chunks.article
    # A passage of the asked year holding the words may tell the event over two sentences: it clears.
    passage_years = {int(dates[int(chunk_article[c])]) // 10_000 for c in passages}
    reporting: list[tuple[int, str]] = []
    for article, sentence in passage_sentences(index, sorted(passages), limit=MAX_PASSAGES):
        words = set(tokenize(sentence))
        if all(words & f for f in forms):
            reporting.append((article, sentence))
    if len(reporting) < MIN_EVIDENCE:
        return None
    return reporting, passage_years


def years_text(years: list[str]) -> str:
    """The years as runs ("2014–2015, 2017–2019"): a range spanning the asked year read as if it held it (a33)."""
    runs: list[list[int]] = []
    for y in sorted({int(y) for y in years}):
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def event_year_gap(index: StoredVersion, question: str, shown: Sequence[tuple[str, str]] = ()) -> str | None:
    """The caveat when the articles report the question's event, but never in the year it asks.

    `shown`: the answer's quotes as (text, article date): one putting something in the asked year beside one
    of the event's words tells the reader otherwise ("… a letter of intent for the project in 2015", a33), and
    the note is not given. A quote merely dated the year is no such word: a look-back ("One year ago Russia
    annexed Crimea"), or another event's words ("the Tokyo subway sarin attack, which killed 12").
    """
    question = restore_case(index, question)
    # Each word as the question spells it ("Petersburg", not the index's "petersburg").
    spelt = {t: raw for raw in _RAW.findall(question) for t in tokenize(raw)[:1]}
    found = unplaced_event(index, question)
    if found is not None:
        year, terms, reported = found
        template, fields = "gap_event_year.txt", {"span": years_text(reported)}
    elif (earlier := placed_elsewhere(index, question)) is not None:
        year, terms, placed = earlier
        template, fields = "gap_event_text_year.txt", {"placed": placed}
    else:
        return None
    if _shown_placing(index, shown, year, terms):
        return None  # "… a letter of intent for the project in 2015" under "none puts it in 2015" (a33)
    words = ", ".join(f"“{spelt.get(t, t)}”" for t in terms)
    return render_prompt(template, words=words, year=year, **fields)


def _shown_placing(
    index: StoredVersion, shown: Sequence[tuple[str, str]], year: str, terms: list[str]
) -> bool:
    """Whether a shown quote puts something in the year ("in 2015") beside SHOWN_TERMS of the event's words."""
    vocab = sorted_vocabulary(index)
    forms = [term_forms(vocab, t) for t in terms]
    for text, _ in shown:
        if year in placed_years(text):
            words = set(tokenize(text))
            if sum(bool(words & f) for f in forms) >= SHOWN_TERMS:
                return True
    return False
