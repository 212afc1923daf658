"""Events an archive cannot report: later years, and names or words a large archive never uses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from retrieval import event_check
from retrieval.event_check import (
    full_names,
    has_form,
    later_years,
    missing_words,
    quoted_gap,
    screen_events,
    unsaid_events,
    unused_words,
    word_forms,
)
from retrieval.index.records import StoredArticle
from retrieval.lexical import Bm25, tokenize
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

TEXTS = (
    "Gazprom built the Nord Stream 2 pipeline to carry Russian gas to Germany; vaccination rates rose.",
    "Putin won another six-year term in the 2018 presidential election; his term ends in 2024.",
    "Alexei Navalny was sentenced to 30 days in jail for calling a protest in Moscow.",
    "A storm blew the roof off a barn in Texas, and a plane crashed.",
    "Alexei Navalny saw the plane that crashed near Moscow.",
)
DATES = ("2017-05-01", "2018-03-19", "2019-07-29", "2019-01-02", "2019-02-03")


def dated_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AnsweringService:
    """A service over TEXTS dated DATES, with the absence checks on for so few articles."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate(zip(TEXTS, DATES, strict=True)):
        (sources / f"a{n}.md").write_text(f"---\ndate: {json.dumps(date)}\n---\n\n{text}\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    return service


@dataclass
class FakeVersion:
    """Just what the checks read of an index version: articles, their dates and the chunks' words."""

    texts: tuple[str, ...]
    dates: tuple[str | None, ...]
    copies: int = 1  # each text indexed this many times, to make the archive large
    version: str = field(default="v1")

    def __post_init__(self) -> None:
        rows = [(t, d) for _ in range(self.copies) for t, d in zip(self.texts, self.dates, strict=True)]
        self.articles = [
            StoredArticle(i, f"a{i}.md", None, None, d, None, "", t) for i, (t, d) in enumerate(rows)
        ]
        # One chunk per article.
        self.bm25 = Bm25.build([tokenize(a.text) for a in self.articles])
        # One chunk per article; its row (article, start, end, sentences) is read for how words are written.
        self.chunks = SimpleNamespace(
            article=np.arange(len(self.articles)), row=lambda i: (i, 0, len(self.articles[i].text), 0, 0)
        )
        self.version = f"{self.version}-{len(rows)}-{hash(rows[0])}"

    def article(self, article_id: int) -> StoredArticle:
        return self.articles[article_id]


@dataclass(frozen=True)
class Span:
    article_id: int
    start: int
    end: int


def large(dates: tuple[str | None, ...] = DATES) -> FakeVersion:
    return FakeVersion(TEXTS, dates, copies=event_check.MIN_ARTICLES // len(TEXTS) + 1)


def test_a_year_after_the_last_article_is_later_only_in_a_dated_archive() -> None:
    archive = large()
    assert later_years(archive, "Who won the 2024 Russian presidential election?") == ["2024"]
    assert later_years(archive, "Who won the 2018 Russian presidential election?") == []
    assert later_years(archive, "What happened in 2014?") == []  # before the first article: history
    # Mostly undated articles (the seeds) have no last date to go by.
    assert later_years(large(("2017-05-01", None, None, None, None)), "Who won the 2024 election?") == []


def test_a_word_no_chunk_holds_in_any_form_is_unused() -> None:
    archive = large()
    vocab = sorted(archive.bm25.vocab)
    assert has_form(vocab, "vaccine")  # "vaccination" shares its root
    assert not has_form(vocab, "coronavirus")
    assert unused_words(archive, "What did Putin say about the Sputnik V coronavirus vaccine?") == [
        "Sputnik",
        "coronavirus",
    ]
    # Known words, short ones and numbers are never reported.
    assert unused_words(archive, "Did the ex-KGB man win 16 elections in Moscow?") == []


def test_missing_words_need_a_large_archive() -> None:
    question = "How did the SolarWinds hack affect U.S. government agencies?"
    assert "SolarWinds" in missing_words(large(), question)
    assert missing_words(FakeVersion(TEXTS, DATES), question) == []


def test_quotes_about_a_rare_name_that_never_say_its_rare_word_leave_a_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In the fake every word is in a fifth of the chunks or more: count them all as rare, none as pinning.
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    archive = large()
    nord, putin, navalny, texas = 0, 1, 2, 3
    assert full_names("Who blew up the Nord Stream pipelines in Texas?") == ["Nord Stream", "Texas"]
    # A particle inside a name keeps it whole: "Pen" alone read Marine Le Pen as 2017's stories (h5-07).
    assert full_names("Did Marine Le Pen meet Ursula von der Leyen?") == [
        "Marine Le Pen",
        "Ursula von der Leyen",
    ]
    assert full_names("Did Putin meet de Gaulle?") == ["Putin", "Gaulle"]
    assert full_names("Did Bashar al-Assad visit Moscow?") == ["Bashar al-Assad", "Moscow"]
    blew = "Who blew up the Nord Stream pipelines?"
    # No article about Nord Stream says "blew": the quotes about it leave the gap, whatever they are.
    assert unsaid_events(archive, blew, [nord]) == [("Nord Stream", "blew", False)]
    note = quoted_gap(archive, blew, [nord])
    assert note is not None and "Nord Stream" in note and "“blew”" in note
    assert unsaid_events(archive, "Who built the Nord Stream pipelines?", [nord]) == []
    # Quotes that do not mention the name may say it another way: no gap.
    assert unsaid_events(archive, blew, [putin]) == []
    # A form of the word counts: "crashes" meets "crashed".
    assert word_forms(sorted(archive.bm25.vocab), "crashes") == ["crashed"]
    assert unsaid_events(archive, "What crashes happened in Texas?", [texas]) == []
    # "May" is a month, not a name.
    assert unsaid_events(archive, "Did a plane crash in May?", [navalny]) == []
    # Another Navalny article says "plane" and "crashed": quotes without them leave a gap only if he is rare
    # enough to pin one story.
    crash = "Did Alexei Navalny see the plane that crashed?"
    assert unsaid_events(archive, crash, [navalny]) == [
        ("Alexei Navalny", "plane", True),
        ("Alexei Navalny", "crashed", True),
    ]
    assert quoted_gap(archive, crash, [navalny]) is None
    monkeypatch.setattr(event_check, "PIN_SHARE", 1.0)
    # A share alone pins nothing in a large archive: Navalny's 82 chunks are more than one story fills.
    assert quoted_gap(archive, crash, [navalny]) is None
    monkeypatch.setattr(event_check, "PIN_MAX", 10**6)
    note = quoted_gap(archive, crash, [navalny])
    assert note is not None and "“plane”" in note and "Alexei Navalny" in note
    # A word no passage with the name says is still a gap, however common the name (u07-u33 kind).
    monkeypatch.setattr(event_check, "PIN_MAX", 0)
    assert quoted_gap(archive, blew, [nord]) is not None
    assert quoted_gap(archive, crash, [navalny, 4]) is None
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 10**6)
    assert quoted_gap(archive, blew, [nord]) is None


def test_the_name_and_its_word_must_meet_in_one_passage(monkeypatch: pytest.MonkeyPatch) -> None:
    """An article that names Shoigu in one passage and says "replaced" of Medvedev in another reports no
    replacing of Shoigu (the archive's u33 was answered with no caveat)."""
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    passages = [
        (0, "Defence Minister Sergei Shoigu visited the aircraft factory in Kazan."),
        (0, "In 2008 Putin was replaced by Dmitry Medvedev as president."),
        (1, "Sergei Shoigu inspected the troops near the border."),
        (2, "Sergei Shoigu was replaced as defence minister."),
    ]
    archive = SimpleNamespace(
        version="passages",
        bm25=Bm25.build([tokenize(text) for _, text in passages]),
        chunks=SimpleNamespace(article=np.array([a for a, _ in passages])),
    )
    question = "Who replaced Sergei Shoigu as defence minister?"
    assert unsaid_events(archive, question, [0]) == [("Sergei Shoigu", "replaced", True)]  # type: ignore[arg-type]
    assert unsaid_events(archive, question, [0, 2]) == []  # type: ignore[arg-type]
    archive.chunks.article = np.array([0, 0, 1, 1])  # the one passage that says it, dropped from the quotes
    archive.bm25 = Bm25.build([tokenize(text) for _, text in passages[:3]] + [tokenize("Nothing here.")])
    archive.version = "passages-2"
    assert unsaid_events(archive, question, [0]) == [("Sergei Shoigu", "replaced", False)]  # type: ignore[arg-type]


def test_a_passage_that_names_the_person_by_surname_says_the_word_about_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """News names a person in full once, then by surname: "Shoigu was replaced" two passages after "Sergei
    Shoigu" reports his replacing, so no caveat, and no "No indexed article says 'replaced'" either."""
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    passages = [
        (0, "Defence Minister Sergei Shoigu visited the aircraft factory in Kazan."),
        (0, "The factory builds fighter jets for the air force."),
        (0, "On Sunday Shoigu was replaced as defence minister by an economist."),
        (1, "Sergei Lavrov met his counterpart in Geneva."),
        (1, "Lavrov was replaced at the talks by a deputy."),
        (2, "Sergei Shoigu inspected the troops near the border."),
    ]
    archive = SimpleNamespace(
        version="surname",
        bm25=Bm25.build([tokenize(text) for _, text in passages]),
        chunks=SimpleNamespace(article=np.array([a for a, _ in passages])),
    )
    question = "Who replaced Sergei Shoigu as defence minister?"
    assert unsaid_events(archive, question, [0]) == []  # type: ignore[arg-type]
    # Quoted without that passage's article, the archive still says it: the caveat, not "no article says".
    assert ("Sergei Shoigu", "replaced", True) in unsaid_events(archive, question, [2])  # type: ignore[arg-type]


def test_the_name_a_question_cites_as_its_source_is_not_what_the_event_is_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'according to Mark Galeotti' names who says it: the archive's d45 was answered by '17 years
    dominating Russia' from Galeotti's article with the note 'No indexed article says “dominated” (or another
    form of it) about Mark Galeotti' under it, as if the quote did not answer."""
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    passages = [
        (0, "Mark Galeotti, an expert on Russian security, wrote the opinion piece."),
        (0, "Over his 17 years dominating Russia, the president hollowed out its institutions."),
        (1, "Mark Galeotti spoke at a conference in Prague."),
    ]
    archive = SimpleNamespace(
        version="source",
        bm25=Bm25.build([tokenize(text) for _, text in passages]),
        chunks=SimpleNamespace(article=np.array([a for a, _ in passages])),
    )
    question = "For how many years has the president dominated Russia, according to Mark Galeotti?"
    assert unsaid_events(archive, question, [0]) == []  # type: ignore[arg-type]
    # The same name as the subject still needs the word beside it.
    subject = "Was Mark Galeotti dominating the president?"
    assert ("Mark Galeotti", "dominating", False) in unsaid_events(archive, subject, [0])  # type: ignore[arg-type]


