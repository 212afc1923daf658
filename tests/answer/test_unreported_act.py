"""An act the question takes for granted that no article reports (retrieval/unreported_act.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.index import StoredVersion
from retrieval.unreported_act import as_asked, counted_act, tells_act, unreported_act
from retrieval.wrong_doer import other_doer
from tests.answer.test_presupposition import ARTICLES as OTHER_ARTICLES
from tests.answer.test_presupposition import build

ARTICLES = (
    ("President Trump fired FBI Director James Comey in May.", "2017-05-10"),
    ("Trump would face risks if he fired Mueller, Giuliani said.", "2018-05-01"),
    ("Trump has called for Mueller to be fired.", "2018-05-02"),
    ("Special counsel Robert Mueller indicted Paul Manafort.", "2017-10-30"),
    ("Trump expelled 60 Russian officers and closed Russia's consulate in Seattle.", "2018-03-26"),
    ("Russia blocked LinkedIn last year and threatened Facebook.", "2017-11-20"),
    ("Putin awarded Rex Tillerson the Order of Friendship in 2013.", "2017-01-11"),
    ("Putin gave Tillerson the Order of Friendship.", "2017-01-12"),
    ("Michael Flynn sat beside Putin at the RT gala in Moscow.", "2017-03-16"),
    ("Exports topped $10 billion, Moscow said.", "2017-03-17"),
    ("A Turkish gunman killed Russia's ambassador in Ankara.", "2016-12-19"),
    ("Germany expelled four Russian diplomats over the poisoning.", "2018-03-26"),
    ("Trump grudgingly signed into law new sanctions against Moscow.", "2017-08-03"),
    ("Tillerson's visit to Moscow brought no breakthrough.", "2017-04-12"),
    (
        "Bashar Assad Visits Moscow To Discuss Military Plans With Putin, the agency headlined its story.",
        "2015-10-21",
    ),
    ("Oleg Deripaska was sanctioned in April.", "2018-04-06"),
    ("Putin visited an air base in Syria.", "2017-12-11"),
    ("Obama expelled 35 Russian diplomats in December.", "2016-12-29"),
    ("Russia arrested Ukrainian sailors in the Kerch Strait.", "2018-11-26"),
)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StoredVersion:
    """The articles, counted as a large archive."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    return build(tmp_path, ARTICLES).index


@pytest.mark.parametrize(
    ("question", "doer"),
    [
        # Mueller was never fired: sentences with Trump, "fired" and Mueller only suppose it or call for it.
        ("Why did Trump fire Robert Mueller?", "Trump"),
        # Russia blocked LinkedIn; Facebook was only threatened.
        ("Why did Russia block Facebook?", "Russia"),
        # Putin gave Tillerson an award; Flynn only sat beside him.
        ("What award did Putin give Michael Flynn?", "Putin"),
        # A country's someone: the articles have a Turkish gunman kill Russia's ambassador.
        ("Why did a Russian gunman kill Turkey's ambassador in Ankara?", "a Russian gunman"),
        # The object's noun counts: Germany expelled Russian diplomats, not the ambassador.
        ("Why did Germany expel the Russian ambassador?", "Germany"),
        # A person's act needs the person named: a passive without its agent reports no act of Trump's.
        ("Why did Trump sanction Oleg Deripaska?", "Trump"),
        # Putin visited Syria, not Turkey; Tillerson visited Moscow, not Kiev.
        ("Why did Putin visit Turkey?", "Putin"),
        ("Why did Tillerson visit Kiev?", "Tillerson"),
        # A count of an act takes the act for granted: Russia arrested sailors, not diplomats.
        ("How many American diplomats did Russia arrest in Moscow?", "Russia"),
    ],
)
def test_an_act_no_sentence_reports_is_named(index: StoredVersion, question: str, doer: str) -> None:
    note = unreported_act(index, question)
    assert note is not None and doer in note, note


