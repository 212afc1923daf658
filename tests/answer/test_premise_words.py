"""The word-about-name caveat speaks only of the words that carry a question's premise (premise_words)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from retrieval import event_check
from retrieval.event_check import unsaid_events
from retrieval.lexical import Bm25, tokenize
from retrieval.premise_words import (
    asked_kind,
    describing_name,
    descriptive_words,
    manner_words,
    side_words,
    unpremised_words,
)


def archive(passages: list[tuple[int, str]]) -> SimpleNamespace:
    """Just what unsaid_events reads: one chunk per passage, each with its article."""
    return SimpleNamespace(
        version=f"premise-{hash(tuple(passages))}",
        bm25=Bm25.build([tokenize(text) for _, text in passages]),
        chunks=SimpleNamespace(article=np.array([a for a, _ in passages])),
    )


@pytest.fixture(autouse=True)
def every_word_rare(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a handful of passages every name and word is rare; the rules, not the shares, decide."""
    monkeypatch.setattr(event_check, "NAME_SHARE", 1.0)
    monkeypatch.setattr(event_check, "EVENT_SHARE", 1.0)


# Another article that uses every word the tests ask about, beside no name: a word no chunk holds is the
# other check's (missing_words), so each must exist for this one to weigh it.
ELSEWHERE = (
    9,
    "Elsewhere someone will receive apps, natural gas, react, characterize, handle, arrested, arrest, plead "
    "guilty, fly, intercontinental, award, president, mocked, telephone, outlaw, alive, collapsed, crashed, clashed.",
)


def gaps(passages: list[tuple[int, str]], question: str, quoted: list[int]) -> list[str]:
    """The words the quoted articles never say beside a name of the question."""
    found = unsaid_events(archive([*passages, ELSEWHERE]), question, quoted)  # type: ignore[arg-type]
    return [word for _, word, _ in found]


def test_the_kind_of_thing_asked_for_is_no_premise() -> None:
    """dev n29: "Which encrypted messaging apps do the Harvard experts recommend?" was caveated "never say
    “apps” about Harvard" over quotes naming Signal and WhatsApp; the answer names the apps."""
    passages = [(0, "Harvard experts recommend Signal and WhatsApp to campaigns.")]
    assert gaps(passages, "Which encrypted messaging apps do the Harvard experts recommend?", [0]) == []
    assert asked_kind("Which Fox News anchor clashed with Eric Swalwell?") == {"fox", "news", "anchor"}
    # The act stays: no passage says Tillerson received anything (dev v17, unanswerable).
    tillerson = [(0, "Rex Tillerson met officials in China.")]
    assert "receive" in gaps(tillerson, "What award did Rex Tillerson receive?", [0])
    # A word asked for that the question also uses outside the wh-phrase stays (dev u17: "grain deal").
    assert "grain" not in unpremised_words(
        "How much grain did Ukraine export under the Black Sea grain deal?"
    )


def test_a_word_that_only_describes_a_noun_is_no_premise() -> None:
    """dev q2-10: "the natural gas agreement" was caveated "never say “natural” about Beijing" over a quote
    of the $400 billion gas deal."""
    passages = [(0, "Moscow and Beijing agreed a $400 billion gas deal.")]
    question = "How much was the natural gas agreement between Moscow and Beijing worth?"
    assert "natural" not in gaps(passages, question, [0])
    assert descriptive_words("How far did the second intercontinental missile fly?") >= {"intercontinental"}
    # An act right after a name is no description, even before a lower-case word ("plead guilty", v14).
    assert "plead" not in descriptive_words("Why did Sergei Kislyak plead guilty?")
    kislyak = [(0, "Sergei Kislyak met Flynn in December.")]
    assert gaps(kislyak, "Why did Sergei Kislyak plead guilty?", [0]) == ["plead", "guilty"]


