"""Answers from the hashing-embedder service: verbatim citations, refusals, the JSON shape, hot reload."""

from __future__ import annotations

import dataclasses
import json
import string

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from retrieval.answer import Answer, QuoteMismatchError, verify_citation
from retrieval.article import read_article
from retrieval.errors import IndexError_, QuestionError
from retrieval.index import build_index
from retrieval.prompts import load_prompt, prompts_dir, render_prompt
from retrieval.retriever import HybridRetriever
from retrieval.service import AnsweringService, build_service, clean_question
from retrieval.settings import Settings
from tests.support.corpus import assert_verbatim, file_text
from tests.support.postgres import BACKENDS, hashing_service_on

# Questions the seed articles answer, worded closely enough for the bag-of-words hashing embedder.
ANSWERED = [
    "Is Russia ready to resume arms control talks?",
    "What did Putin say about relations with the United States?",
]
NOT_COVERED = [
    "sourdough bread recipe",
    "xqzv blorft wibble",
    "What is the recipe for borscht soup?",
    "Who won the 2018 football World Cup?",
]
# Any question at all, for checks that must hold for every citation however weak.
MIXED = [
    *ANSWERED,
    "Why did the US close Russian consulates and reduce diplomatic staff?",
    "What did Putin write to Trump in his Christmas letter?",
    "What did Putin say about cooperation on cyber security?",
    "What did Nebenzia say about bilateral ties?",
    "Did Putin offer to fight terrorism with Obama?",
    "What does The Moscow Times say about its designation as undesirable?",
    "When will the leaders meet in Geneva?",
    "What happened to US visas in Russia?",
]
JSON_KEYS = {"question", "status", "answer", "citations", "mode", "timings_ms", "groups", "note"}
CITATION_KEYS = {"n", "source", "title", "publisher", "date", "quote", "start", "end"}


@pytest.fixture(scope="module", params=BACKENDS)
def hashing_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AnsweringService:
    """The session's hashing service, here once per index backend: these tests must pass on both."""
    service: AnsweringService = hashing_service_on(request, tmp_path_factory)
    return service


@pytest.fixture(scope="module")
def lenient_service(hashing_service: AnsweringService) -> AnsweringService:
    """The same index and embedder, but quoting the best sentences however weakly they match."""
    settings = hashing_service.settings.model_copy(update={"min_relevance": 0.0})
    return AnsweringService(
        settings, hashing_service.embedder, hashing_service.index, store=hashing_service.store
    )


# ---------------------------------------------------------------------------- answers and citations


@pytest.mark.parametrize("question", ANSWERED)
def test_answered_questions_quote_the_files_verbatim(
    hashing_service: AnsweringService, question: str
) -> None:
    answer = hashing_service.answer(question)
    assert answer.status == "answered"
    assert answer.mode == "extractive"
    assert answer.question == question
    assert answer.citations
    assert len(answer.citations) <= hashing_service.settings.max_quotes
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert_verbatim(hashing_service, answer.citations)
    assert_verbatim(hashing_service, answer.more)
    assert [c.n for c in answer.more] == list(
        range(len(answer.citations) + 1, len(answer.citations) + len(answer.more) + 1)
    )


@pytest.mark.parametrize("question", ANSWERED)
def test_citations_carry_their_articles_metadata(hashing_service: AnsweringService, question: str) -> None:
    answer = hashing_service.answer(question)
    for c in (*answer.citations, *answer.more):
        article = read_article(hashing_service.settings.sources / c.source)
        assert (c.title, c.publisher, c.date) == (article.title, article.publisher, article.date)
        # A quote is article body: it starts and ends inside kept paragraphs, never in furniture.
        for offset in (c.start, c.end - 1):
            assert any(p.start <= offset < p.end for p in article.paragraphs), (c.source, offset)


