"""Questions asking for someone's words ("How did Trump react …", "What did Senator Graham urge …") are answered by
speech that may be that person's, not by another speaker's words that mention them."""

from __future__ import annotations

import pytest

from retrieval.details import asked_detail, holds_detail

REACT = "How did Trump react to news that the special counsel was examining whether he obstructed justice?"
URGE = "What did Senator Graham urge Trump to do if Putin denied meddling when they met in Finland?"
DESCRIBE = "How did retired General Clark describe Putin's strategy toward Ukraine?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        (REACT, "quote"),
        ("How did the Kurdish-led fighters react when Washington announced the pullout?", "quote"),
        ("How did Flynn's legal team respond to the newspaper story?", "quote"),
        (URGE, "quote"),
        ("What did Tom Cotton say about the intelligence community's assessment?", "quote"),
        # A speaker in other words than a name pins no one whose words answer: left to the other rules.
        ("What did the president's son tell the Russian lawyer?", None),
        ("What did the sanctions target?", None),
    ],
)
def test_a_question_asking_for_someone_s_words(question: str, kind: str | None) -> None:
    assert asked_detail(question) == kind


def test_words_another_speaker_says_about_the_asked_one_do_not_answer() -> None:
    dershowitz = (
        "“I think this puts an end to any claim that President Trump obstructed justice,” Dershowitz said."
    )
    assert not holds_detail("quote", dershowitz, REACT)
    assert holds_detail(
        "quote", '"Nice," Trump tweeted Thursday. They made up a phony story, found zero proof.', REACT
    )
    assert not holds_detail("quote", '"We will see," the ministry said in a statement.', URGE)
    assert holds_detail("quote", '"Reject the denial -- challenge him," Graham said in the interview.', URGE)
    assert holds_detail("quote", '"Reject the denial," said Sen. Lindsey Graham, R-S.C.', URGE)


def test_an_apposition_or_a_pronoun_may_stand_between_the_speaker_and_the_verb() -> None:
    apposed = "Clark, the former supreme allied commander of NATO, said Putin has his eye on eastern Ukraine."
    assert holds_detail("quote", apposed, DESCRIBE)
    assert holds_detail("quote", "“He’s like someone fumbling with a lock,” he said.", DESCRIBE)
    # Quoted words no one is named as saying may be the speaker's.
    assert holds_detail("quote", 'He called the plan "a land grab."', DESCRIBE)
    assert not holds_detail("quote", "“Putin is playing from a weak position,” Rogoff says.", DESCRIBE)


def test_a_speaker_named_in_other_words_still_takes_anyone_s_speech() -> None:
    ministry = "How did Russia's foreign ministry characterize Washington's accusations?"
    assert holds_detail("quote", "“It is slander,” the ministry said.", ministry)
    assert holds_detail("quote", "Blinken said Russia was using the crash as cover.", ministry)


SPY_AGENCY = "Who would have taken over the spy agency if its chief had replaced the secretary of state?"


def test_a_name_given_only_as_the_source_of_the_words_did_not_do_the_act_asked_about() -> None:
    spokeswoman = "White House spokeswoman Sarah Sanders said the secretary of state remained in his post."
    assert not holds_detail("person", spokeswoman, SPY_AGENCY)
    cotton = "Republican Senator Tom Cotton, a Trump ally, would be tapped to replace Pompeo, the officials told Reuters."
    assert holds_detail("person", cotton, SPY_AGENCY)
    # The source is known by the verb after the name as well as before it.
    assert not holds_detail("person", "The reports were untrue, said spokeswoman Heather Nauert.", SPY_AGENCY)


def test_a_source_answers_a_question_about_words_who_someone_is_or_a_role() -> None:
    kelly = "White House Chief of Staff John Kelly said a special counsel should be appointed."
    assert holds_detail("person", kelly, "Who asked for a special counsel to look at the Democrats?")
    veteran = "“They are our best,” said Debora Plunkett, a 31-year veteran of the National Security Agency."
    assert holds_detail("person", veteran, "Which veteran of the NSA praised the hackers?")
    assert holds_detail("person", veteran, "Which veteran of the spy agency is now retired?")
    antonov = "“Soon,” Ambassador (Anatoly) Antonov said."
    assert holds_detail("person", antonov, "Who is Russia's ambassador?")
    assert not holds_detail("person", antonov, "Who would inspect the site?")