def test_a_verb_of_saying_or_reacting_is_no_premise() -> None:
    """cv-20: "How did the Kurdish-led fighters react ..." was caveated "never say “react”"; the quotes tell
    the reaction in their own words."""
    passages = [(0, "Sergei Lavrov condemned the sanctions.")]
    assert gaps(passages, "How did Sergei Lavrov react to the sanctions?", [0]) == []
    # An act that is no saying stays (dev v18, unanswerable).
    assert gaps(passages, "Why was Sergei Lavrov arrested?", [0]) == ["arrested"]


def test_an_act_wished_for_is_no_premise() -> None:
    """cv-01: "How did the Philippine president want Asian leaders to handle the dispute" was caveated
    "never say “handle” about Manila": the premise is the wish, the article words it "should not discuss"."""
    passages = [(0, "Duterte wants leaders to leave the dispute untouched.")]
    assert gaps(passages, "How did Duterte want leaders to handle the dispute?", [0]) == []
    assert gaps(passages, "How did Duterte handle the dispute?", [0]) == ["handle"]


def test_a_name_that_qualifies_a_noun_names_no_party() -> None:
    """cv-05: "Russia's foreign ministry ... the downed Malaysian airliner" was caveated "never say
    “characterize” about Malaysian": the name says whose plane, not whom the act is about."""
    assert describing_name("What did the Philippine president host?", "Philippine")
    assert describing_name("Why did the Kurdish-led fighters leave?", "Kurdish-led")
    assert not describing_name("Why did Sergei Lavrov leave?", "Sergei Lavrov")
    passages = [(0, "Philippine officials met in the capital."), (0, "Duterte hosted the summit.")]
    assert gaps(passages, "Where did the Philippine president host the summit?", [0]) == []
    # A party named beside it is still checked.
    lavrov = [(0, "Philippine officials met Sergei Lavrov.")]
    assert "arrest" in gaps(lavrov, "Why did the Philippine president arrest Sergei Lavrov?", [0])


def test_an_irregular_past_form_says_the_act() -> None:
    """q2-14 asked how far a missile would "fly" near Japan; an article saying it "flew" reports the act."""
    assert gaps([(0, "The missile flew over Japan.")], "How far did the missile fly near Japan?", [0]) == []
    assert gaps([(0, "Japan protested the missile.")], "How far did the missile fly near Japan?", [0]) == [
        "fly"
    ]


def test_a_name_in_the_wh_phrase_is_the_answers_kind_not_the_events() -> None:
    """dev cv-22: "Which Texas senator mocked ..." was caveated "never say “mocked” about Texas" over the
    quote of Ted Cruz's tweet: the answer is a senator from Texas, the event is not about Texas."""
    passages = [(0, "Texas voters elected Ted Cruz."), (1, "Cruz made fun of the hashtag campaign.")]
    assert gaps(passages, "Which Texas senator mocked the hashtag campaign?", [0, 1]) == []
    # A name outside the wh-phrase is still checked.
    assert gaps(passages, "Which senator mocked Texas?", [0, 1]) == ["mocked"]


def test_a_name_in_a_side_phrase_belongs_to_that_phrases_act() -> None:
    """dev q2-25, q2-14, q2-07: "talked by telephone before they first met in Hamburg", "fly before coming
    down near Japan" and "the arms deal signed by Reagan and Gorbachev outlaw" were caveated "never say
    “telephone” about Hamburg" and the like: the name dates the event or says which deal, its own act is
    the side phrase's."""
    hamburg = [(0, "Trump and Putin met in Hamburg."), (0, "Trump and Putin spoke by telephone twice.")]
    question = "How many times had Trump and Putin talked by telephone before they first met in Hamburg?"
    assert gaps(hamburg, question, [0]) == []
    japan = [
        (0, "The missile came down near Japan."),
        (0, "North Korea's missile flew 620 miles to land near the coast."),
    ]
    assert gaps(japan, "How far did North Korea's missile fly before coming down near Japan?", [0]) == []
    reagan = [(0, "Reagan and Gorbachev signed the treaty.")]
    question = "What range of missiles did the arms deal signed by Reagan and Gorbachev outlaw?"
    assert gaps(reagan, question, [0]) == []
    assert side_words(question, "Reagan") == {"signed", "by", "reagan", "and", "gorbachev"}
    # A word of the side phrase is still said about its name (dev u31: "before his plane crashed"), and a
    # name of the main clause is checked against the whole question.
    assert "collapsed" in gaps(hamburg, "What did Trump say before the summit in Hamburg collapsed?", [0])
    prigozhin = [(0, "Yevgeny Prigozhin runs a troll farm.")]
    assert gaps(prigozhin, "What did Yevgeny Prigozhin say before his plane crashed?", [0]) == ["crashed"]
    assert side_words("When did Reagan meet Gorbachev in Reykjavik?", "Reagan") is None


