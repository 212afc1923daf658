"""Answers restricted by date and outlet, and quotes from several dates shown as a timeline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.fakebotapi import FakeBotAPI, started_application
from bot.bot_settings import BotSettings
from bot.cli import main
from bot.repl import run_chat
from retrieval import search
from retrieval.errors import QuestionError
from retrieval.filters import Filters, date_range, make_filters, parse_filter_words
from retrieval.index import view
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.cli.test_cli import Folders, assert_one_line_error, usru

# Five articles making one point about sanctions, from several outlets and years (one undated).
ARTICLES = {
    "a2019.md": ("Reuters", "2019-03-01"),
    "b2015.md": ("Associated Press", "2015-06-10"),
    "c2017.md": ("CNN (Web News)", "2017-01-20"),
    "d2018.md": ("Reuters", "2018-11"),
    "e_undated.md": ("Fox News", None),
}
QUESTION = "What did the Senate decide about sanctions on Russia?"


BODIES = [
    "The Senate decided to keep sanctions on Russia after a long debate in Washington on Tuesday.",
    "Senators voted on sanctions against Russia, deciding the measures would stay for another year.",
    "Russia sanctions were extended by the Senate, which decided that banks would remain on the list.",
    "The decision of the Senate on Russia sanctions drew criticism from Moscow, which called it hostile.",
    "After the Senate decided on sanctions, Russian officials said ties with America would suffer.",
]


def write_articles(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, (publisher, date)) in enumerate(ARTICLES.items()):
        front = f"---\ntitle: Sanctions story {i}\npublisher: {publisher}\n" + (
            f"date: '{date}'\n" if date else ""
        )
        (folder / name).write_text(front + "---\n" + BODIES[i] + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> AnsweringService:
    root = tmp_path_factory.mktemp("filters")
    settings = Settings(
        _env_file=None,
        sources=write_articles(root / "src"),
        index_dir=root / "idx",
        embedding_model="hashing",
        min_relevance=0.0,
        max_quotes=10,
    )
    return build_service(settings)


# ---------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017", ("2017-01-01", "2017-12-31")),
        ("2016-02", ("2016-02-01", "2016-02-29")),
        ("2017-1", ("2017-01-01", "2017-01-31")),
        ("2018-11-05", ("2018-11-05", "2018-11-05")),
        ("2017-13", None),
        ("2017-02-30", None),
        ("last year", None),
        ("", None),
    ],
)
def test_a_date_names_its_first_and_last_day(value: str, expected: tuple[str, str] | None) -> None:
    assert date_range(value) == expected


def test_filter_words_are_split_from_the_question() -> None:
    filters, question = parse_filter_words(
        'since:2017-01 until:2018 outlet:Reuters outlet:"Associated Press" Why?'
    )
    assert filters == Filters("2017-01-01", "2018-12-31", ("Reuters", "Associated Press"))
    assert question == "Why?"
    assert parse_filter_words("What happened since 2014?") == (Filters(), "What happened since 2014?")
    assert parse_filter_words("outlet:CNN,Vox who won?")[0].outlets == ("CNN", "Vox")
    for bad, words in [("since:2017-13 Why?", "not a date"), ("outlet: Why?", "needs a value")]:
        with pytest.raises(QuestionError, match=words):
            parse_filter_words(bad)
    with pytest.raises(QuestionError, match="after"):
        make_filters("2019", "2018")


@pytest.mark.parametrize(
    ("filters", "publisher", "date", "admitted"),
    [
        (Filters(since="2017-01-01"), "X", "2017-01-01", True),
        (Filters(since="2017-01-01"), "X", "2016-12-31", False),
        (Filters(until="2017-12-31"), "X", "2018-01-01", False),
        (Filters(since="2018-11-15"), "X", "2018-11", True),  # a month-only date overlaps the range
        (Filters(since="2017-01-01"), "X", None, False),  # undated: cannot be shown to be in range
        (Filters(outlets=("CNN",)), "CNN (Web News)", None, True),
        (Filters(outlets=("cnn",)), "CNNMoney", None, False),  # whole words only
        (Filters(outlets=("AP",)), "Associated Press", None, True),
        (Filters(outlets=("Associated Press",)), "AP", None, True),
        (Filters(outlets=("Reuters",)), None, "2017-01-01", False),
        (Filters(), None, None, True),
    ],
)
def test_which_articles_the_filters_admit(
    filters: Filters, publisher: str | None, date: str | None, admitted: bool
) -> None:
    assert filters.admits(publisher, date) is admitted


# ---------------------------------------------------------------------------- answers


def test_without_filters_quotes_from_several_dates_run_oldest_first(service: AnsweringService) -> None:
    answer = service.answer(QUESTION)
    dates = [c.date for c in answer.citations]
    dated = [d for d in dates if d]
    assert len(set(dated)) >= 3, f"the articles make one point in several years: {dates}"
    assert dated == sorted(dated), f"quotes are in date order: {dates}"
    assert dates[: len(dated)] == dated, f"undated quotes come last: {dates}"
    assert f"in date order, from {dated[0]} to {dated[-1]}" in answer.lead
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    one = service.answer(QUESTION, filters=make_filters(outlets=["CNN"]))
    assert len(one.citations) == 1 and "date order" not in one.lead, "one date: no timeline note"


def test_an_undated_quote_comes_after_the_dated_ones(service: AnsweringService) -> None:
    answer = service.answer(QUESTION, filters=make_filters(outlets=["Fox News", "CNN"]))
    assert [c.source for c in answer.citations] == ["c2017.md", "e_undated.md"]


@pytest.mark.parametrize(
    ("filters", "sources"),
    [
        (make_filters(since="2017"), {"a2019.md", "c2017.md", "d2018.md"}),
        (make_filters(until="2017-06"), {"b2015.md", "c2017.md"}),
        (make_filters(since="2018-11-30", until="2019"), {"a2019.md", "d2018.md"}),
        (make_filters(outlets=["Reuters"]), {"a2019.md", "d2018.md"}),
        (make_filters(outlets=["AP", "CNN"]), {"b2015.md", "c2017.md"}),
        (make_filters(since="2016", outlets=["Reuters"]), {"a2019.md", "d2018.md"}),
        (make_filters(outlets=["Fox News"]), {"e_undated.md"}),
    ],
)
def test_filters_choose_which_articles_are_quoted(
    service: AnsweringService, filters: Filters, sources: set[str]
) -> None:
    answer = service.answer(QUESTION, filters=filters)
    assert {c.source for c in answer.citations} == sources
    assert all(filters.admits(c.publisher, c.date) for c in (*answer.citations, *answer.more))


def test_filters_apply_to_the_search_not_to_the_final_quotes(
    service: AnsweringService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only one article may be quoted and it is not among the unfiltered top chunks' first pick:
    # the search itself must find it, in the exact path and in the vector index's own filtered search.
    filters = make_filters(outlets=["Fox News"])
    index = service.index
    hits = search.search_chunks(index, service.embedder, QUESTION, 2, filters=filters)
    assert hits and {index.article(int(index.chunks[h.chunk_id][0])).source for h in hits} == {"e_undated.md"}
    monkeypatch.setattr(view, "EXACT_FILTERED", 0)
    via_index = search.search_chunks(index, service.embedder, QUESTION, 2, filters=filters)
    assert [h.chunk_id for h in via_index] == [h.chunk_id for h in hits]


def test_filters_that_admit_no_article_say_so(service: AnsweringService) -> None:
    with pytest.raises(QuestionError, match="No indexed article is from Interfax, dated 2020-01-01 or later"):
        service.answer(QUESTION, filters=make_filters(since="2020", outlets=["Interfax"]))


def test_usru_ask_takes_since_until_and_outlet(tmp_path: Path) -> None:
    folders = Folders(tmp_path, write_articles(tmp_path / "src"), tmp_path / "idx")
    env = {**folders.env(), "USRU_MIN_RELEVANCE": "0", "USRU_MAX_QUOTES": "10"}
    result = usru(
        folders,
        "ask",
        "--json",
        "--since",
        "2016",
        "--until",
        "2018",
        "--outlet",
        "Reuters,CNN",
        QUESTION,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    cited = {c["source"] for c in json.loads(result.stdout)["citations"]}
    assert cited == {"c2017.md", "d2018.md"}
    assert_one_line_error(usru(folders, "ask", "--since", "June", QUESTION, env=env), "not a date")


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--outlet", "", "outlet '' names no outlet"),
        ("--outlet", "  ", "outlet '  ' names no outlet"),
        ("--outlet", ",", "outlet ',' names no outlet"),
        ("--since", "", "since '' is not a date"),
        ("--until", " ", "until ' ' is not a date"),
    ],
)
def test_usru_ask_refuses_an_empty_filter_value(
    flag: str,
    value: str,
    words: str,
    service: AnsweringService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--outlet ""` quoted every outlet without a word, as if no filter had been asked for."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    monkeypatch.chdir(tmp_path)
    where = ["--sources", str(service.settings.sources), "--index-dir", str(service.settings.index_dir)]
    code = main([*where, "ask", flag, value, QUESTION])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured
    assert captured.err.startswith(f"usru: {words}"), captured.err
    assert len(captured.err.strip().splitlines()) == 1, captured.err


def test_the_chat_refuses_an_outlet_word_that_names_no_outlet(service: AnsweringService) -> None:
    """The same as `--outlet ,`: `outlet:,` was dropped and the question answered from every outlet."""
    out = io.StringIO()
    assert run_chat(service, Console(file=out, width=200), io.StringIO(f"outlet:, {QUESTION}\n")) == 0
    assert out.getvalue().strip() == "outlet ',' names no outlet; give a name, e.g. Reuters."


# ---------------------------------------------------------------------------- the bot


async def test_the_bot_reads_filter_words_before_the_question(
    fake_bot_api: FakeBotAPI, service: AnsweringService
) -> None:
    api = fake_bot_api
    bs = BotSettings(
        _env_file=None,
        bot_token=api.token,
        api_base_url=api.base_url,
        poll_timeout_s=1,
        read_timeout_s=3.0,
        retry_backoff_s=0.05,
        chat_messages_per_second=50.0,
    )
    async with started_application(service, service.settings, bs):
        api.send_text(f"/ask since:2018 outlet:Reuters {QUESTION}", chat_id=11, user_id=11)
        api.send_text("since:2030 Anything new?", chat_id=12, user_id=12)
        await api.wait_for(lambda: api.sent(11) and api.sent(12), 8, "both replies")
    text = "\n".join(m.text for m in api.sent(11))
    assert "Sanctions story 0" in text and "Sanctions story 3" in text
    for other in (1, 2, 4):
        assert f"Sanctions story {other}" not in text
    assert "No indexed article is dated 2030-01-01 or later" in api.sent(12)[0].text