@pytest.mark.parametrize("question", ANSWERED)
def test_the_answer_text_shows_every_quote_and_its_outlet(
    hashing_service: AnsweringService, question: str
) -> None:
    answer = hashing_service.answer(question)
    for c in answer.citations:
        assert " ".join(c.quote.split()) in answer.answer
        assert f"[{c.n}]" in answer.answer
        assert (c.publisher or c.source) in answer.lead
        assert (c.date or "undated") in answer.answer
    assert answer.answer.startswith(answer.lead)


def test_the_arms_control_question_cites_china_news_service(hashing_service: AnsweringService) -> None:
    answer = hashing_service.answer(ANSWERED[0])
    assert {c.publisher for c in answer.citations} == {"China News Service"}
    assert any("arms control" in c.quote for c in answer.citations)


def test_further_quotes_are_offered(hashing_service: AnsweringService) -> None:
    answer = hashing_service.answer(ANSWERED[1])
    assert answer.more, "this question has more supporting sentences than are shown"
    shown = {(c.source, c.start, c.end) for c in answer.citations}
    assert all((c.source, c.start, c.end) not in shown for c in answer.more)


def test_every_citation_of_any_question_is_verbatim(lenient_service: AnsweringService) -> None:
    total = 0
    for question in MIXED:
        answer = lenient_service.answer(question)
        assert_verbatim(lenient_service, answer.citations)
        assert_verbatim(lenient_service, answer.more)
        total += len(answer.citations) + len(answer.more)
    assert total >= len(MIXED), "the lenient service quotes something for most questions"


@pytest.mark.parametrize("question", NOT_COVERED)
def test_off_topic_and_gibberish_questions_are_refused(
    hashing_service: AnsweringService, question: str
) -> None:
    answer = hashing_service.answer(question)
    assert answer.status == "not_found"
    assert answer.citations == () and answer.more == ()
    assert answer.answer == load_prompt("not_found.txt")
    assert answer.to_dict()["citations"] == []


# ---------------------------------------------------------------------------- the JSON form


@pytest.mark.parametrize("question", [ANSWERED[0], NOT_COVERED[0]])
def test_json_has_exactly_the_documented_keys(hashing_service: AnsweringService, question: str) -> None:
    answer = hashing_service.answer(question)
    data = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert set(data) == JSON_KEYS
    assert data["question"] == question
    assert data["status"] in ("answered", "not_found")
    assert data["mode"] == "extractive"
    assert isinstance(data["answer"], str) and data["answer"]
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    assert all(isinstance(v, int | float) and v >= 0 for v in data["timings_ms"].values())
    for c in data["citations"]:
        assert set(c) == CITATION_KEYS
        assert c["quote"] == file_text(hashing_service, c["source"])[c["start"] : c["end"]]


def test_answer_dataclass_fields_beyond_json_stay_out_of_it(hashing_service: AnsweringService) -> None:
    answer = hashing_service.answer(ANSWERED[1])
    fields = {f.name for f in dataclasses.fields(Answer)}
    assert {"lead", "more"} <= fields
    assert not {"lead", "more"} & set(answer.to_dict())  # groups are in it: which quotes tell one story


# ---------------------------------------------------------------------------- questions


@pytest.mark.parametrize(
    "question",
    ["", "   ", "\n\t \r\n", "\x00\x01\u200b", "?", "?!...", "¿¡ — … «»", "___", "x" * 1001, "word " * 300],
    ids=[
        "empty",
        "spaces",
        "whitespace",
        "control",
        "question-mark",
        "punctuation",
        "symbols",
        "underscores",
        "too-long",
        "too-many-words",
    ],
)
def test_clean_question_refuses_bad_questions(question: str) -> None:
    with pytest.raises(QuestionError):
        clean_question(question, 1000)


def test_clean_question_normalises_whitespace_and_control_characters() -> None:
    assert clean_question("  Is\tRussia\x00 ready\u200b\n for talks? ", 100) == "Is Russia ready for talks?"
    assert clean_question("x" * 50, 50) == "x" * 50
    assert clean_question("42", 50) == "42"
    assert clean_question("Путин?", 50) == "Путин?"