def test_a_capital_before_a_word_of_government_names_the_state() -> None:
    """dev q2-09: "keeping the Damascus government alive" was caveated "never say “alive” about Damascus":
    news says "the Syrian government" or "Assad", not Damascus, for the state's rule."""
    assert describing_name("What does Tehran get out of keeping the Damascus government alive?", "Damascus")
    assert not describing_name("Why did Russia bomb Damascus in April?", "Damascus")
    passages = [(0, "Damascus hosted the talks."), (1, "Tehran propped up Assad.")]
    assert gaps(passages, "Why did Tehran keep the Damascus government alive?", [0, 1]) == []


def test_a_passage_naming_the_asked_group_beside_the_name_tells_the_event() -> None:
    """dev cv-31: "Which Fox News anchor clashed with Eric Swalwell ..." was caveated "No indexed article
    says “clashed” about Eric Swalwell" over "Swalwell duked it out with Fox News host Martha MacCallum":
    the passage names the group's member beside the name, the meeting in its own words."""
    question = "Which Fox News anchor clashed with Eric Swalwell over the collusion claim?"
    met = [(0, "Rep. Eric Swalwell duked it out with Fox News host Martha MacCallum.")]
    assert gaps(met, question, [0]) == []
    # Without the group beside him, the word is still asked (and a group named elsewhere is no meeting).
    apart = [(0, "Rep. Eric Swalwell spoke on CNN."), (0, "Fox News hosts debated the collusion claim.")]
    assert "clashed" in gaps(apart, question, [0])


@pytest.mark.parametrize(
    ("question", "manner"),
    [
        # Archive answerables whose notes fell on these words (h17, h29, h5-22, h6-06, h6-19, h6-26).
        ("Would the U.S. government consider pardoning Snowden?", {"pardoning"}),
        ("Did Poland's president back letting Russia return to the G7?", {"letting"}),
        (
            "How did Trump's adviser justify not loudly criticizing countries such as Turkey?",
            {"loudly", "criticizing"},
        ),
        ("How did John Brennan react to Trump branding him one of the Obama era's hacks?", {"branding"}),
        ("What jobs did Igor Bezler hold after settling in Horlivka?", {"settling"}),
        # Nouns stay premise words: after a determiner or a possessive, or a name's with a preposition after.
        ("What did Russia say about the bombing of the hospital?", set()),
        ("Why did Putin's meeting with Trump go badly?", {"badly"}),
        ("What did Tillerson say at the OSCE meeting in December?", set()),
        ("What did Trump say at the rally in Ohio?", set()),
        # Verbs and nouns in -ly are no adverbs (one list with presupposition's act check).
        ("Did Russia apply pressure and quickly rally allies?", {"quickly"}),
        # The progressive main verb is the asked act (test_event_check's Galeotti question).
        ("Was Mark Galeotti dominating the president?", set()),
        ("What were Obama and Angela Merkel drinking when they sat down?", set()),
    ],
)
def test_manner_words_are_no_premise(question: str, manner: set[str]) -> None:
    assert manner_words(question) == manner
    assert manner <= unpremised_words(question)