@pytest.mark.parametrize(
    "question",
    [
        "Why did Trump fire James Comey?",
        "What award did Putin give Rex Tillerson?",
        # The doer named well before the verb: "Trump expelled ... and closed Russia's consulate".
        "Why did Trump close the Russian consulate in Seattle?",
        # A country acts by its leader.
        "Why did the U.S. close the Russian consulate in Seattle?",
        "Why did Russia block LinkedIn?",
        "Why did a Turkish gunman kill the Russian ambassador?",
        "Why did Germany expel Russian diplomats?",
        # The complement near the verb, on either side: "signed into law new sanctions".
        "Why did Trump sign the sanctions bill?",
        # The verb's noun after a possessive, or a headline's present after the doer.
        "Why did Tillerson visit Moscow?",
        "Why did Assad visit Moscow?",
        # A state's act is often told without its agent.
        "Why did the U.S. sanction Oleg Deripaska?",
        "How many Russian diplomats did Obama expel?",
        "How many Ukrainian sailors did Russia arrest?",
    ],
)
def test_a_reported_act_is_not_questioned(index: StoredVersion, question: str) -> None:
    assert unreported_act(index, question) is None


def test_a_visit_is_the_doers_only_when_the_possessive_is_his() -> None:
    """a28: "Trump Adviser's Visit to Moscow" cleared "When did Trump visit Moscow as president?"."""
    visited, asked, moscow = {"visited"}, {"trump"}, {"moscow"}
    visits = frozenset({"visit", "visits"})
    assert not tells_act(
        "Trump Adviser's Visit to Moscow Got Attention.", visited, moscow, "", asked, "", visits
    )
    assert tells_act("Trump's visit to Moscow was brief.", visited, moscow, "", asked, "", visits)
    by_page = (
        "The probe into President Trump's campaign began with a June 2016 visit to Moscow by Carter Page."
    )
    assert not tells_act(by_page, visited, moscow, "", asked, "", visits)
    assert tells_act("Trump said his visit to Moscow was brief.", visited, moscow, "", asked, "", visits)


def test_a_supposed_wished_or_denied_act_is_no_report() -> None:
    fired, asked, mueller = {"fired"}, {"trump"}, {"mueller"}
    assert tells_act("Trump fired Robert Mueller on Friday.", fired, mueller, "", asked)
    assert not tells_act("Trump would face risks if he fired Mueller.", fired, mueller, "", asked)
    assert not tells_act("Trump has called for Mueller to be fired.", fired, mueller, "", asked)
    assert not tells_act("Trump never fired Mueller.", fired, mueller, "", asked)
    assert not tells_act("Trump denied that he fired Mueller.", fired, mueller, "", asked)
    fires = frozenset({"fire", "fires"})
    assert tells_act("Trump Fires Mueller, the headline said.", fired, mueller, "", asked, "", fires)
    assert not tells_act(
        "Warner said that if President Donald Trump fires Mueller, a crisis follows.",
        fired,
        mueller,
        "",
        asked,
        "",
        fires,
    )


def test_an_asked_noun_or_a_possessive_is_no_act_to_check(index: StoredVersion) -> None:
    # "What death toll did X give for ..." asks the object; "America's top diplomat" is no doer "America's".
    assert unreported_act(index, "What death toll did Putin give for the fighting?") is None
    assert unreported_act(index, "What did America's top diplomat call Moscow?") is None
    assert unreported_act(index, "What share did the Canadian firm topped by Moscow own?") is None
    # The word after "fire at in" is a month: a time, not what was fired at.
    assert unreported_act(index, "What type of plane did Trump fire at in November?") is None


def test_a_small_archive_is_not_checked(tmp_path: Path) -> None:
    assert unreported_act(build(tmp_path, ARTICLES).index, "Why did Trump fire Robert Mueller?") is None


def test_the_answer_keeps_its_quotes_and_carries_the_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    service = build(tmp_path, ARTICLES, min_relevance=0.0)
    answer = service.answer("Why did Trump fire Robert Mueller?")
    # A caveat, not a refusal: the act may be told in other words ("ordered the closure") or by a pronoun.
    assert answer.status == "answered"
    assert answer.note is not None and "Trump" in answer.note and "fire Robert Mueller" in answer.note


def test_a_leader_told_by_his_countrys_adjective_is_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A true control, "Why did Trump invite Putin to the White House?", was caveated "No indexed article
    reports that Trump did this (“invite Putin”)": the articles say "invited the Russian leader"."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    articles = (
        ("Putin met Trump in Helsinki. Later Trump invited the Russian leader to Washington.", "2018-07-19"),
        ("Erdogan spoke to Trump. Trump invited the Russian leader to Washington.", "2018-07-20"),
        ("Exports topped $10 billion, Moscow said.", "2017-03-17"),
    )
    index = build(tmp_path, articles).index
    assert unreported_act(index, "Why did Trump invite Putin to the White House?") is None
    # Another country's leader is not told by "the Russian leader".
    note = unreported_act(index, "Why did Trump invite Erdogan to the White House?")
    assert note is not None and "invite Erdogan" in note, note


