"""A real event asked with the wrong year or with the roles reversed (retrieval/presupposition.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import event_check, presupposition
from retrieval.index import StoredVersion
from retrieval.presupposition import (
    anchor_names,
    misplaced_year,
    places_in,
    presupposition_gap,
    reversed_roles,
    unsaid_act,
)
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for

ARTICLES = (
    ("Turkey shot down a Russian warplane near the Syrian border on Tuesday.", "2015-11-24"),
    ("Turkish jets shot down the Russian bomber after ten warnings, Ankara said.", "2015-11-25"),
    ("The Russian warplane was shot down by Turkey, the Kremlin said.", "2015-11-26"),
    ("Trump and Putin met at the summit in Helsinki on Monday.", "2018-07-16"),
    ("The Helsinki summit came two years after the 2016 election.", "2018-07-17"),
    ("Sergei Skripal was poisoned in Salisbury with a nerve agent.", "2018-03-06"),
    ("Sergei Skripal and his daughter were found on a bench in Salisbury.", "2018-03-07"),
    ("Mueller indicted 13 Russians in 2018 over the 2016 election.", "2019-04-18"),
)


def build(
    tmp_path: Path, articles: tuple[tuple[str, str], ...] = ARTICLES, min_relevance: float | None = None
) -> AnsweringService:
    """A service over the articles, each a file with its date (and, given min_relevance, that floor)."""
    sources = tmp_path / "src"
    sources.mkdir()
    for n, (text, date) in enumerate(articles):
        (sources / f"a{n}.md").write_text(f"---\ndate: {json.dumps(date)}\n---\n\n{text}\n", encoding="utf-8")
    settings = hashing_settings_for(sources, tmp_path / "idx")
    if min_relevance is not None:
        settings = settings.model_copy(update={"min_relevance": min_relevance})
    service = build_service(settings)
    service.reindex()
    return service


@pytest.fixture
def rare_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few articles count as a large archive in which every name is rare."""
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    monkeypatch.setattr(presupposition, "NAME_SHARE", 1.0)


