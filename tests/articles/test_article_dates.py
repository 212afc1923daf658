"""Reading articles' dates and datelines: which lines date an article, name its publisher, and are cut off."""

from __future__ import annotations

import pytest

from retrieval.article import parse_article
from retrieval.errors import ArticleError
from tests.support.pages import B1, B2, B3, BODY, TITLE, page, parse


def test_a_publisher_dateline_gives_publisher_and_date_and_is_cut_off() -> None:
    text = page(TITLE, "Reuters, Moscow, June 15, 2021. " + B1, B2, B3)
    article, paragraphs = parse(text)
    assert paragraphs == BODY
    assert article.publisher == "Reuters"
    assert article.date == "2021-06-15"


def test_a_city_dateline_without_a_year_gives_the_publisher_but_no_date() -> None:
    article, paragraphs = parse(page(TITLE, "MOSCOW, June 15 (Reuters) - " + B1, B2, B3))
    assert paragraphs == BODY
    assert article.publisher == "Reuters"
    assert article.date is None, "a day and month without a year is not a date"


def test_a_city_dateline_with_a_year_gives_the_date() -> None:
    article, paragraphs = parse(page(TITLE, "WASHINGTON, Sept. 4, 2019 (AP) — " + B1, B2, B3))
    assert paragraphs == BODY
    assert article.publisher == "AP"
    assert article.date == "2019-09-04"


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("Published: 3 March 2022", "2022-03-03"),
        ("Published on March 3, 2022", "2022-03-03"),
        ("Updated: 2022-03-04", "2022-03-04"),
        ("3 March 2022 [10:15] - Example News", "2022-03-03"),
    ],
)
def test_a_published_line_gives_the_date(line: str, date: str) -> None:
    article, paragraphs = parse(page(TITLE, line, *BODY))
    assert paragraphs == BODY
    assert article.date == date


@pytest.mark.parametrize(
    "line", ["Published: \u017fept 5, 2017", "Published: 5 \u017fept 2017", "\u017feptember 2017"]
)
def test_a_month_spelled_with_a_long_s_is_read_not_a_crash(line: str) -> None:
    # Python's re matches "\u017f" (long s) to "s" ignoring case, so the month pattern accepted it and
    # the month table, keyed by ASCII names, had no entry: one such line stopped `usru index` with a KeyError.
    article, _ = parse(page(TITLE, line, *BODY))
    assert article.date in ("2017-09-05", "2017-09")


def test_the_published_line_wins_over_a_dated_caption() -> None:
    caption = "The two ministers shake hands before the talks in Vienna, March 1, 2021."
    article, paragraphs = parse(page(TITLE, caption, "Published: 3 March 2022", *BODY))
    assert paragraphs == BODY
    assert article.date == "2022-03-03"


def test_dates_mentioned_in_the_body_are_not_publication_dates() -> None:
    body = [
        B1,
        "The treaty was signed on June 1, 2010, and expired in February 2021 after a short extension.",
        B2,
    ]
    article, paragraphs = parse(page(TITLE, *body))
    assert paragraphs == body
    assert article.date is None


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2021-06-15", "2021-06-15"),
        ('"June 15, 2021"', "2021-06-15"),
        ("15 June 2021", "2021-06-15"),
        ("2021-06-15T08:30:00Z", "2021-06-15"),
        ("2021-06", "2021-06"),
    ],
)
def test_front_matter_dates_are_normalised(value: str, date: str) -> None:
    article, paragraphs = parse(f"---\ndate: {value}\n---\n" + page(TITLE, *BODY))
    assert article.date == date
    assert paragraphs == BODY


@pytest.mark.parametrize(
    "value", ["someday", "next Tuesday", "2021-02-30", "2021-13-01", "'June 2021 or so'"]
)
def test_a_bad_front_matter_date_is_an_article_error(value: str) -> None:
    with pytest.raises(ArticleError):
        parse_article(f"---\ndate: {value}\n---\n" + page(TITLE, *BODY), "x.txt")


@pytest.mark.parametrize(
    ("dateline", "publisher"),
    [
        ("MOSCOW (Reuters) - ", "Reuters"),
        ("UNITED NATIONS (Reuters) - ", "Reuters"),
        ("WASHINGTON (AP) — ", "AP"),
        ("Washington (CNN) - ", "CNN"),
        ("SACRAMENTO, Calif. (Reuters) - ", "Reuters"),
        ("(Reuters) - ", "Reuters"),
        ("(Corrects paragraph 3 to show the vote was 98-2) MOSCOW (Reuters) - ", "Reuters"),
        ("By Sharon Bernstein SACRAMENTO, Calif. (Reuters) - ", "Reuters"),
    ],
)
def test_an_agency_dateline_names_the_publisher_but_never_a_date(dateline: str, publisher: str) -> None:
    article, paragraphs = parse(page(TITLE, dateline + B1, B2, B3))
    assert paragraphs == BODY, "the dateline is cut off the first paragraph"
    assert article.publisher == publisher
    assert article.date is None, "a dateline without a date dates nothing"


def test_a_sentence_with_brackets_and_a_dash_is_no_dateline() -> None:
    line = "Senators (both parties) - and their staff - agreed on the sanctions bill late on Thursday night."
    article, paragraphs = parse(page(TITLE, line, B2))
    assert paragraphs == [line, B2] and article.publisher is None


def test_dates_in_the_body_do_not_date_the_article_and_stay_text() -> None:
    tweet = "Ridiculous. — Chris Cillizza (@TheFix) November 10, 2016"
    timeline = "March 3, 2016: “Omg he’s an idiot.”"
    article, paragraphs = parse(page(TITLE, *BODY, tweet, timeline, B1))
    assert article.date is None
    assert tweet in paragraphs and timeline in paragraphs
    dated, _ = parse(page(TITLE, *BODY, "Published: 3 March 2022"))
    assert dated.date == "2022-03-03", "a Published: line still dates the article wherever it is"
