"""A real act asked with the wrong doer (retrieval/act_doer.py): the caveat says who the articles say did it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.act_doer import asked_act, object_heads, sentence_doers
from retrieval.index import StoredVersion
from retrieval.service import build_service
from retrieval.wrong_doer import _told_of_country, other_doer
from tests.answer.test_presupposition import build
from tests.conftest import hashing_settings_for

ARTICLES = (
    ("President Trump fired Sally Yates after she refused to defend the travel ban.", "2017-01-31"),
    ("Trump fired Yates on Monday night, the White House said.", "2017-02-01"),
    ("Adviser Michael Flynn met Sergei Kislyak. Yates warned that Flynn could be blackmailed.", "2017-05-08"),
    ("Michael Flynn pleaded guilty to lying to the FBI.", "2017-12-01"),
    ("Flynn pleaded guilty on Friday, his lawyers said.", "2017-12-02"),
    ("Jared Kushner met Kislyak in December, before Flynn pleaded guilty.", "2017-12-03"),
    ("The Obama administration expelled 35 Russian diplomats in December.", "2016-12-29"),
    ("Russia expelled 60 American diplomats in March.", "2018-03-30"),
    ("Moscow expelled U.S. diplomats in reply.", "2018-03-31"),
)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoredVersion:
    """The articles, counted as a large archive."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    return build(tmp_path, ARTICLES).index


def test_the_question_names_doer_verb_and_object_or_the_word_after_the_verb() -> None:
    assert asked_act("Why did Michael Flynn fire Sally Yates?") == (
        "Michael Flynn",
        "fire",
        "Sally Yates",
        "",
    )
    assert asked_act("Why did Carter Page plead guilty?") == ("Carter Page", "plead", "", "guilty")
    # Who did it is what "Who fired ...?" asks: nothing taken for granted.
    assert asked_act("Who fired Sally Yates?") is None
    # A doer with a title before the name (h5-u07 was read as no act at all).
    assert asked_act("Why did Attorney General Jeff Sessions appoint Robert Mueller in May 2017?") == (
        "Attorney General Jeff Sessions",
        "appoint",
        "Robert Mueller",
        "",
    )


def test_a_sentence_names_the_doer_before_the_verb_or_after_by() -> None:
    forms = {"fired"}
    assert sentence_doers("President Trump fired Sally Yates on Monday.", forms, {"yates"}) == [
        "President Trump"
    ]
    assert sentence_doers("Yates was fired by Trump.", forms, {"yates"}) == ["Trump"]
    assert sentence_doers("The same Sally Yates fired by Trump testified.", forms, {"yates"}) == ["Trump"]
    assert sentence_doers("Trump wanted to have fired Yates.", forms, {"yates"}) == []
    # Who the act was done to is the first name after the verb: Comey's firing is no firing of Yates.
    assert sentence_doers("Trump fired Comey, not Yates, in May.", forms, {"yates"}) == []
    assert sentence_doers("Trump fired acting Attorney General Sally Yates.", forms, {"yates"}) == ["Trump"]
    us = {"us", "u.s", "american"}
    assert sentence_doers("May expelled 23 Russian diplomats and the U.S. agreed.", {"expelled"}, us) == []
    assert sentence_doers("The administration expelled 35 diplomats.", {"expelled"}, set()) == []
    # A date is no doer: "In December expelled 35 diplomats" (a caption's run-on).
    assert sentence_doers("Obama, in December expelled 35 diplomats.", {"expelled"}, set()) == []
    assert sentence_doers("On Monday expelled diplomats returned.", {"expelled"}, set()) == []
    assert sentence_doers("Theresa May expelled 23 diplomats.", {"expelled"}, set()) == ["Theresa May"]
    assert sentence_doers("The Obama administration expelled 35 diplomats.", {"expelled"}, set()) == [
        "Obama administration"
    ]


def test_pleading_not_guilty_is_no_guilty_plea() -> None:
    # Outside attack a14: "Manafort pleaded not guilty" made Manafort a doer of "plead guilty".
    assert sentence_doers("Paul Manafort pleaded not guilty on Monday.", {"pleaded"}, set(), "guilty") == []
    assert sentence_doers("Paul Manafort pleaded guilty on Friday.", {"pleaded"}, set(), "guilty") == [
        "Paul Manafort"
    ]


def test_an_act_the_articles_give_to_another_doer_is_named(index: StoredVersion) -> None:
    gap = other_doer(index, "Why did Michael Flynn fire Sally Yates?")
    assert gap is not None and "Trump" in gap and "Michael Flynn" in gap
    gap = other_doer(index, "Why did Jared Kushner plead guilty?")
    assert gap is not None and "Flynn" in gap and "Jared Kushner" in gap