def test_screen_events_keeps_candidates_unless_the_event_is_out_of_reach() -> None:
    archive = large()
    spans = [Span(0, 0, 20), Span(1, 0, 30)]
    kept, note = screen_events(archive, "Who won the 2018 presidential election?", spans)
    assert (kept, note) == (spans, None)
    kept, note = screen_events(archive, "Who won the 2024 presidential election?", spans)
    assert kept == [] and note is not None and "2024" in note and "2019-07-29" in note
    kept, note = screen_events(archive, "Who hacked the Nord Stream pipelines with SolarWinds?", spans)
    assert kept == [] and note is not None and "SolarWinds" in note
    # A Russian question's rendering spells names by sound: an unknown one is no gap there, a later year is.
    assert screen_events(archive, "who hacked pipelines Solarvinds", spans, rendered=True) == (spans, None)
    assert screen_events(archive, "who won election 2024", spans, rendered=True)[0] == []


def test_an_answer_refuses_what_the_archive_cannot_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the extractive chain: a later year and an unknown word are refused with the gap named."""
    service = dated_service(tmp_path, monkeypatch)
    answered = service.answer("Who won the 2018 presidential election?")
    assert answered.status == "answered" and answered.note is None
    later = service.answer("Who won the 2024 presidential election?")
    assert later.status == "not_found" and later.note is not None and "2024" in later.note
    unused = service.answer("How did the coronavirus affect the Nord Stream pipeline?")
    assert unused.status == "not_found" and unused.note is not None and "coronavirus" in unused.note
    # Quotes about a rare name that never say the question's rare word are kept, with the gap as a caveat.
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)
    flagged = service.answer("Did Gazprom build the Nord Stream pipeline to Germany after the storm?")
    assert flagged.status == "answered"
    assert [c.source for c in flagged.citations] == ["a0.md"]
    assert flagged.note is not None and "Gazprom" in flagged.note and "“storm”" in flagged.note
