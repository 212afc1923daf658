"""The default answer: the article sentences that answer the question, quoted verbatim.

Retrieval finds chunks; each quotable sentence in them is scored on its own against the
question (its own vector, the question's rare words it contains, and its chunk's score),
so the reader gets a few sentences instead of whole chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document

from retrieval.answer import Answer, Citation, answer_timings
from retrieval.asked_time import prefer_asked_time, window_gap
from retrieval.caveat_guard import quotes_tell_act
from retrieval.citations import cite, render_answer
from retrieval.coverage import gap_for_names, unknown_names, years_covered
from retrieval.details import asked_detail, holds_detail, names_doer
from retrieval.embedding import Embedder, Vectors
from retrieval.event_check import quoted_gap, screen_events
from retrieval.event_year import event_year_gap
from retrieval.index import StoredVersion
from retrieval.lexical import tokenize
from retrieval.morphology import related_terms
from retrieval.neighbours import find_chunks, same_paragraph, with_named_roles
from retrieval.non_answers import weigh_quoted_span
from retrieval.people import asked_role, named_roles, role_owner
from retrieval.periphrases import described_terms
from retrieval.presupposition import presupposition_gap, unsaid_act
from retrieval.prompts import load_prompt
from retrieval.question_vector import embed_in_thread
from retrieval.quote_policy import drop_extra_quotes, restates
from retrieval.referents import is_referent, leans_on_previous
from retrieval.same_story import group_same_stories, same_story_groups
from retrieval.search import chunk_document
from retrieval.speaker import unnamed_speaker
from retrieval.truecase import NAME_SHARE, spelling
from retrieval.unreported_act import unreported_act
from retrieval.wrong_doer import other_doer

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

# Weights of a sentence's score: its own cosine to the question, plus these shares of the
# question's (IDF-weighted) rare words it contains and of its chunk's cosine.
W_LEXICAL = 0.35
W_CONTEXT = 0.25
# A question is answered only when the best sentence scores at least this; calibrated on
# tests/eval/questions.yaml (tests/answer/test_eval.py holds the hit and refusal rates it gives),
# settable as USRU_MIN_RELEVANCE.
MIN_RELEVANCE = 0.57
# Further quotes must come this close to the best one.
MARGIN = 0.20
# A sentence this close to a shown one is left out. At 0.92 two outlets' wordings of one wire sentence
# ("Flynn served 24 days as Trump's national security adviser but was fired…") were both shown (archive
# dev split: median 622 → 600 characters, 55 of 65 quoted either way; 0.80 loses two).
DUPLICATE = 0.85
MAX_PER_ARTICLE = 3
# Share of the words of a sentence's neighbours that count towards its own coverage.
WINDOW_SHARE = 0.8
# Taken off every score when the question names something no article mentions.
UNKNOWN_NAME_PENALTY = 0.15
MORE_QUOTES = 6
# Added to a sentence that holds the kind of detail the question asks for (a name, number, date…).
# Measured on the dev split of tests/eval/archive.yaml (bench/sentence_features.py): 0.08 left the
# lead sentence ahead of the one naming the judge or the date (with a person's name required for "who":
# 52 → 55 of 65 answerable quoted). The bonus ranks; it never counts towards refusing (`relevance`).
W_DETAIL = 0.25
# Added besides to a sentence naming a person in the role a "Which veteran of the NSA …?" question asks for
# ("said Debora Plunkett, a 31-year veteran of the National Security Agency"): most sentences of a who-question's
# chunks name someone, so the detail bonus alone does not tell them apart (dev n32; 0.05-0.15 all gain it, lose
# nothing). It ranks; it never counts towards refusing.
W_ROLE = 0.1
# A sentence holding the asked-for detail is quoted when no chosen quote has one, if it scores this close.
DETAIL_REACH = 0.25
# From the best quote's own article, further: the article that answers the question names the detail a few
# sentences from its lead, in words that share little with the question ("Moscow's ambassador … will inspect"
# → "Ambassador (Anatoly) Antonov will visit").
ARTICLE_REACH = 0.35
# A surname in more than this share of the chunks is background, not the person a "who" question asks for.
BACKGROUND_SHARE = 0.05
# Quotes shown in one answer stop at this many characters (the best quote is always shown): further
# quotes rarely hold an answer the first ones miss (archive dev split: median 730 → about 700 characters,
# no hit lost; 800 lost a seeds answer, tests/eval/questions.yaml q36, whose four quotes make 852).
MAX_CHARS = 900
# Past this many characters a further quote is shown only if it scores within CLOSE of the best one: the
# quotes that hold a fact the best one lacks score close to it; the far ones add length, not facts
# (archive dev split: median 739 → 652 characters, 55 of 65 quoted before and after).
SOFT_CHARS = 600
CLOSE = 0.15
# Chunks whose sentences are scored for an answer.
CHUNKS = 16
# Taken off the score of a span longer than LONG characters, per 100 characters more: of two quotes that
# score alike the shorter one reads faster and leaves room for another. It ranks; it never counts towards
# refusing (archive dev split: median 652 → 622 characters, 55 of 65 quoted either way).
W_LENGTH = 0.02
LONG = 250


@dataclass(frozen=True)
class Candidate:
    """A quotable span (one sentence, or two when the second leans on the first) and its score."""

    sentence_id: int
    article_id: int
    start: int
    end: int
    dense: float
    lexical: float
    context: float
    score: float
    # Question weight of the words this sentence adds beyond the one it refers back to.
    gain: float = 0.0
    # Whether the span holds the kind of detail the question asks for.
    detail: bool = False
    # The rank of the chunk it was found in, and whether it is quoted with the sentence it leans on.
    chunk: int = -1
    joined: bool = False
    # What the score lost for the span's length.
    length_penalty: float = 0.0
    # What the score gained for an article dated in the time the question asks about (asked_time.py).
    time_bonus: float = 0.0
    # What it gained for naming a person in the role the question asks for.
    role_bonus: float = 0.0

    @property
    def relevance(self) -> float:
        """The score without the detail and time bonuses and length penalty: none makes a sentence more or less relevant."""
        return (
            self.score
            - (W_DETAIL if self.detail else 0.0)
            + self.length_penalty
            - self.time_bonus
            - self.role_bonus
        )


def score_sentences(
    index: StoredVersion,
    embedder: Embedder,
    question: str,
    docs: list[Document],
    qvec: Vectors | None = None,
) -> list[Candidate]:
    """Score every quotable sentence of the retrieved chunks, best first (`qvec`: the question's vector)."""
    if not docs:
        return []
    if qvec is None:
        qvec = embedder.embed_query(question)
    # In the question's order, not a set's: the sums below then agree across processes to the last bit.
    weights = {t: index.bm25.idf(t) for t in dict.fromkeys(tokenize(question))}
    total = sum(weights.values()) or 1.0
    penalty = UNKNOWN_NAME_PENALTY if unknown_names(index, question) else 0.0
    kind = asked_detail(question)
    role = asked_role(question) if kind == "person" else None
    owner = role_owner(question) if role is not None else frozenset()
    bm25 = index.bm25

    def common(term: str) -> bool:
        # A surname the archive mostly writes in lower case is an ordinary word ("Deputy Defense Secretary
        # Robert Work"): common as a word, not as the name in the background of every story.
        return (
            bm25.doc_freq(term) > BACKGROUND_SHARE * bm25.n_docs and spelling(index, term).share >= NAME_SHARE
        )

    ids: list[int] = []
    context: list[float] = []
    ranks: list[int] = []
    seen: set[int] = set()
    for rank, doc in enumerate(docs):
        chunk = index.chunks.row(doc.metadata["chunk_id"])
        for sid in range(chunk.first_sentence, chunk.end_sentence):
            if sid not in seen and index.sentences.quotable[sid]:
                seen.add(sid)
                ids.append(sid)
                context.append(float(doc.metadata["dense"]))
                ranks.append(rank)
    if not ids:
        return []
    dense = index.sentence_vecs[ids] @ qvec
    # Each sentence is read as its own words and as its neighbours' context: looked up once per answer.
    terms: dict[int, frozenset[str]] = {}
    texts: dict[int, str] = {}

    def words(sid: int, aid: int) -> frozenset[str]:
        """The sentence's terms, or none when sid is not a sentence of that article."""
        if not (0 <= sid < len(index.sentences) and int(index.sentences.article[sid]) == aid):
            return frozenset()
        held = terms.get(sid)
        if held is None:
            held = terms[sid] = index.sentence_terms(sid)
        return held

    def text_of(aid: int) -> str:
        held = texts.get(aid)
        if held is None:
            held = texts[aid] = index.article(aid).text
        return held

    described = described_terms(question)
    # A sentence holds a question verb as its doer's noun too: "founder" for "founded".
    agents = {t: others for t in weights if (others := related_terms(bm25.vocab, t) - {t})}

    def coverage(terms: frozenset[str]) -> float:
        # A sentence naming what the question describes holds the description's words.
        held = terms
        if described:
            held = terms.union(*(words for words, names in described if any(n <= terms for n in names)))
        if agents:
            held = held.union(t for t, nouns in agents.items() if not nouns.isdisjoint(held))
        return sum(w for t, w in weights.items() if t in held) / total

    out = []
    for sid, d, ctx, rank in zip(ids, dense, context, ranks, strict=True):
        aid, start, end, _ = index.sentences.row(sid)
        own = words(sid, aid)
        before = words(sid - 1, aid)
        window = own | before | words(sid + 1, aid)
        gain = coverage(own)
        lexical = max(gain, WINDOW_SHARE * coverage(window))
        text = text_of(aid)
        joined = (
            leans_on_previous(text[start:end])
            and sid > 0
            and int(index.sentences.article[sid - 1]) == aid
            and is_referent(
                text, int(index.sentences.start[sid - 1]), int(index.sentences.end[sid - 1]), start
            )
        )
        if joined:
            # Quote the referent too, and let its words count as this sentence's own.
            start = int(index.sentences.start[sid - 1])
            lexical = max(lexical, coverage(own | before))
            gain = coverage(own - before)
            # The span is as close to the question as its two sentences together: "They made up a phony collusion
            # … story, found zero proof" answers how Trump reacted only with the sentence before it (dev cv-23).
            # The mean, not the referent's own closeness: taking that ranked spans over the referent alone and
            # changed 29 dev answers (129 quoted against 130).
            d = max(d, 0.5 * (d + float(index.sentence_vecs[sid - 1] @ qvec)))
        detail = holds_detail(kind, text[start:end], question, common)
        role_bonus = 0.0
        if detail and role is not None and role in named_roles(text[start:end]):
            # "Which Fox News anchor …" asks for an anchor of Fox News: NBC's anchor Lester Holt is no answer (a18).
            role_bonus = W_ROLE if owner <= set(tokenize(text[start:end])) else 0.0
        score = float(d) + W_LEXICAL * lexical + W_CONTEXT * ctx - penalty + (W_DETAIL if detail else 0.0)
        score += role_bonus
        score -= weigh_quoted_span(text, start, end)
        length_penalty = W_LENGTH * max(0.0, (end - start - LONG) / 100)
        out.append(
            Candidate(
                sid,
                aid,
                start,
                end,
                float(d),
                lexical,
                ctx,
                score - length_penalty,
                gain,
                detail,
                rank,
                joined,
                length_penalty,
                role_bonus=role_bonus,
            )
        )
    if kind == "person":
        out = _doers_only(out, [names_doer(text_of(c.article_id)[c.start : c.end], question) for c in out])
    out.sort(key=lambda c: -c.score)
    return out


def _doers_only(candidates: list[Candidate], doers: list[bool]) -> list[Candidate]:
    """The candidates, holding the detail only where they name the asked act's doer, if any does."""
    # "Who shot down the Russian warplane?": once a sentence says "Turkey shot down a Russian warplane", a photo
    # caption naming Assad holds no answer (dev c02).
    if not any(doers):
        return candidates
    return [
        replace(c, detail=False, score=c.score - W_DETAIL - c.role_bonus, role_bonus=0.0)
        if c.detail and not doer
        else c
        for c, doer in zip(candidates, doers, strict=True)
    ]


def best_relevance(index: StoredVersion, embedder: Embedder, question: str) -> float | None:
    """The best relevance any sentence reaches for the question, as an answer would score it (no filters)."""
    qvec = embedder.embed_query(question)
    docs = [chunk_document(index, h) for h in find_chunks(index, embedder, question, CHUNKS, qvec)]
    return max((c.relevance for c in score_sentences(index, embedder, question, docs, qvec)), default=None)


def select_quotes(
    index: StoredVersion,
    candidates: list[Candidate],
    max_quotes: int,
    min_relevance: float,
    max_chars: int = MAX_CHARS,
) -> tuple[list[Candidate], list[Candidate]]:
    """The quotes to show (one story's side by side) and the runners-up."""
    # Refuse on relevance alone: the detail bonus ranks relevant sentences, it must not make an
    # off-topic one ("Who wrote War and Peace?" → a sentence naming someone) pass the threshold.
    if not candidates or max(c.relevance for c in candidates) < min_relevance:
        return [], []
    # The margin is measured from the best relevance, not the best score: a detail bonus on the top quote
    # must not push out a quote that holds the fact in words the detail rules miss (archive test misses).
    floor = max(min_relevance, max(c.relevance for c in candidates) - MARGIN)
    chosen: list[Candidate] = []
    more: list[Candidate] = []
    per_article: dict[int, int] = {}
    seen_text: set[str] = set()
    for c in candidates:
        if c.score < max(min_relevance, floor - MARGIN):
            break
        overlapping = [
            o for o in chosen + more if o.article_id == c.article_id and o.start < c.end and c.start < o.end
        ]
        if overlapping:
            # A sentence that leans on a chosen one extends that quote instead of standing alone.
            o = overlapping[0]
            extends = c.start <= o.start < c.end and c.end > o.end and c.gain > 0
            if o in chosen and len(overlapping) == 1 and extends:
                chosen[chosen.index(o)] = replace(o, start=min(o.start, c.start), end=c.end)
            continue
        if c.score < floor:
            continue
        text = " ".join(index.article(c.article_id).text[c.start : c.end].lower().split())
        vec = index.sentence_vecs[c.sentence_id]
        if text in seen_text or any(
            float(index.sentence_vecs[o.sentence_id] @ vec) >= DUPLICATE for o in chosen + more
        ):
            continue
        seen_text.add(text)
        if len(chosen) < max_quotes and per_article.get(c.article_id, 0) < MAX_PER_ARTICLE:
            chosen.append(c)
            per_article[c.article_id] = per_article.get(c.article_id, 0) + 1
        elif len(more) < MORE_QUOTES:
            more.append(c)
    chosen = _with_detail(candidates, chosen, min_relevance, max_quotes)
    chosen = with_named_roles(index, candidates, chosen)
    return group_same_stories(index, _within_budget(_merge_adjacent(index, chosen), max_chars)), more


def _with_detail(
    candidates: list[Candidate], chosen: list[Candidate], min_relevance: float, max_quotes: int
) -> list[Candidate]:
    """The chosen quotes, with the best sentence holding the asked-for detail when none of them does."""
    if not chosen or any(c.detail for c in chosen):
        return chosen
    top = max(chosen, key=lambda c: c.score)
    own = max(min_relevance, top.score - ARTICLE_REACH)
    reach = max(min_relevance, candidates[0].score - DETAIL_REACH)
    best = next(
        (c for c in candidates if c.detail and c.article_id == top.article_id and c.score >= own), None
    )
    best = best or next((c for c in candidates if c.detail and c.score >= reach), None)
    if best is None or any(
        o.article_id == best.article_id and o.start < best.end and best.start < o.end for o in chosen
    ):
        return chosen
    return [*chosen[: max_quotes - 1], best]


def _within_budget(chosen: list[Candidate], max_chars: int = MAX_CHARS) -> list[Candidate]:
    """The quotes, best first, that fit in max_chars (the best always does; 0: all); their order is kept.

    Past min(SOFT_CHARS, max_chars) only quotes scoring within CLOSE of the best are added.
    """
    kept: set[int] = set()
    total = 0
    soft = min(SOFT_CHARS, max_chars)
    best = max((c.score for c in chosen), default=0.0)
    for i in sorted(range(len(chosen)), key=lambda i: -chosen[i].score):
        length = chosen[i].end - chosen[i].start
        if kept and max_chars and total + length > max_chars:
            continue
        if kept and max_chars and total + length > soft and chosen[i].score < best - CLOSE:
            continue
        kept.add(i)
        total += length
    return [c for i, c in enumerate(chosen) if i in kept]


def _merge_adjacent(index: StoredVersion, chosen: list[Candidate]) -> list[Candidate]:
    """Join quotes of one paragraph separated only by spaces: they read as one passage."""
    merged: list[Candidate] = []
    for c in chosen:
        text = index.article(c.article_id).text
        for i, o in enumerate(merged):
            if o.article_id != c.article_id:
                continue
            lo, hi = (o, c) if o.end <= c.start else (c, o)
            if same_paragraph(text, lo.end, hi.start):
                merged[i] = replace(o, start=lo.start, end=hi.end)
                break
        else:
            merged.append(c)
    return merged


def order_by_date(index: StoredVersion, chosen: list[Candidate]) -> list[Candidate]:
    """Quotes from several dates oldest first, so the answer reads as a timeline; undated ones last.

    Quotes on one story stay side by side (oldest first), placed at the earliest date among them.
    """
    dates = [index.article(c.article_id).date for c in chosen]
    if len(set(dates)) < 2:
        return chosen
    units = [list(group) for group in same_story_groups(index, chosen)]
    grouped = {pos for unit in units for pos in unit}
    units += [[pos] for pos in range(len(chosen)) if pos not in grouped]
    for unit in units:
        unit.sort(key=lambda p: (dates[p] or "9999", p))
    units.sort(key=lambda unit: (dates[unit[0]] or "9999", unit[0]))
    return [chosen[p] for unit in units for p in unit]


def make_citation(index: StoredVersion, n: int, c: Candidate) -> Citation:
    """A numbered citation for a candidate, checked verbatim against the article text."""
    return cite(index, n, c.article_id, c.start, c.end)


def act_gap(index: StoredVersion, question: str, chosen: list[Candidate]) -> str | None:
    """The caveat of the act checks, unless a shown quote tells the act the note would say none reports."""
    gap = unsaid_act(index, question) or other_doer(index, question) or unreported_act(index, question)
    if gap is None:
        return None
    quotes = [index.intact_article(c.article_id).text[c.start : c.end] for c in chosen]
    return None if quotes_tell_act(index, question, quotes) else gap


Step = Callable[[dict[str, Any]], dict[str, Any]]


def extractive_steps(
    embedder: Embedder, k: int = CHUNKS, next_chunks: bool = True
) -> tuple[Step, Step, Callable[[dict[str, Any]], Answer]]:
    """The retrieve, choose and compose steps of the extractive chain, for chains that reuse them.

    `next_chunks`: a "who" question's passages include the chunk after each retrieved one (find_chunks).
    """

    def retrieve(x: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        index: StoredVersion = x["index"]
        # Embedded once: retrieval and the choice of sentences both score against this vector. In a thread,
        # while the question's own check and search's ranking of the chunks by their words need none.
        pending = embed_in_thread(embedder, x["question"])
        premise_gap = presupposition_gap(index, x["question"])
        # What HybridRetriever returns, without LangChain's retriever machinery (its import alone
        # was ~0.5 CPU-s of every cold `usru ask`, issue 13).
        hits = find_chunks(index, embedder, x["question"], k, pending.result, x.get("filters"), next_chunks)
        qvec = pending.result()
        docs = [chunk_document(index, hit) for hit in hits]
        return {
            **x,
            "docs": docs,
            "qvec": qvec,
            "premise_gap": premise_gap,
            "t_retrieve": time.perf_counter() - t0,
            "t0": t0,
        }

    def choose(x: dict[str, Any]) -> dict[str, Any]:
        index: StoredVersion = x["index"]
        candidates = score_sentences(index, embedder, x["question"], x["docs"], qvec=x.get("qvec"))
        filters = x.get("filters")
        allowed, gap = years_covered(index, x["question"], [c.article_id for c in candidates], filters)
        candidates = [c for c in candidates if c.article_id in allowed]
        candidates = prefer_asked_time(index, x["question"], candidates)
        # Events the archive cannot report (a later year, a name or word it never uses) quote nothing near them.
        candidates, event_gap = screen_events(
            index, x["question"], candidates, x.get("rendered", False), filters
        )
        premise_gap = x["premise_gap"] if "premise_gap" in x else presupposition_gap(index, x["question"])
        if gap is None and event_gap is None and (wrong := premise_gap):
            # A real event asked with the wrong year or the roles reversed: quotes about it would seem to agree.
            candidates, event_gap = [], wrong
        gap = gap or event_gap
        chosen, more = select_quotes(
            index, candidates, x["max_quotes"], x["min_relevance"], x.get("max_chars", MAX_CHARS)
        )
        kept = drop_extra_quotes(index, x["question"], chosen)
        # Left out of the answer, not lost: the runners-up ("More quotes" in the bot) offer them first, but for
        # another outlet's copy of a shown sentence, which would show the reader the same words again.
        offered: list[Candidate] = []
        for c in [c for c in chosen if c not in kept] + more:
            if not restates(index, c, kept + offered):
                offered.append(c)
        chosen, more = kept, offered
        if chosen and gap is None:
            # A caveat, not a refusal: the question may put the event in other words than the articles, and
            # another doer of the act may share it with the asked one ("Britain, Germany and France expelled")
            # or the act be told of the asked one in other words ("ordered the expulsion").
            gap = quoted_gap(index, x["question"], [c.article_id for c in chosen]) or act_gap(
                index, x["question"], chosen
            )
            shown = [(index.article(c.article_id), c) for c in chosen]
            quotes = [article.text[c.start : c.end] for article, c in shown]
            dated = [(quote, article.date or "") for quote, (article, _) in zip(quotes, shown, strict=True)]
            gap = gap or event_year_gap(index, x["question"], dated)
            gap = gap or window_gap(x["question"], dated)
            gap = gap or unnamed_speaker(x["question"], quotes)
        if gap is None and (names := unknown_names(index, x["question"])):
            # Said with a refusal, and as a caveat with an answer: the quotes cannot be about that name.
            gap = gap_for_names(names)
        return {**x, "chosen": chosen, "more": more, "gap": gap}

    def compose(x: dict[str, Any]) -> Answer:
        index: StoredVersion = x["index"]
        chosen: list[Candidate] = x["chosen"]
        if not chosen:
            text = load_prompt("not_found.txt")
            citations: list[Citation] = []
            groups: list[tuple[int, ...]] = []
            lead = text
            more: list[Citation] = []
        else:
            chosen = order_by_date(index, chosen)
            citations = [make_citation(index, n, c) for n, c in enumerate(chosen, start=1)]
            groups = same_story_groups(index, chosen)
            lead, text = render_answer(citations, groups)
            more = [make_citation(index, len(citations) + n, c) for n, c in enumerate(x["more"], start=1)]
        return Answer(
            question=x["question"],
            status="answered" if citations else "not_found",
            lead=lead,
            answer=text,
            citations=tuple(citations),
            mode="extractive",
            timings_ms=answer_timings(x["t0"], x["t_retrieve"]),
            groups=tuple(tuple(citations[i].n for i in g) for g in groups),
            more=tuple(more),
            note=x.get("gap"),
        )

    return retrieve, choose, compose


def build_extractive_chain(embedder: Embedder, k: int = CHUNKS) -> Runnable[dict[str, Any], Answer]:
    """question → retrieve → choose sentences → answer, as a LangChain Runnable.

    The input is {"question", "index", "max_quotes", "min_relevance"}; the index is passed in so
    that one question is answered from one index version even while a newer one is swapped in.
    """
    from langchain_core.runnables import RunnableLambda

    retrieve, choose, compose = extractive_steps(embedder, k)
    return RunnableLambda(retrieve) | RunnableLambda(choose) | RunnableLambda(compose)


class ExtractiveChain:
    """The steps of build_extractive_chain run one after another, without importing LangChain's runnables.

    What the answering service runs without a chat model: importing the runnables took ~0.5 CPU-s of every
    cold `usru ask` and they add nothing to three plain steps (issue 13).
    """

    def __init__(self, embedder: Embedder, k: int = CHUNKS) -> None:
        self._retrieve, self._choose, self._compose = extractive_steps(embedder, k)

    def invoke(self, x: dict[str, Any]) -> Answer:
        """The answer to x["question"] from x["index"], as the Runnable gives it."""
        return self._compose(self._choose(self._retrieve(x)))