@pytest.mark.parametrize(
    "question",
    [
        "why did michael flynn fire sally yates?",
        "WHY DID MICHAEL FLYNN FIRE SALLY YATES?",
        "Why did Michael Flynn Fire Sally Yates?",
    ],
)
def test_the_wrong_doer_is_named_whatever_the_case(index: StoredVersion, question: str) -> None:
    # Outside attack a14: the doer was found only by its capitals, so lower case skipped the refusal.
    gap = other_doer(index, question)
    assert gap is not None and "Trump" in gap and "Michael Flynn" in gap


def test_the_asked_doer_named_once_as_doing_it_clears_the_question(index: StoredVersion) -> None:
    assert other_doer(index, "Why did Trump fire Sally Yates?") is None
    assert other_doer(index, "Why did Michael Flynn plead guilty?") is None
    # "The Obama administration expelled" is Obama's act; Russia's own expulsions are told "Moscow expelled".
    assert other_doer(index, "Why did Obama expel 35 Russian diplomats?") is None
    assert other_doer(index, "Why did Russia expel American diplomats?") is None


def test_one_sentence_with_another_doer_is_not_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(tmp_path, (*ARTICLES[2:], ARTICLES[0])).index
    assert other_doer(index, "Why did Michael Flynn fire Sally Yates?") is None


def test_a_small_archive_is_not_checked(tmp_path: Path) -> None:
    assert other_doer(build(tmp_path, ARTICLES).index, "Why did Michael Flynn fire Sally Yates?") is None


def test_the_answer_carries_the_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate(ARTICLES):
        (sources / f"a{n}.md").write_text(f"---\ndate: {json.dumps(date)}\n---\n\n{text}\n", encoding="utf-8")
    # Every passage relevant: the hashing embedder scores too low for the default bar.
    settings = hashing_settings_for(sources, tmp_path / "idx").model_copy(update={"min_relevance": 0.0})
    service = build_service(settings)
    service.reindex()
    answer = service.answer("Why did Michael Flynn fire Sally Yates?")
    # A caveat, not a refusal: the quotes about Trump's firing of Yates come with the note that no article
    # says Flynn did it (a check that can miss the asked doer sharing the act must not refuse a true question).
    assert answer.status == "answered"
    assert answer.note is not None and "Trump" in answer.note and "Michael Flynn" in answer.note, answer.note


@pytest.mark.parametrize(
    ("sentence", "asked"),
    [
        ("Britain, Germany and France expelled dozens of Russian diplomats on Monday.", "Britain"),
        ("Britain, Germany and France expelled dozens of Russian diplomats on Monday.", "Germany"),
        ("Rick Gates and Alex van der Zwaan pleaded guilty to lying.", "Gates"),
    ],
)
def test_every_doer_joined_by_and_did_the_act(sentence: str, asked: str) -> None:
    # The fifth session's second attack: "Why did Britain expel Russian diplomats?" was refused with "The
    # articles say France did this", the sentence naming Britain too.
    forms = {"expelled", "pleaded"}
    complement = "guilty" if "pleaded" in sentence else ""
    target = set() if complement else {"russian"}
    (doer,) = sentence_doers(sentence, forms, target, complement)
    assert asked in doer.split(), doer


def test_a_country_acts_by_its_leader_and_a_person_is_not_answered_by_a_country(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path,
        (
            ("Mr. Putin expelled 755 U.S. diplomats in July.", "2017-07-31"),
            ("Putin expelled American diplomats after the sanctions bill.", "2017-08-01"),
            ("The U.S. expelled 35 Russian diplomats in December.", "2016-12-29"),
            ("Washington expelled Russian diplomats over the hacking.", "2016-12-30"),
            ("Britain expelled 23 Russian diplomats after the poisoning.", "2018-03-14"),
        ),
    ).index
    assert other_doer(index, "Why did Russia expel American diplomats?") is None
    # "The U.S. expelled" may be Obama's doing: no word against him.
    assert other_doer(index, "Why did Obama expel Russian diplomats?") is None
    gap = other_doer(index, "Why did Germany expel Russian diplomats?")
    # The doer named most often.
    assert gap is not None and "the U.S." in gap and "Germany" in gap


