"""Names and words the event checks must recognise as the archive spells them (outside attack, a12)."""

from __future__ import annotations

from dataclasses import replace

from retrieval.coverage import unknown_names
from retrieval.event_check import missing_words
from tests.answer.test_event_check import DATES, FakeVersion, event_check

TEXTS = (
    "Beto O’Rourke’s long-shot bid to unseat Senator Ted Cruz illustrates the tightrope Democrats walk.",
    "Putin won another six-year term in the 2018 presidential election; his term ends in 2024.",
    "Alexei Navalny was sentenced to 30 days in jail for calling a protest in Moscow.",
    "A storm blew the roof off a barn in Texas, and a plane crashed.",
    "Bill O'Reilly said the plane that crashed near Moscow was old.",
)


def large() -> FakeVersion:
    return FakeVersion(TEXTS, DATES, copies=event_check.MIN_ARTICLES // len(TEXTS) + 1)


def test_a_name_with_an_apostrophe_is_known_in_either_apostrophe() -> None:
    archive = large()
    # The archive writes O’Rourke with a typographic apostrophe, users type a straight one (and vice versa).
    for question in (
        "What did Beto O’Rourke say?",
        "What did Beto O'Rourke say?",
        "What did Bill O’Reilly say?",
        "Was Beto O'Rourke's bid a long-shot?",
    ):
        assert unknown_names(archive, question) == [], question
        assert missing_words(archive, question) == [], question


def test_an_unknown_name_with_an_apostrophe_is_named_whole() -> None:
    # Not "Brien", a name nobody asked about.
    assert missing_words(large(), "What did Robert O'Brien say?") == ["Robert", "O'Brien"]


def test_a_name_in_camel_case_is_a_name_in_an_archive_of_any_size() -> None:
    # Below MIN_ARTICLES only unknown_names speaks: a 199-article Reuters archive answered "How did the
    # SolarWinds hack affect U.S. agencies?" with other hacks and no caveat, as "SolarWinds" was no name.
    small = FakeVersion((*TEXTS[:4], "WikiLeaks published the emails, McConnell said."), DATES)
    assert unknown_names(small, "How did the SolarWinds hack affect U.S. agencies?") == ["SolarWinds"]
    assert unknown_names(small, "What did Senator McCain say?") == ["McCain"]
    assert unknown_names(small, "When did WikiLeaks publish, and what did McConnell say?") == []


def test_a_missing_hyphenated_name_is_named_once() -> None:
    # Was "Jean-Claude, Juncker, Claude": the name, then its halves again as unused words.
    assert missing_words(large(), "What did Jean-Claude Juncker say about Moscow?") == [
        "Jean-Claude",
        "Juncker",
    ]


def test_a_hyphenated_spelling_of_a_known_word_is_known() -> None:
    # "Were Clinton's e-mails hacked?" was refused on a Reuters archive that says "emails" in 34 articles:
    # "No indexed article mentions mails."
    texts = (*TEXTS[:4], "Hackers stole Clinton's emails, and Trump will retweet the video.")
    archive = FakeVersion(texts, DATES, copies=event_check.MIN_ARTICLES // len(texts) + 1)
    assert missing_words(archive, "Were Clinton's e-mails hacked?") == []
    assert missing_words(archive, "Did Trump re-tweet the video?") == []
    # A compound no chunk holds in either spelling is still reported, as the question spells its parts.
    assert missing_words(archive, "Were Clinton's e-wallets hacked?") == ["wallets"]


def test_a_british_spelling_of_a_known_word_is_known() -> None:
    # "What did the organisation say about Russia?" was refused on the Reuters archive, which writes
    # "organization" in 13 articles: "No indexed article mentions organisation."
    texts = (*TEXTS[:4], "The organization said the normalization of relations would take years.")
    archive = FakeVersion(texts, DATES, copies=event_check.MIN_ARTICLES // len(texts) + 1)
    assert missing_words(archive, "What did the organisation say about normalisation?") == []
    assert missing_words(archive, "Were relations normalised, the organisations said?") == []


def test_the_tail_of_a_name_after_its_apostrophe_is_no_name() -> None:
    # A follow-up made standalone starts with the carried name ("O’Brien: What about Kislyak?"); the first
    # word is no name to check, and its tail "Brien" was reported as one: "No indexed article mentions Brien, O’Brien."
    assert unknown_names(large(), "O’Brien: What about Moscow?") == []
    assert missing_words(large(), "O’Brien: What about Moscow?") == ["O’Brien"]


def test_a_month_the_question_asks_about_is_known_when_an_article_is_dated_then() -> None:
    # "What did Lavrov and Tillerson discuss in September 2017?" was refused with "No indexed article
    # mentions September" over an archive whose article dated 2017-09-05 answers it: the month is a time the
    # articles' dates cover (as a year is, coverage.mentions_year), not a name their words must repeat.
    small = FakeVersion(TEXTS, DATES)
    assert unknown_names(small, "What was Navalny sentenced to in March 2018?") == []
    assert unknown_names(small, "Who won the election in Jan. 2019?") == []
    assert unknown_names(small, "What happened in September 2017?") == ["September"]
    assert unknown_names(small, "Who made the Novichok, and who the Marchetti gun?") == [
        "Novichok",
        "Marchetti",
    ]


def test_a_name_asked_twice_is_named_once() -> None:
    # The fifth session's attacker saw "No indexed article mentions Zelensky, Zelensky, Zelensky."
    small = FakeVersion((*TEXTS[:4], "WikiLeaks published the emails, McConnell said."), DATES)
    question = "What did Zelensky say, and did Zelensky meet McConnell, and why did Zelensky go?"
    assert unknown_names(small, question) == ["Zelensky"]
    assert missing_words(large(), question).count("Zelensky") <= 1


def test_a_publishers_name_is_known_though_no_text_prints_it() -> None:
    # AllSides gives a column's author as its publisher: "What does Victor Davis Hanson say ..." was refused
    # as "No indexed article mentions Hanson" (holdout h4-35).
    archive = large()
    archive.articles[0] = replace(archive.articles[0], publisher="Victor Hanson")
    assert missing_words(archive, "What does Victor Hanson say about Navalny?") == []
    assert unknown_names(archive, "What does Victor Hanson say about Navalny?") == []
    # Other names no text prints are still named.
    assert missing_words(archive, "What does Victor Smirnoff say about Navalny?") == ["Smirnoff"]


def test_a_short_weekday_is_a_time_not_an_unknown_name() -> None:
    # "on Sun." was refused "No indexed article mentions Sun." (a17); "Tues.", "Thurs." too.
    for day in ("Sun.", "Sun", "Tues.", "Thurs.", "Wed"):
        question = f"What did Putin say on {day} about Navalny?"
        assert missing_words(large(), question) == [], question