@pytest.fixture
def rare_verbs(rare_names: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """As rare_names, and every verb is rare too."""
    monkeypatch.setattr(presupposition, "VERB_SHARE", 1.0)


@pytest.fixture
def version(rare_verbs: None, tmp_path: Path) -> StoredVersion:
    """The articles as a large archive in which every name and verb is rare."""
    return build(tmp_path).index


def test_a_year_used_as_a_topics_name_places_no_event_in_it() -> None:
    assert not places_in("The Helsinki summit came two years after the 2016 election.", "2016", {"helsinki"})
    assert places_in("Putin visited Helsinki in 2016.", "2016", {"helsinki"})
    assert places_in("The 2016 election was hacked.", "2016", {"election"})
    # The question's topic in another inflection is the same topic (h5-21: "the 2016 elections").
    assert places_in("Russia meddled in the 2016 elections, he said.", "2016", {"election"})
    assert not places_in("Russia meddled in the 2016 elections, he said.", "2016", {"elect"})
    # Given the name, the year must stand near it: a long sentence dates its other clauses too.
    far = (
        "Putin may read the showing in Helsinki as a reason to " + "try again and " * 10 + "hack as in 2016."
    )
    assert not places_in(far, "2016", {"helsinki"}, ["helsinki"])
    assert places_in("Putin visited Helsinki in 2016.", "2016", {"helsinki"}, ["helsinki"])


def test_an_event_asked_in_a_year_no_article_reports_it_is_named(version: StoredVersion) -> None:
    gap = misplaced_year(version, "What did Trump and Putin agree at their 2016 Helsinki summit?")
    assert gap == ("Helsinki", "2016", ["2018"])
    assert misplaced_year(version, "What did Trump and Putin agree at their 2018 Helsinki summit?") is None
    assert misplaced_year(version, "Which nerve agent poisoned Sergei Skripal in 2016?") is not None
    assert misplaced_year(version, "Which nerve agent poisoned Sergei Skripal in 2018?") is None


@pytest.mark.usefixtures("rare_names")
def test_a_sentence_placing_the_name_in_the_year_answers_the_year(tmp_path: Path) -> None:
    index = build(
        tmp_path, (*ARTICLES, ("Putin first visited Helsinki in 2016, aides recalled.", "2018-07-18"))
    ).index
    assert misplaced_year(index, "What did Putin do in Helsinki in 2016?") is None


@pytest.mark.usefixtures("rare_names")
def test_a_sentence_placing_the_name_in_the_year_must_be_about_the_question(tmp_path: Path) -> None:
    # A whole news corpus names a country beside any year ("Flynn's lobbying for Turkey ended before he
    # joined the White House in January 2017"): that places no shooting down in 2017.
    lobbying = (
        "Flynn's lobbying for Turkey ended before he joined the White House in January 2017.",
        "2018-12-19",
    )
    index = build(tmp_path, (*ARTICLES, lobbying)).index
    gap = misplaced_year(index, "Why did Turkey shoot down a Russian warplane in 2017?")
    assert gap == ("Turkey", "2017", ["2015"])


@pytest.mark.usefixtures("rare_names")
def test_the_event_is_the_name_with_the_questions_two_rarest_words(tmp_path: Path) -> None:
    # In a whole news corpus Turkey and "ambassador" meet every year (the U.S. envoy in Ankara); with "shot"
    # too they are the one event, of 2016.
    envoys = tuple(
        (f"The U.S. ambassador to Turkey met officials on day {n}.", "2018-05-02") for n in range(2)
    )
    shooting = tuple(
        (f"A gunman shot the ambassador to Turkey at a gallery, witness {n} said.", "2016-12-19")
        for n in range(2)
    )
    index = build(tmp_path, (*ARTICLES, *envoys, *shooting)).index
    assert misplaced_year(index, "Who shot the ambassador to Turkey in 2018?") == ("Turkey", "2018", ["2016"])
    assert misplaced_year(index, "Who shot the ambassador to Turkey in 2016?") is None


@pytest.mark.usefixtures("rare_names")
def test_a_month_is_a_time_not_a_name_that_pins_an_event(tmp_path: Path) -> None:
    # "in March 2018" dates the question; as a name, any sentence with March and another year "reported" it.
    index = build(tmp_path, (*ARTICLES, ("The talks resumed in March, officials said.", "2017-03-02"))).index
    question = "Which lawyer wanted the Helsinki summit shut down in March 2018?"
    assert "March" not in anchor_names(index, question)
    assert "Helsinki" in anchor_names(index, question)


@pytest.mark.usefixtures("rare_names")
@pytest.mark.parametrize("when", ["Mar", "Dec.", "Sept", "Monday"])
def test_a_short_month_or_a_weekday_is_a_time_too(tmp_path: Path, when: str) -> None:
    # "in Mar 2018" was refused as an event "about Mar" that the articles put in other years (a16).
    index = build(
        tmp_path, (*ARTICLES, (f"The talks resumed on {when} 3, officials said.", "2017-03-02"))
    ).index
    names = anchor_names(index, f"Which lawyer wanted the Helsinki summit shut down on {when} 5, 2018?")
    assert when.rstrip(".") not in names and when not in names and "Helsinki" in names, names


@pytest.mark.usefixtures("rare_names")
def test_a_sentence_naming_the_person_by_surname_places_the_event(tmp_path: Path) -> None:
    # After the first mention an article calls a person by surname: "In 2016, Putin awarded Tillerson ...".
    tillerson = (
        ("Rex Tillerson was sworn in as secretary of state on Wednesday.", "2017-02-01"),
        (
            "Critics of Rex Tillerson spoke. In 2016, Putin awarded Tillerson the Order of Friendship.",
            "2017-02-02",
        ),
        ("Rex Tillerson met Lavrov. Putin awarded Tillerson the Order of Friendship in 2016.", "2017-02-03"),
    )
    index = build(tmp_path, (*ARTICLES, *tillerson)).index
    assert misplaced_year(index, "What award did Putin give Rex Tillerson in 2016?") is None


@pytest.mark.usefixtures("rare_names")
def test_a_lone_look_back_in_another_year_does_not_report_the_event_then(tmp_path: Path) -> None:
    # A whole news corpus looks back at an event years later: MH17 was reported in ten 2014 passages and one
    # of 2016; that one made 2016 a year "reporting" the shooting down and let the wrong year through.
    mh17 = tuple(
        (f"Flight MH17 was shot down over Ukraine, report {n}.", f"2014-07-{17 + n}") for n in range(4)
    )
    look_back = ("Investigators said a Buk missile downed flight MH17 two years ago.", "2016-09-28")
    index = build(tmp_path, (*ARTICLES, *mh17, look_back)).index
    question = "How many people were killed when flight MH17 was shot down in 2016?"
    assert misplaced_year(index, question) == ("MH17", "2016", ["2014"])
    assert misplaced_year(index, question.replace("2016", "2014")) is None


@pytest.mark.usefixtures("rare_names")
def test_where_every_year_has_one_report_one_is_enough(tmp_path: Path) -> None:
    # A small archive reports an event once a year: no year holds more, so each one reports it.
    mh17 = (
        ("Flight MH17 was shot down over Ukraine.", "2014-07-17"),
        ("Investigators said a Buk missile downed flight MH17.", "2016-09-28"),
    )
    index = build(tmp_path, (*ARTICLES, *mh17)).index
    assert misplaced_year(index, "Who downed flight MH17 over Ukraine in 2016?") is None


@pytest.mark.usefixtures("rare_names")
def test_one_report_against_two_does_not_tell_the_year(tmp_path: Path) -> None:
    # Two 2017 passages against one of 2014 are too few to say when Le Pen acknowledged the loan (holdout5
    # h5-07 was refused).
    loan = (
        ("Marine Le Pen recently acknowledged a loan from a Kremlin-linked bank.", "2014-12-31"),
        ("Marine Le Pen acknowledged the loan again, aides said.", "2017-02-01"),
        ("Marine Le Pen acknowledged the loan in a radio interview.", "2017-03-01"),
    )
    question = "How much did Marine Le Pen acknowledge borrowing in 2014?"
    assert misplaced_year(build(tmp_path, (*ARTICLES, *loan)).index, question) is None
    # One of 2019 against three of 2017 is: a lone passage after the years that report most looks back at
    # the event, as MH17's above (one before them cannot, test_a_lone_report_before_...).
    third = ("Marine Le Pen acknowledged the loan once more on Monday.", "2017-04-01")
    late = ("Marine Le Pen has acknowledged the loan, which she took years ago.", "2019-04-01")
    (tmp_path / "3").mkdir()
    index = build(tmp_path / "3", (*ARTICLES, *loan[1:], third, late)).index
    found = misplaced_year(index, question.replace("2014", "2019"))
    assert found == ("Marine Le Pen", "2019", ["2017"]), found


@pytest.mark.usefixtures("rare_names")
def test_a_lone_report_before_the_years_that_report_most_counts(tmp_path: Path) -> None:
    # holdout6 h6-28: one 2016 passage on Obama and Putin at the G-20's sidelines against three on the 2017
    # summit's; a 2016 article cannot look back at 2017, so it reports an event of its own year.
    summits = (
        ("Obama met Putin on the sidelines of the G-20 summit in China.", "2016-09-05"),
        *(
            (f"Trump met Putin on the sidelines of the G-20 summit, report {n}.", f"2017-07-0{n + 7}")
            for n in range(3)
        ),
    )
    index = build(tmp_path, (*ARTICLES, *summits)).index
    assert (
        misplaced_year(index, "How long did Obama meet Putin on the sidelines of the G-20 in 2016?") is None
    )
    # After the years that report it, a lone passage is still a look-back (MH17 above), and a year with no
    # report at all is still wrong.
    found = misplaced_year(index, "How long did Obama meet Putin on the sidelines of the G-20 in 2015?")
    assert found is not None and found[1] == "2015", found


@pytest.mark.usefixtures("rare_names")
def test_a_lone_earlier_report_must_write_the_name_as_one(tmp_path: Path) -> None:
    # v08 on the whole AllSides corpus: "Su-25 fighter jets ... on 22 October" holds both terms of "Su-22" in
    # 2015; it reports no shooting down of a Su-22, which the 2017 passages put in 2017.
    jets = (
        ("A U.S. jet shot down a Syrian Su-25 on 22 October, officials said.", "2015-10-23"),
        *(
            (f"A U.S. jet shot down a Syrian Su-22 near Raqqa, report {n}.", f"2017-06-1{n + 1}")
            for n in range(3)
        ),
    )
    index = build(tmp_path, (*ARTICLES, *jets)).index
    found = misplaced_year(index, "Why did a U.S. jet shoot down a Syrian Su-22 in 2015?")
    assert found is not None and found[:2] == ("Su-22", "2015"), found


@pytest.mark.usefixtures("rare_names")
def test_a_date_in_the_question_is_not_its_event(tmp_path: Path) -> None:
    # "What did Lavrov say on July 16, 2018?" was refused as an event of 2015: "July" was its rarest word, and
    # four 2015 passages held "Lavrov" beside it. A lower-case "sat" is still a word ("when they sat down").
    july = tuple((f"Lavrov spoke about Syria in July, report {n}.", f"2015-07-0{n + 1}") for n in range(4))
    later = (
        ("Lavrov spoke to reporters in Helsinki.", "2018-07-16"),
        ("Lavrov met Pompeo.", "2018-05-23"),
        ("Kerry and Zarif sat down in Geneva.", "2015-09-01"),
    )
    index = build(tmp_path, (*ARTICLES, *july, *later)).index
    assert presupposition.rarest_term(index, "What did Lavrov say on July 16, 2018?", {"lavrov"}) != "july"
    assert misplaced_year(index, "What did Lavrov say on July 16, 2018?") is None
    assert (
        presupposition.rarest_term(index, "Where had Lavrov and Kerry sat in 2015?", {"lavrov", "kerry"})
        == "sat"
    )


@pytest.mark.usefixtures("rare_names")
def test_a_name_in_the_according_to_clause_dates_no_event(tmp_path: Path) -> None:
    # holdout6 h6-24: "according to a former MI6 counterterrorism chief" was refused as "No indexed article
    # reports this about MI6 in 2015", from MI6's 2017 stories: the teller is not the event.
    mi6 = tuple(
        (f"MI6 warned of Russian spies in Britain, report {n}.", f"2017-0{n + 1}-02") for n in range(3)
    )
    index = build(tmp_path, (*ARTICLES, *mi6)).index
    question = (
        "How many Russians joined ISIS by autumn 2015, according to a former MI6 counterterrorism chief?"
    )
    assert misplaced_year(index, question) is None
    found = misplaced_year(index, "How many Russian spies did MI6 warn of in 2015?")
    assert found is not None and found[0] == "MI6", found


@pytest.mark.usefixtures("rare_names")
def test_a_year_before_the_first_article_is_never_called_wrong(tmp_path: Path) -> None:
    # No article can be dated then, so the articles' dates say nothing about an event of that year.
    pentagon = (
        ("Russian hackers once breached the Pentagon's classified network, officials said.", "2017-05-01"),
        ("What happened in 2008 was clever. The Pentagon then banned thumb drives.", "2017-05-02"),
    )
    index = build(tmp_path, (*ARTICLES, *pentagon)).index
    assert (
        misplaced_year(index, "How did hackers get onto the Pentagon's classified network in 2008?") is None
    )
    assert (
        misplaced_year(index, "How did hackers get onto the Pentagon's classified network in 2016?")
        is not None
    )


@pytest.mark.usefixtures("rare_names")
def test_a_word_the_articles_write_in_lower_case_is_no_name(tmp_path: Path) -> None:
    # "according to a Reason piece", "OVD-Info": a capital in the question makes no name of a common word
    # (holdout h01 and h4-13 were refused as events "about Info in 2019", "about Reason in 2016").
    reasons = tuple(
        (f"Officials gave no reason for the move, and the real reason stayed unclear ({n}).", f"2018-0{n}-02")
        for n in range(1, 4)
    )
    index = build(tmp_path, (*ARTICLES, *reasons)).index
    names = anchor_names(index, "What did a Reason piece say about the Helsinki summit?")
    assert "Reason" not in names and "Helsinki" in names, names


KARLOV = (
    ("A policeman killed Andrei Karlov, Russia's ambassador, at an Ankara gallery.", "2017-01-10"),
    ("The policeman who killed Andrei Karlov shouted about Aleppo.", "2017-02-11"),
)
KARLOV_IN_2016 = (
    ("Andrei Karlov, the ambassador, met Turkish officials.", "2016-05-01"),
    ("Andrei Karlov said ties with Ankara were mending.", "2016-08-01"),
)


@pytest.mark.usefixtures("rare_names")
def test_a_year_before_the_first_report_is_not_wrong_while_the_name_was_in_that_years_news(
    tmp_path: Path,
) -> None:
    # The archive tells the December 2016 killing only in 2017 articles; the ambassador was news in 2016 (a16).
    index = build(tmp_path, (*ARTICLES, *KARLOV, *KARLOV_IN_2016)).index
    assert misplaced_year(index, "Why did a policeman kill Andrei Karlov in 2016?") is None
    # A year the name was not in the news, or one after the reports, is still named.
    for year in ("2015", "2018"):
        found = misplaced_year(index, f"Why did a policeman kill Andrei Karlov in {year}?")
        assert found == ("Andrei Karlov", year, ["2017"]), found


@pytest.mark.usefixtures("rare_names")
def test_a_year_before_the_first_report_is_wrong_when_the_name_was_not_in_its_news(tmp_path: Path) -> None:
    index = build(tmp_path, (*ARTICLES, *KARLOV)).index
    found = misplaced_year(index, "Why did a policeman kill Andrei Karlov in 2016?")
    assert found == ("Andrei Karlov", "2016", ["2017"]), found


def test_roles_reversed_name_who_did_it(version: StoredVersion) -> None:
    assert reversed_roles(version, "Why did Russia shoot down the Turkish jet?") == ("shoot", "turkey")
    assert reversed_roles(version, "Why did Turkey shoot down the Russian jet?") is None
    gap = presupposition_gap(version, "Why did Russia shoot down the Turkish jet?")
    assert gap is not None and "Turkey" in gap


@pytest.mark.usefixtures("rare_verbs")
def test_both_sides_respond_so_responding_is_never_reversed(tmp_path: Path) -> None:
    """a28: "How did the US respond to Russia's annexation of Crimea?" was refused as the roles reversed,
    as the first passages read had Russia responding to the U.S."""
    responses = (
        ("Russia responded to the U.S. sanctions with a ban on food imports.", "2014-08-07"),
        ("Moscow responded to Washington by expelling diplomats.", "2014-08-08"),
    )
    index = build(tmp_path, (*ARTICLES, *responses)).index
    assert reversed_roles(index, "How did the US respond to Russia's annexation of Crimea?") is None
    assert presupposition_gap(index, "How did the US respond to Russia's annexation of Crimea?") is None


@pytest.mark.usefixtures("rare_verbs")
def test_an_act_someone_was_made_to_do_is_not_theirs_against_the_question(tmp_path: Path) -> None:
    """a30: "Putin ordered the US to cut 755 staff" made "Why did Russia cut US embassy staff?" reversed."""
    cuts = (
        ("Vladimir Putin ordered the US to cut 755 diplomatic staff in Russia.", "2017-07-30"),
        ("Moscow forced the U.S. to cut its diplomatic personnel in Russia.", "2017-08-30"),
    )
    index = build(tmp_path, (*ARTICLES, *cuts)).index
    assert reversed_roles(index, "Why did Russia cut US embassy staff?") is None


@pytest.mark.usefixtures("rare_names")
def test_an_outlet_named_as_the_source_dates_no_event(tmp_path: Path) -> None:
    """holdout5 h5-03: "according to Vox's July 2014 explainer" was refused as "No indexed article reports
    this about Vox in 2014: the articles that do are dated 2017", from Vox's own later articles."""
    sources = tmp_path / "src"
    sources.mkdir()
    texts = (
        ("EU countries import 3.2 billion euros of Russian arms a year.", "2014-07-30", "Vox"),
        ("Vox explains the sanctions on Russian arms again.", "2017-03-01", "Vox"),
        ("Vox explains Russian arms sales to Europe.", "2017-05-01", "Vox"),
    )
    for n, (text, date, outlet) in enumerate((*((t, d, "Reuters") for t, d in ARTICLES), *texts)):
        (sources / f"a{n}.md").write_text(
            f"---\ndate: {json.dumps(date)}\npublisher: {outlet}\n---\n\n{text}\n", encoding="utf-8"
        )
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    question = "How much Russian arms do EU countries import, according to Vox's July 2014 explainer?"
    assert misplaced_year(service.index, question) is None


@pytest.mark.usefixtures("rare_names")
def test_a_verb_common_elsewhere_is_rare_among_the_passages_about_the_parties(tmp_path: Path) -> None:
    # A whole news corpus says "shoot" of its gun crimes in 3.7% of its chunks, past VERB_SHARE, but in
    # 1.5% of those naming Russia or Turkey: the check must still read who shot whom there.
    about = tuple(
        (f"Russia and Turkey discussed trade and gas on day {n}.", "2016-03-01") for n in range(110)
    )
    crimes = tuple((f"A gunman shot {n + 2} people at a mall in Ohio.", "2016-04-01") for n in range(12))
    index = build(tmp_path, (*ARTICLES, *about, *crimes)).index
    assert reversed_roles(index, "Why did Russia shoot down the Turkish jet?") == ("shoot", "turkey")
    # Of the whole archive, "shoot" is past the share that marks a verb common.
    shot = sum(index.bm25.doc_freq(f) for f in presupposition._verb_forms(index, "shoot"))
    assert shot > presupposition.VERB_SHARE * index.bm25.n_docs


def test_a_small_archive_is_not_checked(tmp_path: Path) -> None:
    index = build(tmp_path).index
    assert presupposition_gap(index, "Why did Russia shoot down the Turkish jet?") is None
    assert presupposition_gap(index, "Which nerve agent poisoned Sergei Skripal in 2016?") is None


@pytest.mark.usefixtures("rare_verbs")
def test_the_answer_refuses_with_the_note(tmp_path: Path) -> None:
    service = build(tmp_path)
    answer = service.answer("Which nerve agent poisoned Sergei Skripal in 2016?")
    assert answer.status == "not_found"
    assert answer.note is not None and "2016" in answer.note and "2018" in answer.note


PLEAS = (
    ("Michael Flynn pleaded guilty to lying to the FBI about Sergei Kislyak.", "2017-12-01"),
    ("Adviser Jared Kushner met Kislyak in December. Flynn pleaded guilty, his lawyers said.", "2017-12-02"),
    ("Rex Tillerson received the Order of Friendship from Russia in 2013.", "2016-12-13"),
    ("Officials said they were pleased with the talks.", "2017-12-03"),
)


@pytest.mark.usefixtures("rare_names")
def test_a_named_persons_act_needs_a_sentence_with_the_name_and_the_verb(tmp_path: Path) -> None:
    index = build(tmp_path, PLEAS).index
    assert unsaid_act(index, "Why did Michael Flynn plead guilty?") is None
    # Kushner and a plea meet in one passage, but no sentence says that he pleaded.
    gap = unsaid_act(index, "Why did Jared Kushner plead guilty?")
    assert gap is not None and "Jared Kushner" in gap and "plead" in gap
    assert unsaid_act(index, "What award did Rex Tillerson receive from Russia?") is None
    gap = unsaid_act(index, "What award did Rex Tillerson receive from China?")
    assert gap is not None and "China" in gap
    # A single capitalised word may be a country or a surname told in other words: not checked.
    assert unsaid_act(index, "Why did Kushner plead guilty?") is None
    # An adverb is how, not what: the act is the verb after it (h6-03's note named "tentatively").
    assert unsaid_act(index, "Why did Michael Flynn quickly plead guilty?") is None
    gap = unsaid_act(index, "Why did Jared Kushner quickly plead guilty?")
    assert gap is not None and "“plead”" in gap


@pytest.mark.usefixtures("rare_names")
@pytest.mark.parametrize(
    "question",
    [
        "Why did Jared Kushner plead guilty?",
        "why did jared kushner plead guilty?",
        "WHY DID JARED KUSHNER PLEAD GUILTY?",
    ],
)
def test_an_unsaid_act_is_caveated_in_any_case(tmp_path: Path, question: str) -> None:
    # Outside attack a14: chat users type in lower case, and the names were known only by their capitals.
    gap = unsaid_act(build(tmp_path, PLEAS).index, question)
    assert gap is not None and "Jared Kushner" in gap and "plead" in gap


@pytest.mark.usefixtures("rare_verbs")
@pytest.mark.parametrize(
    "question", ["Why did Russia shoot down the Turkish jet?", "why did russia shoot down the turkish jet?"]
)
def test_reversed_roles_are_named_in_any_case(tmp_path: Path, question: str) -> None:
    gap = presupposition_gap(build(tmp_path).index, question)
    assert gap is not None and "Turkey" in gap


def test_verb_forms_are_inflections_not_words_sharing_a_root(tmp_path: Path) -> None:
    index = build(tmp_path, PLEAS).index
    assert {"plead", "pleaded"} <= presupposition._verb_forms(index, "plead")
    assert "pleased" not in presupposition._verb_forms(index, "plead")
    assert "received" in presupposition._verb_forms(index, "receive")


@pytest.mark.usefixtures("rare_names")
def test_the_doer_stands_before_the_verb_and_an_act_on_a_person_may_name_them_anywhere(
    tmp_path: Path,
) -> None:
    index = build(tmp_path, (*PLEAS, ("Russia gave Edward Snowden asylum in 2013.", "2017-12-04"))).index
    # "Flynn pleaded guilty to lying ... about Kislyak" is no plea by Kislyak.
    assert unsaid_act(index, "Why did Sergei Kislyak plead guilty?") is not None
    assert unsaid_act(index, "Why did Putin pardon Edward Snowden?") is not None
    assert unsaid_act(index, "Why did Russia give Edward Snowden asylum?") is None


@pytest.mark.usefixtures("rare_names")
def test_a_question_in_the_passive_asks_what_was_done_to_the_person(tmp_path: Path) -> None:
    lavrov = (
        "Sergei Lavrov said U.S. authorities arrested Maria Butina on fabricated charges.",
        "2018-07-21",
    )
    fired = ("Michael Flynn was fired by Trump in February.", "2017-02-14")
    index = build(tmp_path, (*PLEAS, lavrov, fired)).index
    assert unsaid_act(index, "Why was Sergei Lavrov arrested?") is not None
    # Done to Butina: her name follows the verb.
    assert unsaid_act(index, "Why was Maria Butina arrested?") is None
    # "Michael Flynn was fired" is no firing by Flynn.
    assert unsaid_act(index, "Why was Michael Flynn fired?") is None
    assert unsaid_act(index, "Why did Michael Flynn fire Sally Yates?") is not None


@pytest.mark.usefixtures("rare_names")
def test_a_name_that_says_what_kind_of_answer_is_asked_anchors_no_event(tmp_path: Path) -> None:
    """cv-22: "Which Texas senator mocked the State Department's Twitter campaign for Ukraine in 2014?" was
    refused "No indexed article reports this about Texas in 2014": Texas says whose senator is asked for,
    and the 2014 article never says "mocked" ("Texas GOP Sen. Ted Cruz tweeted")."""
    texas = (
        ("Texas GOP Sen. Ted Cruz tweeted a jab at the hashtag campaign.", "2014-04-26"),
        ("Texas voters mocked the hashtag campaign.", "2016-05-01"),
        ("In Texas, officials mocked the hashtag campaign again.", "2017-05-01"),
    )
    index = build(tmp_path, texas).index
    assert misplaced_year(index, "Which Texas senator mocked the hashtag campaign in 2014?") is None
    # Texas outside the asked-for kind still anchors the event.
    assert misplaced_year(index, "Who in Texas mocked the hashtag campaign in 2014?") is not None


def test_the_year_check_reads_all_of_a_names_passages_after_narrowing_the_reporting_ones(
    rare_names: None, tmp_path: Path
) -> None:
    # The question's rarest word is in no passage of hers, so the reporting passages are the name's; narrowing
    # them by its second rarest ("sat", 2017's) once narrowed the name's own passages too, and Merkel's
    # 2015 news no longer showed that the G-7 of 2015 was in her year.
    articles = (
        ("Angela Merkel hosted the leaders at the summit in Bavaria.", "2015-06-07"),
        ("Obama and Angela Merkel shared a beer at the summit.", "2015-06-08"),
        ("Angela Merkel sat beside Trump at the meeting in Hamburg.", "2017-07-07"),
        ("Angela Merkel sat down with Putin in Hamburg.", "2017-07-08"),
        ("Drinking water ran short in Flint.", "2016-01-10"),
    )
    index = build(tmp_path, articles).index
    question = "What were Obama and Angela Merkel drinking when they sat down at the 2015 summit?"
    assert misplaced_year(index, question) is None
    # While a year in which she was not in the news is still the wrong one.
    assert misplaced_year(index, question.replace("2015", "2016")) == ("Angela Merkel", "2016", ["2017"])


def in_two_passages(first: str, last: str) -> str:
    """An article whose first and last sentences stand in different passages (chunks)."""
    filler = " ".join(f"Officials discussed the budget for the {n}th time." for n in range(40))
    return f"{first} {filler} {last}"


@pytest.mark.usefixtures("rare_names")
def test_a_surname_in_a_passage_of_its_own_places_the_named_person_in_the_year(tmp_path: Path) -> None:
    # a32: "lying about sharing with Kilimnik in 2016 polling data" stood in a passage of an article naming
    # Konstantin Kilimnik in full only in another passage, and 2016 was refused as the wrong year.
    long_article = in_two_passages(
        "Konstantin Kilimnik worked with Manafort in Kiev for a decade.",
        "Prosecutors said Manafort lied about sharing with Kilimnik in 2016 polling data.",
    )
    kilimnik = (
        (long_article, "2019-01-08"),
        ("Konstantin Kilimnik received polling data, the filing said.", "2019-01-09"),
        ("Konstantin Kilimnik and the polling data are at the heart of the case.", "2019-02-01"),
    )
    index = build(tmp_path, (*ARTICLES, *kilimnik)).index
    assert len(index.chunks) > len(ARTICLES) + len(kilimnik), "the long article must span several passages"
    question = "Did Paul Manafort share polling data with Konstantin Kilimnik in 2016?"
    assert misplaced_year(index, question) is None
    found = misplaced_year(index, question.replace("2016", "2015"))
    assert found is not None and found[0] == "Konstantin Kilimnik", found


@pytest.mark.usefixtures("rare_names")
def test_a_surname_alone_must_meet_two_of_the_questions_words_to_place_the_year(tmp_path: Path) -> None:
    # "Assad", "Moscow" and 2016 meet in sentences on Syria's war, none of them on a visit (a32).
    war = in_two_passages(
        "Bashar al-Assad has ruled Syria since 2000.",
        "Assad's forces retook Aleppo with help from Moscow in 2016.",
    )
    visits = (
        (war, "2018-01-10"),
        ("Bashar al-Assad visited Moscow on Tuesday, his first trip abroad in years.", "2015-10-21"),
        ("Bashar al-Assad visited Moscow to thank Putin, the Kremlin said.", "2015-10-22"),
    )
    index = build(tmp_path, (*ARTICLES, *visits)).index
    found = misplaced_year(index, "Did Bashar al-Assad visit Moscow in 2016?")
    assert found is not None and found[0] == "Bashar al-Assad" and found[1] == "2016", found
    assert misplaced_year(index, "Did Bashar al-Assad visit Moscow in 2015?") is None