def test_an_act_told_by_its_verb_alone_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a16: "Why did Putin resign?" was answered with quotes about others resigning and no note."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    articles = (
        *ARTICLES,
        ("Michael Flynn resigned after misleading Vice President Mike Pence.", "2017-02-14"),
        ("Critics said Putin should resign.", "2017-02-15"),
    )
    index = build(tmp_path, articles).index
    note = unreported_act(index, "Why did Putin resign?")
    assert note is not None and "Putin" in note and "“resign”" in note, note
    # Asked yes or no, or when: the same act taken for granted or asked about (a17).
    for asked in ("Did Putin resign?", "When did Putin resign?"):
        assert unreported_act(index, asked) == note, asked
    assert unreported_act(index, "Why did Michael Flynn resign?") is None
    assert unreported_act(index, "why did Flynn resign") is None


AFTER_OBAMA = (
    "Trump called Putin smart for not retaliating after Obama expelled 35 diplomats.",
    "2017-01-02",
)


def test_the_verbs_own_subject_is_the_doer_not_a_name_further_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a16: "Why did Trump expel 35 Russian diplomats?" passed, Trump being named 20 words before "Obama
    expelled"."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    articles = (AFTER_OBAMA, ("Exports topped $10 billion, Moscow said.", "2017-03-17"))
    index = build(tmp_path, articles).index
    note = unreported_act(index, "Why did Trump expel diplomats?")
    assert note is not None and "Trump" in note, note
    assert unreported_act(index, "Why did Obama expel diplomats?") is None


@pytest.mark.parametrize(
    ("question", "note"),
    [
        # Trump expelled 60, Obama 35: the count is part of the act.
        ("Why did Trump expel 35 Russian diplomats?", "“expel 35 Russian diplomats”"),
        ("Why did Obama expel 60 Russian diplomats in 2016?", "“expel 60 Russian diplomats”"),
        ("Why did Obama expel 35 Russian diplomats?", None),
        ("Why did Trump expel 60 Russian officers?", None),
    ],
)
def test_a_count_after_the_verb_must_be_the_reported_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, question: str, note: str | None
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    found = unreported_act(build(tmp_path, (*ARTICLES, AFTER_OBAMA)).index, question)
    assert (found is None) if note is None else (found is not None and note in found), found


SKRIPAL = (
    (
        "British authorities have said Skripal and his daughter were poisoned with a nerve agent.",
        "2018-03-15",
    ),
    ("Sergei Skripal was poisoned in Salisbury, Britain said.", "2018-03-16"),
    ("The Magnitsky Act was signed by then-President Barack Obama in 2012.", "2017-07-20"),
)


@pytest.mark.parametrize(
    ("question", "doer"),
    [
        # a16: an agentless passive named Britain elsewhere in the sentence, and that passed as Britain's act.
        ("Why did Britain poison Sergei Skripal?", "Britain"),
        # Only a state's official acts are told without their agent: poisoning is none.
        ("Why did Russia poison Sergei Skripal?", "Russia"),
    ],
)
def test_an_agentless_passive_tells_no_act_but_a_states_official_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, question: str, doer: str
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    index = build(tmp_path, (*ARTICLES, *SKRIPAL)).index
    note = unreported_act(index, question)
    assert note is not None and doer in note, note
    # The agent after "by" tells the act; a state's sanction needs none.
    assert unreported_act(index, "Why did Obama sign the Magnitsky Act?") is None
    assert unreported_act(index, "Why did the U.S. sanction Oleg Deripaska?") is None


def test_a_leaders_country_names_him_only_with_a_leader_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a17: "Why did Trump fire Tillerson?" was cleared by "acting U.S. attorney general, was fired by
    Trump" in a passage naming Tillerson: "U.S." stood for the secretary of state."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    articles = (
        (
            "Rex Tillerson stayed on. Yates, the acting U.S. attorney general, was fired by Trump.",
            "2017-11-01",
        ),
        (
            "Rex Tillerson flew to Beijing. Yates, the acting U.S. attorney general, was fired by Trump.",
            "2017-11-02",
        ),
        ("Exports topped $10 billion, Moscow said.", "2017-03-17"),
    )
    index = build(tmp_path, articles).index
    note = unreported_act(index, "Why did Trump fire Tillerson?")
    assert note is not None and "fire Tillerson" in note, note