def test_the_service_refuses_bad_questions(hashing_service: AnsweringService) -> None:
    limit = hashing_service.settings.max_question_chars
    for question in ("", "  ", "!!!", "a" * (limit + 1)):
        with pytest.raises(QuestionError):
            hashing_service.answer(question)


# ---------------------------------------------------------------------------- verify_citation


def test_verify_citation_accepts_the_real_quote_and_refuses_tampering(
    hashing_service: AnsweringService,
) -> None:
    c = hashing_service.answer(ANSWERED[0]).citations[0]
    text = file_text(hashing_service, c.source)
    verify_citation(c, text)
    tampered = [
        dataclasses.replace(c, quote=c.quote[:-1] + ("X" if c.quote[-1] != "X" else "Y")),
        dataclasses.replace(c, quote=c.quote.replace("Russia", "China", 1)),
        dataclasses.replace(c, start=c.start + 1),
        dataclasses.replace(c, start=c.start + 1, end=c.end + 1),
        dataclasses.replace(c, end=len(text) + 10),
        dataclasses.replace(c, start=-1),
        dataclasses.replace(c, start=c.end),
    ]
    for bad in tampered:
        with pytest.raises(QuoteMismatchError):
            verify_citation(bad, text)


# ---------------------------------------------------------------------------- the retriever


def test_hybrid_retriever_returns_documents_with_metadata(hashing_service: AnsweringService) -> None:
    retriever = HybridRetriever(
        get_index=lambda: hashing_service.index, embedder=hashing_service.embedder, k=4
    )
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke(ANSWERED[0])
    assert 1 <= len(docs) <= 4
    assert all(isinstance(d, Document) for d in docs)
    assert docs[0].metadata["source"] == "001_5d6ff2fecad26ce2.txt"
    for d in docs:
        assert {"source", "title", "publisher", "date", "start", "end"} <= set(d.metadata)
        article = read_article(hashing_service.settings.sources / d.metadata["source"])
        assert (d.metadata["title"], d.metadata["publisher"], d.metadata["date"]) == (
            article.title,
            article.publisher,
            article.date,
        )
        text = file_text(hashing_service, d.metadata["source"])
        span = text[d.metadata["start"] : d.metadata["end"]]
        # The document is the chunk's sentences: its words appear in order in its span of the file,
        # which starts with the first of them and ends with the last.
        words = d.page_content.split()
        assert span.startswith(words[0]) and span.endswith(words[-1])
        position = 0
        for word in words:
            found = span.find(word, position)
            assert found >= 0, f"{word!r} is not in {d.metadata['source']}[{d.metadata['start']}:]"
            position = found + len(word)
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_the_retriever_finds_each_seed_by_a_phrase_of_its_own(hashing_service: AnsweringService) -> None:
    retriever = HybridRetriever(
        get_index=lambda: hashing_service.index, embedder=hashing_service.embedder, k=3
    )
    phrases = {
        "000_45b60604108e829c.txt": "congratulatory message to Obama on Independence Day",
        "001_5d6ff2fecad26ce2.txt": "militarization of outer space and cyberspace",
        "002_364ee98a1bc9817b.txt": "not allies, but vassals",
        "003_a81f25c9946499be.txt": "Nebenzia practically non-existent ties",
        "004_d8420f329212aa7b.txt": "Valdai International Discussions Club in Sochi",
    }
    for source, phrase in phrases.items():
        assert retriever.invoke(phrase)[0].metadata["source"] == source, phrase


# ---------------------------------------------------------------------------- context and stats


@pytest.mark.parametrize("question", ANSWERED)
def test_passage_in_context_surrounds_the_quote_contiguously(
    hashing_service: AnsweringService, question: str
) -> None:
    for c in hashing_service.answer(question).citations:
        text = file_text(hashing_service, c.source)
        passage = hashing_service.passage_in_context(c.source, c.start, c.end)
        assert passage.quote == c.quote
        assert passage.before or passage.after
        assert text[c.start - len(passage.before) : c.end + len(passage.after)] == (
            passage.before + passage.quote + passage.after
        )
        assert len(passage.before) <= 300 and len(passage.after) <= 300


