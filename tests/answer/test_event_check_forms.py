"""A question's own word for something the archive says in another inflection is no unreported event."""

from __future__ import annotations

from retrieval.event_check import has_form, missing_words
from tests.answer.test_event_check import DATES, FakeVersion, event_check

TEXTS = (
    "The Pentagon filled the ports with superglue so that nobody could plug a memory stick into them.",
    "Putin won another six-year term in the 2018 presidential election; his term ends in 2024.",
    "Officials stopped the happy hour, and the agency studied the mobilization of reservists.",
    "A storm blew the roof off a barn in Texas, and a plane crashed.",
    "Alexei Navalny saw the plane that crashed near Moscow.",
)


def large() -> FakeVersion:
    return FakeVersion(TEXTS, DATES, copies=event_check.MIN_ARTICLES // len(TEXTS) + 1)


def test_an_inflection_that_doubles_the_last_consonant_is_a_form_of_the_word() -> None:
    # The archive's dev q2-19 was refused with "No indexed article mentions plugging": the article says
    # "plugged" nowhere, but the archive has "plug", and the root cut three letters from "plugging" ("plugg").
    archive = large()
    question = "What stopped Pentagon officials plugging memory sticks into the ports?"
    assert missing_words(archive, question) == []
    vocab = sorted(archive.bm25.vocab)
    assert has_form(vocab, "plugging")
    assert has_form(vocab, "stopping")
    assert has_form(vocab, "happiness")  # Snowball's "happi" meets "happy"


def test_a_word_the_archive_has_in_no_form_is_still_missing() -> None:
    archive = large()
    vocab = sorted(archive.bm25.vocab)
    # Sharing a stem's first letters is no form of it: "plum" is not "plug", "pandemic" is not "panda".
    assert not has_form(vocab, "plumbing")
    assert missing_words(archive, "What did Putin say about the coronavirus lockdown?") == [
        "coronavirus",
        "lockdown",
    ]