def test_a_sentence_that_negates_the_act_reports_no_one_doing_it() -> None:
    # a14: "not" fell within the three words looked at for "guilty".
    assert sentence_doers("Paul Manafort pleaded not guilty on Monday.", {"pleaded"}, set(), "guilty") == []
    assert sentence_doers("Trump never fired Sally Yates.", {"fired"}, {"yates"}) == []
    assert sentence_doers("Trump had not fired Yates by then.", {"fired"}, {"yates"}) == []
    assert sentence_doers("Trump denied he fired Yates.", {"fired"}, {"yates"}) == []
    assert sentence_doers("Flynn pleaded guilty, not Manafort.", {"pleaded"}, set(), "guilty") == ["Flynn"]


def test_not_guilty_pleas_name_no_other_doer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path,
        (
            ("Paul Manafort pleaded not guilty on Monday.", "2017-10-30"),
            ("Rick Gates pleaded not guilty to the charges.", "2017-10-31"),
            ("Konstantin Kilimnik never pleaded guilty.", "2018-06-09"),
        ),
    ).index
    assert other_doer(index, "Why did Carter Page plead guilty?") is None


@pytest.mark.parametrize(
    "question",
    [
        "When did Michael Flynn fire Sally Yates?",
        "How did Michael Flynn fire Sally Yates?",
        "Where did Michael Flynn fire Sally Yates?",
        "What led Michael Flynn to fire Sally Yates?",
        "Why was Sally Yates fired by Michael Flynn?",
    ],
)
def test_other_shapes_that_take_the_act_for_granted_are_checked(index: StoredVersion, question: str) -> None:
    gap = other_doer(index, question)
    assert gap is not None and "Trump" in gap and "Michael Flynn" in gap, gap


def test_an_amount_asked_of_an_act_takes_no_doer_for_granted() -> None:
    # Blind holdout3 g3-13 was refused ("The articles say Trump did this (“give United States”)"): "How
    # much warning did Russia give" asks how much, the giving being no act the question puts on Russia alone.
    assert (
        asked_act("How much advance warning did Russia give the United States before its airstrikes?") is None
    )
    assert asked_act("How many diplomats did Obama expel from the United States?") is None
    assert asked_act("When exactly did Obama expel the diplomats?") is None
    assert asked_act("How did Michael Flynn fire Sally Yates?") is not None


def test_the_passive_and_led_to_shapes_name_doer_verb_and_object() -> None:
    assert asked_act("Why was Sally Yates fired by Michael Flynn?") == (
        "Michael Flynn",
        "fired",
        "Sally Yates",
        "",
    )
    assert asked_act("What led Carter Page to plead guilty?") == ("Carter Page", "plead", "", "guilty")
    assert asked_act("Who was fired by Trump?") is None


def test_a_doer_named_in_many_passages_is_still_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a14: past MAX_PASSAGES passages naming Trump beside "pleaded guilty" the check was off.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    monkeypatch.setattr("retrieval.wrong_doer.MAX_PASSAGES", 3)
    articles = [
        (f"Michael Flynn pleaded guilty, a blow to President Trump, aide {n} said.", f"2017-12-{n + 1:02d}")
        for n in range(8)
    ]
    index = build(tmp_path, articles).index
    gap = other_doer(index, "Why did Donald Trump plead guilty?")
    assert gap is not None and "Flynn" in gap and "Donald Trump" in gap, gap


def test_the_note_keeps_the_doer_as_the_question_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(tmp_path, ARTICLES).index
    gap = other_doer(index, "Why did the White House fire Sally Yates?")
    assert gap is not None and "none says the White House did" in gap, gap


def test_a_relative_clause_names_its_doer() -> None:
    # The bench slice tells Manafort's plea only so: "What led Paul Manafort to plead guilty?" was refused.
    sentence = "Manafort, who pleaded guilty in September, had lied."
    assert sentence_doers(sentence, {"pleaded"}, set(), "guilty", relative=True) == ["Manafort"]
    # Only to clear the asked doer: "an aide on Capitol Hill, who served" is no service of Capitol Hill's.
    assert sentence_doers(sentence, {"pleaded"}, set(), "guilty") == []


def test_a_meeting_or_an_agreement_pins_no_doer() -> None:
    # Dev d21/d15, read once "Where"/"How much" were: others meeting a Russian, or agreeing to pay, say
    # nothing against Erik Prince's meeting or Prevezon's settlement.
    assert asked_act("Where did Erik Prince meet a Russian in January 2017?") is None
    assert asked_act("How much did Prevezon agree to pay to settle the case?") is None
    # cv-09: "The articles say White House did this (“urge Trump”); none says Senator Graham did": urging is
    # advice any senator gives, which others giving too says nothing against.
    assert asked_act("What did Senator Graham urge Trump to do if Putin denied meddling?") is None
    assert asked_act("Why did Michael Flynn fire Sally Yates?") is not None


