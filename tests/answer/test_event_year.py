"""A real event asked in a year no article puts it in, told by its rarest words (retrieval/event_year.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.event_year import (
    asked_years,
    event_year_gap,
    placed_years,
    question_verb,
    unplaced_event,
    years_text,
)
from retrieval.index import StoredVersion
from tests.answer.test_presupposition import build

ARTICLES = (
    ("Russia annexed Crimea in March.", "2014-03-18"),
    ("Turkey shot down a Russian warplane near the Syrian border.", "2015-11-24"),
    ("Obama met Putin in New York to talk about Syria.", "2015-09-29"),
    ("Obama expelled 35 Russian diplomats on Thursday over the hacking.", "2016-12-29"),
    ("The 35 Russian diplomats Obama expelled left Washington with their families.", "2017-01-01"),
    ("A year after Obama expelled 35 Russians, Moscow still owns the compounds.", "2017-12-29"),
    ("In 2014, the Sochi doping scheme swapped urine samples, McLaren found.", "2016-07-18"),
    ("McLaren said the Sochi doping scheme was run by the state.", "2016-12-09"),
    ("Russia hosted the World Cup in June.", "2018-06-14"),
    ("A suicide bombing in the St. Petersburg subway killed 14 people.", "2017-04-03"),
    ("The St. Petersburg bombing suspect was born in Kyrgyzstan.", "2017-04-05"),
    ("The Moscow metro opened a new line.", "2016-05-01"),
    ("Rohrabacher was defeated in the midterms after 30 years in Congress.", "2018-11-07"),
    ("Rohrabacher, defeated last month, met Assange in London.", "2018-12-02"),
    ("Democrat Harley Rouda defeated Rohrabacher.", "2018-11-08"),
    ("Russia broke the ceasefire accord, Kiev said.", "2014-09-10"),
    ("Rebels broke the accord within hours.", "2014-09-11"),
)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoredVersion:
    """The articles, counted as a large archive."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    return build(tmp_path, ARTICLES).index


def test_a_year_asked_as_the_events_time_is_read_not_a_year_naming_a_topic() -> None:
    assert asked_years("Why did Obama expel 35 Russian diplomats in 2015?") == ["2015"]
    assert asked_years("Why did Obama expel them in late December 2016?") == ["2016"]
    assert asked_years("What happened on January 6, 2021?") == []
    assert asked_years("Why did Russia boycott the 2018 World Cup?") == []


def test_an_event_asked_in_a_year_none_of_its_reports_is_in_is_named(index: StoredVersion) -> None:
    found = unplaced_event(index, "Why did Obama expel 35 Russian diplomats in 2015?")
    assert found is not None
    year, words, reported = found
    assert year == "2015" and "35" in words and reported == ["2016", "2017"]
    note = event_year_gap(index, "why did obama expel 35 russian diplomats in 2015?")
    assert note is not None and "2016–2017" in note and "2015" in note, note


@pytest.mark.parametrize(
    "question",
    [
        # The right year, and a year whose articles report it too.
        "Why did Obama expel 35 Russian diplomats in December 2016?",
        "Why did Obama expel 35 Russian diplomats in 2017?",
        # A sentence dated 2016 places the doping scheme in 2014.
        "How did the Sochi doping scheme work in 2014?",
        # A year the articles do not cover is the later-years check's business.
        "Why did Obama expel 35 Russian diplomats in 2012?",
    ],
)
def test_an_event_its_reports_place_in_the_year_is_not_questioned(
    index: StoredVersion, question: str
) -> None:
    assert unplaced_event(index, question) is None


def test_the_event_may_be_told_by_another_pair_of_its_rare_words(index: StoredVersion) -> None:
    # The articles say "subway", not "metro": the rarest pair never meets, "Petersburg" and "bombing" do.
    found = unplaced_event(index, "What happened in the St. Petersburg metro bombing in 2016?")
    assert found is not None and found[0] == "2016" and found[2] == ["2017"], found
    note = event_year_gap(index, "What happened in the St. Petersburg metro bombing in 2016?")
    assert note is not None and "“Petersburg”" in note, note
    assert unplaced_event(index, "What happened in the St. Petersburg metro bombing in 2017?") is None


def test_a_pair_needs_a_name_and_the_questions_other_rare_word_absent_from_its_passages(
    index: StoredVersion,
) -> None:
    # "broke" and "accord" meet in 2014 ceasefire stories: two common words pin no event.
    assert unplaced_event(index, "Which missile broke the arms accord in 2016?") is None
    # "Democrat" stands in a passage with Rohrabacher's 2018 defeat: the one sentence with all three has
    # spoken, and the 2018 defeat is no report that he defeated no one in 2016.
    assert unplaced_event(index, "Which Democrat did Rohrabacher defeat in 2016?") is None


def test_words_that_meet_in_one_sentence_only_say_too_little(index: StoredVersion) -> None:
    # "warplane" and "Syrian" meet once (2015): one sentence may be about another event.
    assert unplaced_event(index, "Why did Turkey shoot down a Syrian warplane in 2017?") is None


def test_a_small_archive_is_not_checked(tmp_path: Path) -> None:
    assert (
        unplaced_event(build(tmp_path, ARTICLES).index, "Why did Obama expel 35 diplomats in 2015?") is None
    )


def test_the_answer_keeps_its_quotes_and_carries_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    service = build(tmp_path, ARTICLES, min_relevance=0.0)
    answer = service.answer("Why did Obama expel 35 Russian diplomats in 2015?")
    # A caveat, not a refusal: two words can meet in reports of another event.
    assert answer.status == "answered"
    assert answer.note is not None and "none puts it in 2015" in answer.note, answer.note