def test_the_act_in_the_note_is_worded_as_the_question_words_it() -> None:
    # The bare words of "demand that Mike Pompeo free ..." read "demand mike".
    question = "Why did Sergei Lavrov demand that Mike Pompeo free the woman arrested in Moscow?"
    assert as_asked(question, "demand", "mike") == "demand that Mike Pompeo"
    assert as_asked("Why did Putin resign as president?", "resign", "president") == "resign as president"
    assert as_asked("Why did Putin resign?", "resign", "") == "resign"


def test_a_caused_act_is_no_act_of_the_verbs(index: StoredVersion) -> None:
    """dev cv-19: "How many American soldiers did Trump order withdrawn" was caveated "No indexed article
    reports that Trump did this (“order soldiers”)": the counted soldiers are withdrawn, not ordered."""
    assert counted_act("How many American soldiers did Trump order withdrawn from Syria?") is None
    assert unreported_act(index, "How many American soldiers did Trump order withdrawn from Syria?") is None
    # The act itself is still read (dev v25, unanswerable).
    assert counted_act("How many American diplomats did Russia arrest in Moscow?") is not None


def test_a_country_is_told_doing_the_act_by_its_forces_and_the_verbs_noun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a30: "Why did Russia bomb Syria?" was caveated "No indexed article reports that Russia did this"
    (and "The articles say Trump did this") above "Russian fighter jets dropped bombs deep into Syria"; and
    "Why did Russia ban US food imports?" above "Russia announced Thursday that it had banned imports"."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    told = (
        ("Russian fighter jets dropped bombs deep into the heart of Syria.", "2015-10-01"),
        ("Trump bombed Syria in April.", "2017-04-07"),
        ("Trump bombed Syria again a year later.", "2018-04-14"),
        (
            "Russia announced Thursday that it had banned imports of food from the United States.",
            "2014-08-07",
        ),
    )
    index = build(tmp_path, (*ARTICLES, *told)).index
    assert unreported_act(index, "Why did Russia bomb Syria?") is None
    assert other_doer(index, "Why did Russia bomb Syria?") is None
    assert unreported_act(index, "Why did Russia ban US food imports?") is None
    # The first name after the verb is its object: Russia blocked LinkedIn, not Facebook (as before).
    assert unreported_act(index, "Why did Russia block Facebook?") is not None


def test_an_act_told_in_another_verb_for_it_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a31: "Why did Turkey arrest Andrew Brunson?" was caveated above "Turkish authorities detained
    Brunson"; news says detained or jailed for arrested."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    told = (
        ("Turkey detained Andrew Brunson in 2016 on terrorism charges.", "2018-08-01"),
        ("Turkey arrested a journalist in Istanbul.", "2018-08-02"),
    )
    index = build(tmp_path, (*ARTICLES, *told)).index
    assert unreported_act(index, "Why did Turkey arrest Andrew Brunson?") is None
    assert unreported_act(index, "Why did Turkey fire Andrew Brunson?") is not None


def test_the_acts_ment_noun_after_the_doers_possessive_tells_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "No indexed article reports that Robert Mueller did this (“indict Paul Manafort”)" stood beside an
    # archive saying "Mueller’s indictment … against … Paul Manafort".
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    indictments = (
        ("Robert Mueller’s indictment alleges 12 counts against Paul Manafort.", "2017-10-30"),
        ("A grand jury indicted Michael Flynn's business partner on Monday.", "2018-12-17"),
        ("Robert Mueller spoke to Michael Flynn's lawyers.", "2018-12-18"),
    )
    # Not this file's ARTICLES, which tell the indictment with the verb.
    index = build(tmp_path, (*OTHER_ARTICLES, *indictments)).index
    assert unreported_act(index, "Why did Robert Mueller indict Paul Manafort?") is None
    note = unreported_act(index, "Why did Robert Mueller indict Michael Flynn?")
    assert note is not None and "indict Michael Flynn" in note, note