def test_passage_in_context_at_the_edges_of_the_text(hashing_service: AnsweringService) -> None:
    source = "000_45b60604108e829c.txt"
    text = file_text(hashing_service, source)
    first = hashing_service.passage_in_context(source, 0, 19)
    assert first.before == "" and first.quote == text[:19] == "Accessibility links"
    last = hashing_service.passage_in_context(source, len(text) - 2, len(text), radius=50)
    assert last.after == ""
    assert text.endswith(last.before + last.quote)


def test_passage_in_context_refuses_unknown_sources_and_bad_offsets(
    hashing_service: AnsweringService,
) -> None:
    source = "000_45b60604108e829c.txt"
    size = len(file_text(hashing_service, source))
    for args in (("nope.txt", 0, 10), (source, 10, 10), (source, -1, 5), (source, 0, size + 1)):
        with pytest.raises(IndexError_):
            hashing_service.passage_in_context(*args)


def test_sources_and_stats(hashing_service: AnsweringService) -> None:
    listed = hashing_service.list_articles()
    assert [a.source for a in listed] == sorted(p.name for p in hashing_service.settings.sources.iterdir())
    assert all(a.chunks >= 1 for a in listed)
    stats = hashing_service.stats()
    assert stats.articles == 5
    assert stats.chunks == sum(a.chunks for a in listed)
    assert stats.publishers == sorted(
        ["VOA News", "China News Service", "The Moscow Times", "Press TV", "Today.Az"]
    )
    assert stats.date_range == ("2017-10-20", "2017-10-20")


# ---------------------------------------------------------------------------- hot reload

NEW_ARTICLE = """Russia and US sign Bering Strait fisheries accord

Russia and the United States signed the Bering Strait fisheries accord in Anchorage on Monday, officials from \
both countries said.

The Bering Strait fisheries accord sets shared catch limits for pollock and crab in the waters between Alaska \
and Chukotka.

Copyright 2024 Northern Wire
"""
NEW_QUESTION = "Did Russia and the United States sign the Bering Strait fisheries accord?"