def test_the_source_a_question_cites_tells_no_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cv-13: "Why did Putin decide to deploy his own forces in Syria in 2015, according to a report for
    Congress?" was caveated "(“decide”, “Congress”) are dated 2016–2019; none puts it in 2015": the words
    of whom the question cites met in later stories, while the deployment is reported in 2015."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path,
        (
            ("Congress heard that Putin would decide on Syria.", "2016-01-01"),
            ("Congress asked Putin to decide on Syria soon.", "2017-01-01"),
            ("Putin sent forces to Syria.", "2015-09-20"),
            ("Russian forces deployed to Syria in September.", "2015-09-30"),
        ),
    ).index
    cited = "Why did Putin decide to deploy forces in Syria in 2015, according to a report for Congress?"
    assert unplaced_event(index, cited) is None
    # Asked as the event itself, the same words still place it in 2016-2017.
    found = unplaced_event(index, "Why did Congress ask Putin to decide on Syria in 2015?")
    assert found is not None and found[2] == ["2016", "2017"], found


EARLIER = (
    ("Russia annexed Crimea in March 2014 after a disputed referendum.", "2016-03-18"),
    ("Since Russia annexed Crimea in 2014, sanctions have piled up.", "2017-03-18"),
    ("Russia invaded Georgia in 2008, and annexed Crimea six years later.", "2018-08-08"),
)


def test_a_year_before_the_archive_is_named_when_its_reports_put_the_event_in_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No article can be dated 2012, but the articles' own words put the annexation in 2014 (holdout5 h5-u04).
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(tmp_path, (*ARTICLES, *EARLIER)).index
    note = event_year_gap(index, "Why did Russia annex Crimea in 2012?")
    assert note is not None and "put it in 2014" in note and "2012" in note, note
    # A year a reporting sentence names, or an event no sentence dates twice, is not questioned.
    assert event_year_gap(index, "Why did Russia invade Georgia in 2008?") is None
    assert event_year_gap(index, "Why did Russia invade Georgia in 2007?") is None
    assert event_year_gap(index, "Why did Russia annex Crimea in 2014?") is None


def test_a_year_the_archive_covers_is_named_when_its_reports_put_the_event_in_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Anniversary pieces date the annexation's reports every year, so the dates clear "Did Russia annex Crimea
    # in 2015?" (a32); their sentences still put it in 2014.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    anniversary = (
        ("A year after Russia annexed Crimea in 2014, the sanctions bite.", "2015-03-18"),
        # The year named, not as the event's time: it clears nothing (h4-u06's "the 2016 election").
        ("The 2015 parade marked how Russia annexed Crimea in 2014.", "2015-05-09"),
    )
    index = build(tmp_path, (*ARTICLES, *EARLIER, *anniversary)).index
    note = event_year_gap(index, "Did Russia annex Crimea in 2015?")
    assert note is not None and "put it in 2014" in note and "2015" in note, note
    assert event_year_gap(index, "Did Russia annex Crimea in 2014?") is None
    # The question's verb must be among the event's words: its other words may meet in reports of another act.
    assert event_year_gap(index, "Were sanctions on Russia over Crimea discussed in 2015?") is None


def test_a_year_naming_a_topic_places_nothing() -> None:
    # a33: a headline list's "sanctions Russian individuals for interference in 2018 elections" put the 2017
    # sanctions law "in 2018".
    assert placed_years("US sanctions Russians for interference in 2018 elections MORE") == []
    assert placed_years("Russia annexed Crimea in March 2014, and since 2015 it has …") == ["2014", "2015"]
    assert placed_years("It was in 2016's first weeks.") == ["2016"]


def test_the_questions_verb_is_no_noun_of_its_subject(index: StoredVersion) -> None:
    # a33: "Did the Assad regime use chemical weapons in 2017?" took "regime" for the verb.
    assert question_verb(index, "Did Obama expel 35 Russian diplomats in 2015?") == "expel"
    assert question_verb(index, "Was the Seattle consulate closed in 2016?") == "closed"
    assert question_verb(index, "Did the Assad regime use chemical weapons in 2017?") != "regime"
    # A gerund is the verb: cv-12's attorneys were "working on" something, not "counseled".
    assert question_verb(index, "What were the attorneys working on for the counsel in 2018?") == "working"


def test_a_year_note_is_not_given_over_a_quote_that_tells_otherwise(index: StoredVersion) -> None:
    question = "Why did Obama expel 35 Russian diplomats in 2015?"
    assert event_year_gap(index, question) is not None
    # A shown quote putting the event's words in the asked year speaks against the note (a33: "… signed a letter
    # of intent for the project in 2015" under "none puts it in 2015").
    placing = [("Obama expelled 35 Russian diplomats in 2015, aides said.", "2018-01-01")]
    assert event_year_gap(index, question, placing) is None
    # A quote merely dated the year does not: it may look back, or tell another event in the same words.
    dated = [("Obama expelled 35 Russian diplomats a year ago.", "2015-12-29")]
    assert event_year_gap(index, question, dated) is not None


def test_years_are_told_as_runs() -> None:
    # a33: "are dated 2014–2019; none puts it in 2016" read as if 2016 were among them.
    assert years_text(["2014", "2015", "2017", "2018", "2019"]) == "2014–2015, 2017–2019"
    assert years_text(["2018"]) == "2018"