def test_a_relative_clause_clears_the_asked_doer_but_accuses_no_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the 4,358-article index: "a GOP aide on Capitol Hill, who served as ..." named Capitol Hill.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path,
        (
            (
                "Tim Morrison, an aide on Capitol Hill, who served as national security aide, spoke.",
                "2019-10-30",
            ),
            (
                "James Goldgeier, dean at Georgetown University, who served as national security aide.",
                "2019-10-31",
            ),
        ),
    ).index
    assert other_doer(index, "How long did Michael Flynn serve as national security adviser?") is None


def test_an_aide_or_campaign_of_the_asked_person_does_not_act_for_him(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the 4,358-article index "Several senior Trump officials have pleaded guilty" cleared Trump.
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(
        tmp_path,
        (
            ("Several senior Trump officials have pleaded guilty in the investigation.", "2018-12-01"),
            ("Gates, who also served on Trump's campaign, pleaded guilty in February.", "2018-02-23"),
            ("Michael Flynn pleaded guilty to lying to the FBI.", "2017-12-01"),
            ("Flynn pleaded guilty on Friday, his lawyers said.", "2017-12-02"),
        ),
    ).index
    gap = other_doer(index, "Why did Donald Trump plead guilty?")
    assert gap is not None and "Flynn" in gap, gap


def test_a_negated_question_or_a_when_how_where_without_a_named_object_is_not_read() -> None:
    # "plead not guilty" was read as "plead guilty", and "When did X send the email" as the act "send
    # email", which others do every day: both refused answerable questions once When/How were read.
    assert asked_act("How many criminal counts did Roger Stone plead not guilty to?") is None
    assert asked_act("Why did Roger Stone plead not guilty?") is None
    assert asked_act("When did K.T. McFarland send the email about the sanctions?") is None
    assert asked_act("When did Carter Page plead guilty?") is None
    assert asked_act("When did Michael Flynn fire Sally Yates?") == (
        "Michael Flynn",
        "fire",
        "Sally Yates",
        "",
    )


@pytest.mark.parametrize(
    "question",
    [
        # What an outlet reports is asked, not taken for granted: the note said "report putin" (a17).
        "What did Breitbart report about Putin and sanctions?",
        "What did The Times reveal about Flynn?",
    ],
)
def test_no_act_is_read_from_a_report(question: str) -> None:
    assert asked_act(question) is None


@pytest.mark.parametrize(
    "question",
    [
        # How anyone described something is asked: the note said no article reports that Putin did this
        # ("describe Turkey's downing"), beside his words on it (archive h28, g3-34).
        "How did Putin describe Turkey's downing of the Russian jet?",
        "How did the Green Party describe Hillary Clinton's claim that Jill Stein is a Russian asset?",
        "How did Lavrov characterize the Mueller indictments?",
        "How did Rosenstein justify the firing of James Comey?",
    ],
)
def test_no_act_is_read_from_a_description(question: str) -> None:
    assert asked_act(question) is None


def test_the_noun_an_objects_name_qualifies_is_the_thing_done_to() -> None:
    assert object_heads("Why did the Senate pass the Russia sanctions bill 98-2?", "pass", "Russia") == {
        "sanction",
        "bill",
    }
    assert object_heads("Why did Russia label US media as foreign agents?", "label", "US") == {"media"}
    assert object_heads("Why did Trump fire Robert Mueller?", "fire", "Robert Mueller") == set()
    # The passive puts the verb after the object: "fired" is no noun of Yates's.
    assert object_heads("Why was Sally Yates fired by Michael Flynn?", "fired", "Sally Yates") == set()


def test_another_doer_is_named_only_for_the_thing_the_question_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a28: "Why did Russia label US media as foreign agents?" got "The articles say Tillerson did this", from
    "Tillerson labeled the two U.S. rivals the principal enablers": a labelling of rivals, not of media."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    rivals = (
        (
            "Tillerson labeled the two U.S. rivals the principal enablers of the weapons programs.",
            "2017-09-12",
        ),
        ("Tillerson labeled U.S. rivals China and Russia enablers on Tuesday.", "2017-09-13"),
    )
    index = build(tmp_path, (*ARTICLES, *rivals)).index
    assert other_doer(index, "Why did Russia label US media as foreign agents?") is None
    gap = other_doer(index, "Why did Russia label U.S. rivals as enablers?")
    assert gap is not None and "Tillerson" in gap, gap