def test_the_service_switches_to_a_newer_index_version(hashing_settings: Settings) -> None:
    service = build_service(hashing_settings)
    old_version = service.index.version
    before = service.answer(NEW_QUESTION)
    assert before.status == "not_found"

    # Another process (here: a plain build_index) adds an article and publishes a new version.
    (hashing_settings.sources / "bering.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    summary = build_index(hashing_settings.sources, hashing_settings.index_dir, service.embedder)
    assert summary.new == ["bering.txt"] and summary.version != old_version

    after = service.answer(NEW_QUESTION)
    assert service.index.version == summary.version
    assert after.status == "answered"
    assert after.citations[0].source == "bering.txt"
    assert after.citations[0].publisher == "Northern Wire"
    assert_verbatim(service, after.citations)
    assert "bering.txt" in [a.source for a in service.list_articles()]


def test_the_service_keeps_answering_when_the_new_version_is_damaged(hashing_settings: Settings) -> None:
    service = build_service(hashing_settings)
    old_version = service.index.version
    (hashing_settings.index_dir / "CURRENT").write_text("v999999\n", encoding="utf-8")
    answer = service.answer(ANSWERED[0])
    assert answer.status == "answered"
    assert service.index.version == old_version


def test_reindex_through_the_service(hashing_settings: Settings) -> None:
    service = build_service(hashing_settings)
    (hashing_settings.sources / "bering.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    summary = service.reindex()
    assert summary.new == ["bering.txt"]
    assert service.index.version == summary.version
    assert service.answer(NEW_QUESTION).citations[0].source == "bering.txt"


def test_an_index_of_another_embedder_is_refused(hashing_settings: Settings) -> None:
    from retrieval.embedding import HashingEmbedder

    other = HashingEmbedder()
    other.name = "some-other-model"
    build_index(hashing_settings.sources, hashing_settings.index_dir, other)
    with pytest.raises(IndexError_, match="--rebuild"):
        build_service(hashing_settings)


# ---------------------------------------------------------------------------- prompt templates

EXPECTED_PLACEHOLDERS = {
    "citation.txt": {"n", "quote", "publisher", "date", "title"},
    "lead_many.txt": {"count", "outlets"},
    "lead_one.txt": {"outlets"},
    "not_found.txt": set(),
    "same_story.txt": {"first"},
    "same_story_same_outlet.txt": {"first"},
    "undated.txt": set(),
    # Refusal notes (retrieval/coverage.py).
    "gap_years.txt": {"span", "years"},
    "gap_years_undated.txt": {"years"},
    "gap_names.txt": {"names"},
    "gap_expected.txt": {"span", "years"},
    "gap_later_years.txt": {"span", "years"},
    "span.txt": {"articles", "which", "first", "last"},
    "span_one_day.txt": {"articles", "which", "first"},
    "gap_together.txt": {"subject", "word"},
    "gap_quoted.txt": {"subject", "word"},
    # retrieval/asked_time.py
    "gap_window.txt": {"period", "dates"},
    # retrieval/presupposition.py
    "gap_wrong_year.txt": {"subject", "year", "reported"},
    "gap_reversed.txt": {"doer", "verb"},
    # retrieval/act_doer.py
    "gap_other_doer.txt": {"said", "act", "asked"},
    # retrieval/unreported_act.py and retrieval/event_year.py
    "gap_unreported.txt": {"doer", "act"},
    "gap_event_year.txt": {"words", "span", "year"},
    "gap_event_text_year.txt": {"words", "placed", "year"},
    # retrieval/freshness.py
    "gap_stale.txt": {"sources"},
    "gap_kept.txt": {"sources"},
    "gap_speaker.txt": {"speaker"},
    "timeline.txt": {"first", "last"},
    "timeline_grouped.txt": {"first", "last"},
    "timeline_span.txt": {"first", "last"},
    # LLM mode (retrieval/llm.py); llm_answer.txt shows the reply's JSON shape, so it has literal braces.
    "llm_answer.txt": {"fence"},
    "llm_passages.txt": {"fence", "passages", "question"},
    "llm_passage.txt": {"fence", "passage_id", "publisher", "date", "title", "text"},
    "llm_retry.txt": {"failed"},
    "llm_condense.txt": {"history", "question"},
    # Replies to Russian questions (retrieval/russian.py) and the bot's Russian /help.
    "ru_lead_one.txt": {"outlets"},
    "ru_lead_many.txt": {"count", "outlets"},
    "ru_not_found.txt": {"english"},
    "ru_english_only.txt": {"unknown", "keywords"},
    "ru_too_short.txt": {"keywords"},
    "ru_help.txt": {"max_question_chars"},
}
LITERAL_BRACES = {"llm_answer.txt"}


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_every_prompt_template_is_known() -> None:
    assert sorted(p.name for p in prompts_dir().glob("*.txt")) == sorted(EXPECTED_PLACEHOLDERS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PLACEHOLDERS))
def test_every_prompt_template_renders_with_its_placeholders(name: str) -> None:
    template = (prompts_dir() / name).read_text(encoding="utf-8")
    fields = placeholders(template)
    # The code fills exactly these fields; a template asking for another one would fail at run time.
    assert fields == EXPECTED_PLACEHOLDERS[name]
    values = {field: f"<{field}-value>" for field in fields}
    rendered = render_prompt(name, **values)
    assert rendered.strip()
    for value in values.values():
        assert value in rendered
    if name in LITERAL_BRACES:
        assert not any("{" + field + "}" in rendered for field in fields)
    else:
        assert "{" not in rendered and "}" not in rendered
