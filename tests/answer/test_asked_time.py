"""A question that places its event in time is answered from the articles dated then."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.asked_time import W_TIME, asked_window, prefer_asked_time, window_gap
from retrieval.extractive import Candidate
from retrieval.search import search_chunks
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings

QUESTION = "How many Russian diplomats did the United States expel in December 2016?"
# Many later articles say the question's words more often than the one dated when it happened.
LATER = (
    "The United States expelled Russian diplomats again, and Russia expelled American diplomats in turn. "
    "How many Russian diplomats the United States will expel next is unclear, officials said."
)
THEN = "The United States expelled 35 Russian diplomats on December 29 over the hacking."


@pytest.mark.parametrize(
    ("question", "first", "last"),
    [
        ("How many Russians did the special counsel indict in February 2018?", 20180201, 20180331),
        ("What did Putin say in late 2017?", 20170901, 20180131),
        ("What happened in mid-2016?", 20160501, 20161001),
        ("How many people had died by November 2015?", 20151101, 20151231),
        ("Why did Trump praise Putin at the end of December 2016?", 20161220, 20170131),
        ("Which bank was hacked in 2014?", 20140101, 20150131),
        ("What did the Kremlin say on January 6, 2021?", 20210106, 20210206),
        ("What did he do in early March 2017?", 20170301, 20170410),
        ("Who won by the end of 2017?", 20171001, 20180131),
    ],
)
def test_a_time_the_event_is_placed_in_is_a_window_of_article_dates(
    question: str, first: int, last: int
) -> None:
    window = asked_window(question)
    assert window is not None
    assert (window.first, window.last) == (first, last)


def test_a_month_spelled_with_a_long_s_is_a_window_not_a_crash() -> None:
    # re's IGNORECASE matches "\u017f" (long s) to "s": "in \u017fept 2017" reached the month table's KeyError.
    window = asked_window("What did Putin say in \u017fept 2017?")
    assert window is not None and (window.first, window.last) == (20170901, 20171031)


@pytest.mark.parametrize(
    "question",
    [
        "What did Mueller find about the 2016 election?",
        "How did 2016's election change relations?",
        "At the March 2016 meeting, what did Papadopoulos offer?",
        "How did Putin fare in the 2018 presidential vote?",
        "What changed in 2016 and 2017?",
        "What did Putin say about sanctions?",
    ],
)
def test_a_year_that_names_the_topic_or_two_times_set_no_window(question: str) -> None:
    assert asked_window(question) is None


def test_the_time_bonus_ranks_quotes_but_never_counts_towards_refusing(
    service: AnsweringService,
) -> None:
    index = service.index
    then = next(a.id for a in index.articles if a.date == "2016-12-30")
    later = next(a.id for a in index.articles if (a.date or "") > "2017-02")
    cands = [Candidate(0, later, 0, 5, 0.6, 0.1, 0.5, 0.80), Candidate(1, then, 0, 5, 0.5, 0.1, 0.5, 0.75)]
    ranked = prefer_asked_time(index, QUESTION, cands)
    assert [c.article_id for c in ranked] == [then, later]
    assert ranked[0].score == pytest.approx(0.75 + W_TIME)
    assert [c.relevance for c in ranked] == pytest.approx([0.75, 0.80])
    assert prefer_asked_time(index, "How many Russian diplomats did the US expel?", cands) == cands


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AnsweringService:
    root = tmp_path_factory.mktemp("asked_time")
    src = root / "src"
    src.mkdir()
    for i in range(40):
        date = f"20{17 + (i + 2) // 12}-{(i + 2) % 12 + 1:02d}-15"  # from March 2017, outside the window
        write(src / f"later{i:02d}.md", f"Diplomats {i}", date, f"{LATER} Story number {i}.")
    write(src / "then.md", "Expulsions", "2016-12-30", THEN)
    settings = Settings(
        _env_file=None,
        sources=src,
        index_dir=root / "idx",
        embedding_model="hashing",
        min_relevance=0.0,
        max_quotes=10,
    )
    return build_service(settings)


def write(path: Path, title: str, date: str, body: str) -> None:
    path.write_text(f"---\ntitle: {title}\npublisher: Wire\ndate: '{date}'\n---\n{body}\n", encoding="utf-8")


def test_the_article_dated_in_the_asked_month_is_retrieved_and_quoted(service: AnsweringService) -> None:
    index = service.index
    assert len(index.articles) == 41
    hits = search_chunks(index, service.embedder, QUESTION, 4)
    dates = [index.article(int(index.chunks.article[h.chunk_id])).date for h in hits]
    assert "2016-12-30" in dates
    # Without the month the same question ranks it out of reach: the later articles say its words more.
    undated = search_chunks(index, service.embedder, QUESTION.replace(" in December 2016", ""), 4)
    assert "2016-12-30" not in [index.article(int(index.chunks.article[h.chunk_id])).date for h in undated]
    answer = service.answer(QUESTION)
    assert any("35 Russian diplomats" in c.quote and c.date == "2016-12-30" for c in answer.citations)


INDICTED = (
    "A grand jury indicted 12 Russian intelligence officers on Friday for hacking the Democrats.",
    "2018-07-13",
)


def test_quotes_of_another_time_than_the_asked_month_are_caveated() -> None:
    # holdout4 h4-u04: the July 2018 indictment was quoted plainly for an indictment "in July 2016".
    question = "How many Russian intelligence officers did a grand jury indict in July 2016?"
    gap = window_gap(question, [INDICTED, ("They deny it.", "2018-07-14")])
    assert gap is not None and "July 2016" in gap and "2018-07-13, 2018-07-14" in gap, gap


@pytest.mark.parametrize(
    ("question", "dated"),
    [
        # Dated in the asked month, or within the grace after it: the report of the asked event.
        ("How many officers did a grand jury indict in July 2018?", [INDICTED]),
        ("How many officers did a grand jury indict in June 2018?", [INDICTED]),
        # A later article that names the month tells when.
        (
            "How many officers did a grand jury indict in July 2016?",
            [("In July 2016, they hacked.", "2018-07-13")],
        ),
        # A year alone is the year checks' to judge; undated quotes say nothing of when.
        ("How many officers did a grand jury indict in 2016?", [INDICTED]),
        ("How many officers did a grand jury indict in July 2016?", [("They hacked.", "")]),
        # "Decision" and "Mayor" name no month, "Dec." does.
        ("What did the mayor decide in December 2016?", [("Dec. 29 was the day of the vote.", "2018-07-13")]),
    ],
)
def test_quotes_dated_in_the_asked_month_or_naming_it_are_not_caveated(
    question: str, dated: list[tuple[str, str]]
) -> None:
    assert window_gap(question, dated) is None


def test_a_word_only_like_the_month_is_not_the_month() -> None:
    gap = window_gap(
        "What did the mayor decide in December 2016?", [("The Decision of the Mayor.", "2018-07-13")]
    )
    assert gap is not None