def test_an_object_is_not_read_past_a_clauses_comma() -> None:
    """ "Senior Republicans criticized the idea, saying Moscow could not be trusted" was read as criticizing
    Moscow, and gave "The articles say Senior Republicans did this; none says the US did" for "Why did the
    US criticize Russia?"."""
    said = "Senior Republicans criticized the idea, saying Moscow could not be trusted."
    assert sentence_doers(said, {"criticized"}, {"moscow", "russia"}) == []
    assert sentence_doers("Senior Republicans criticized Moscow on Monday.", {"criticized"}, {"moscow"}) == [
        "Senior Republicans"
    ]
    assert sentence_doers("Trump fired acting Attorney General Sally Yates.", {"fired"}, {"yates"}) == [
        "Trump"
    ]


def test_a_doer_is_not_read_past_a_comma_but_a_list_of_doers_is() -> None:
    """ "After threats against the United States, Trump warned" gave the doer "United States Trump" (a28)."""
    warned = "After threats against the United States, Trump warned that he would act."
    assert sentence_doers(warned, {"warned"}, set()) == ["Trump"]
    listed = "Britain, Germany and France expelled Russian diplomats."
    assert sentence_doers(listed, {"expelled"}, set()) == ["Britain Germany and France"]


def test_a_name_opening_a_clause_after_the_verb_is_not_its_object() -> None:
    """ "Sanders warned that the U.S. cannot go it alone" warned no U.S. (a28's "Why did Russia warn the US")."""
    us = {"us", "usa", "u.s", "america", "american", "united", "washington"}
    assert sentence_doers("Sanders warned that the U.S. cannot go it alone.", {"warned"}, us) == []
    assert sentence_doers("Sanders warned the U.S. on Monday.", {"warned"}, us) == ["Sanders"]


def test_no_country_or_its_leader_is_read_as_doing_the_act_to_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misread sentence cannot make the object its own doer: "Trump warned America's enemies" is no report
    that Trump, for the US, warned the US, so it names no other doer of "warn America" than Russia."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    warned = (
        ("Trump warned America's enemies on Tuesday.", "2017-08-08"),
        ("Trump warned America's foes again.", "2017-08-09"),
    )
    index = build(tmp_path, (*ARTICLES, *warned)).index
    assert other_doer(index, "Why did Russia warn America?") is None


RUSSIA = ("russia", "russian", "moscow", "kremlin")
UKRAINE = ("ukraine", "ukrainian", "kiev", "kyiv")
USA = ("us", "usa", "america", "american", "washington", "u.s", "united")


@pytest.mark.parametrize(
    ("sentence", "country", "verb", "wanted", "qualifier", "told"),
    [
        (
            "Russian fighter jets dropped bombs deep into the heart of Syria.",
            RUSSIA,
            "bomb",
            {"syria"},
            (),
            True,
        ),
        (
            "Russian Foreign Minister Sergey Lavrov warned Washington on Monday.",
            RUSSIA,
            "warn",
            {"washington"},
            (),
            True,
        ),
        # a31: a mention is no subject: a comma, a passive, other words between, another country's diplomats.
        (
            "Russia’s 2014 invasion of Ukraine, 2015 bombing campaign in Syria.",
            UKRAINE,
            "bomb",
            {"syria"},
            (),
            False,
        ),
        ("Aid had flowed since Ukraine was invaded by Russia.", UKRAINE, "invade", {"russia"}, (), False),
        (
            "U.S. officials called the March 4 poisoning of Skripal an attack.",
            USA,
            "poison",
            {"skripal"},
            (),
            False,
        ),
        ("The U.S. expelled 60 Russian diplomats last week.", USA, "expel", {"diplomat"}, {"british"}, False),
        ("The U.S. expelled 60 British diplomats last week.", USA, "expel", {"diplomat"}, {"british"}, True),
        # a31: past a "which" clause, and the US acting as "the administration".
        (
            "Ukraine, which is not an EU member, is to expel 13 Russian diplomats.",
            UKRAINE,
            "expel",
            {"diplomat"},
            (),
            True,
        ),
        (
            "In 2017 the administration banned the use of Kaspersky software.",
            USA,
            "ban",
            {"software"},
            (),
            True,
        ),
    ],
)
def test_a_country_does_the_act_only_as_its_subject(
    sentence: str,
    country: tuple[str, ...],
    verb: str,
    wanted: set[str],
    qualifier: tuple[str, ...],
    told: bool,
) -> None:
    forms = frozenset({verb, verb + "ed", verb + "ing", verb + "led", verb + "ned", verb + "ded"})
    assert _told_of_country(sentence, country, forms, wanted, False, set(qualifier)) is told
