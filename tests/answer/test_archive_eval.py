"""The archive evaluation's harness: its questions match the articles, and a tiny slice scores end to end."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import pytest

import bench.archive_eval as archive_eval
from bench.archive_eval import (
    check_expectations,
    evaluate,
    expand_key,
    load_archive_questions,
    render_markdown,
    split_figures,
)
from bench.archive_slice import ALLSIDES, REUTERS, build_sources
from bench.corpora import corpora_dir, read_records
from bench.evaluation import score_usru

needs_corpora = pytest.mark.skipif(
    not (corpora_dir() / REUTERS).is_file(), reason="the shared corpora are not beside the repo"
)
TINY = ("r00833", "r00931", "r00899", "abp-ELIiqaF19cefDTlf", "abp-TL2XznFD68fmpSyr")


def _records(ids: set[str] | None) -> list[dict[str, Any]]:
    out = []
    for name in (REUTERS, ALLSIDES):
        out += [r for r in read_records(corpora_dir() / name) if ids is None or r["id"] in ids]
    return out


def test_question_set_has_the_kinds_and_splits_asked_for() -> None:
    questions = load_archive_questions()
    kinds = collections.Counter(q["kind"] for q in questions)
    assert len(questions) >= 150
    assert kinds["paraphrase"] >= 40 and kinds["unanswerable"] >= 30
    assert sum(q["asks"] != "none" for q in questions) >= 40
    assert {q["split"] for q in questions} == {
        "dev",
        "test",
        "holdout",
        "holdout2",
        "holdout3",
        "holdout4",
        "holdout5",
        "holdout6",
    }
    assert len({q["id"] for q in questions}) == len(questions)
    test = load_archive_questions(split="test")
    assert 0 < len(test) < len(questions)
    assert all(q["split"] == "test" for q in test)
    # The holdouts check choices read off the other splits' misses, so none of their articles may be theirs.
    for split, answerable, unanswerable in (
        ("holdout", 24, 6),
        ("holdout2", 34, 10),
        ("holdout3", 38, 12),
        ("holdout4", 38, 12),
        ("holdout5", 38, 12),
        ("holdout6", 38, 12),
    ):
        holdout = load_archive_questions(split=split)
        refusals = sum(q["kind"] == "unanswerable" for q in holdout)
        assert len(holdout) - refusals >= answerable and refusals >= unanswerable, split
        others = {q["expect_sources"][0] for q in questions if q["split"] != split and q["expect_sources"]}
        assert not others & {q["expect_sources"][0] for q in holdout if q["expect_sources"]}, split


def test_a_phrase_missing_from_its_article_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n\nThe vote was 98 to 2.\n", encoding="utf-8")
    good = {"id": "x1", "kind": "direct", "expect_sources": ["a.md"], "expect_phrases": ["98 to 2"]}
    check_expectations([good], tmp_path)
    bad = {**good, "id": "x2", "expect_phrases": ["97 to 3"]}
    with pytest.raises(ValueError, match=re.escape("x2: '97 to 3' is not in a.md")):
        check_expectations([good, bad], tmp_path)


def _article(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(f"---\ntitle: {name}\n---\n\n{body}\n", encoding="utf-8")


def test_every_article_holding_a_phrase_must_be_listed(tmp_path: Path) -> None:
    _article(tmp_path, "a.md", "Flynn served just 24 days as national security adviser.")
    _article(tmp_path, "b.md", "His tenure lasted less than four weeks.")
    _article(tmp_path, "c.md", "Flynn served just 24 days; his tenure lasted less than four weeks.")
    q = {
        "id": "x1",
        "kind": "direct",
        "expect_sources": ["a.md", "c.md"],
        "expect_phrases": ["24 days"],
        "also_sources": ["b.md"],
        "also_phrases": ["lasted less than four weeks"],
    }
    check_expectations([q], tmp_path)
    with pytest.raises(ValueError, match=re.escape("x2: b.md holds 'lasted less than four weeks'")):
        check_expectations([{**q, "id": "x2", "also_sources": []}], tmp_path)
    with pytest.raises(
        ValueError, match=re.escape("x3: c.md holds '24 days' but the question does not list")
    ):
        check_expectations(
            [{**q, "id": "x3", "expect_sources": ["a.md"], "also_sources": ["b.md", "c.md"]}], tmp_path
        )
    # An article holding the phrase where it answers nothing is named as unrelated rather than listed.
    check_expectations(
        [
            {
                **q,
                "id": "x4",
                "expect_sources": ["a.md"],
                "also_sources": ["b.md", "c.md"],
                "unrelated_sources": ["c.md"],
            }
        ],
        tmp_path,
    )
    with pytest.raises(ValueError, match=re.escape("x5: also_phrase 'four weeks in office' is in none")):
        check_expectations(
            [{**q, "id": "x5", "also_phrases": [*q["also_phrases"], "four weeks in office"]}], tmp_path
        )
    with pytest.raises(ValueError, match="x6: an unanswerable question expects no source"):
        check_expectations(
            [
                {
                    "id": "x6",
                    "kind": "unanswerable",
                    "expect_sources": [],
                    "expect_phrases": [],
                    "also_phrases": ["x"],
                }
            ],
            tmp_path,
        )


@pytest.mark.parametrize(
    "key", ["expect_sources", "expect_phrases", "also_sources", "also_phrases", "unrelated_sources"]
)
def test_a_key_given_as_a_string_rather_than_a_list_is_reported(tmp_path: Path, key: str) -> None:
    # A string would be taken character by character: "four weeks" would match any article holding an "f".
    _article(tmp_path, "a.md", "Flynn served just 24 days; his tenure lasted less than four weeks.")
    q: dict[str, Any] = {
        "id": "x1",
        "kind": "direct",
        "expect_sources": ["a.md"],
        "expect_phrases": ["24 days"],
        "also_sources": [],
        "also_phrases": ["four weeks"],
        "unrelated_sources": [],
    }
    check_expectations([q], tmp_path)
    bad = {**q, key: (q[key] or ["a.md"])[0]}
    with pytest.raises(ValueError, match=re.escape(f"x1: {key} must be a list of strings, not a str")):
        check_expectations([bad], tmp_path)


def test_the_expanded_key_counts_the_same_fact_in_other_words_and_the_strict_one_does_not(
    tmp_path: Path,
) -> None:
    _article(tmp_path, "a.md", "Flynn served just 24 days as national security adviser.")
    _article(tmp_path, "b.md", "His tenure lasted less than four weeks.")
    q = {
        "id": "x1",
        "split": "test",
        "kind": "direct",
        "question": "How long was Flynn in the job?",
        "expect_sources": ["a.md"],
        "expect_phrases": ["24 days"],
        "also_sources": ["b.md"],
        "also_phrases": ["lasted less than four weeks"],
    }
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    start = text.index("His tenure")
    quote = text[start : text.index("\n", start)]
    answer = {
        "question": q["question"],
        "status": "answered",
        "citations": [{"source": "b.md", "quote": quote, "start": start, "end": start + len(quote)}],
    }
    strict = score_usru([q], [answer], tmp_path)
    expanded = score_usru([expand_key(q)], [answer], tmp_path)
    assert (strict.hits, expanded.hits) == (0, 1) and expanded.verbatim == 1
    assert q["expect_phrases"] == ["24 days"]  # the strict key is left as it was
    result = {"usru": strict.as_dict(), "usru_expanded": expanded.as_dict()}
    assert split_figures([q], result) == {"test": {"answerable": 1, "usru": 0, "usru_expanded": 1}}
    # Scored over two splits, the table gives each split's strict and expanded figures.
    other = {**q, "id": "x2", "split": "dev", "question": "How long did Flynn serve?"}
    both = [q, other]
    answers = [answer, {**answer, "question": other["question"]}]
    result = {
        "split": "all",
        "questions": 2,
        "articles": 2,
        "usru": score_usru(both, answers, tmp_path).as_dict(),
        "usru_expanded": score_usru([expand_key(x) for x in both], answers, tmp_path).as_dict(),
    }
    result["splits"] = split_figures(both, result)
    table = "\n".join(render_markdown(result))
    assert "| 0/2 (0.0%) |" in table and "| 2/2 (100.0%) |" in table
    assert "| usru strict | usru expanded |" in table
    assert "| test (1) | 0 (0.0%) | 1 (100.0%) |" in table and "| dev (1) | 0 (0.0%) | 1 (100.0%) |" in table


@needs_corpora
def test_every_expected_phrase_is_in_its_article(tmp_path: Path) -> None:
    questions = load_archive_questions()
    wanted = {
        name.removesuffix(".md")
        for q in questions
        for key in ("expect_sources", "also_sources", "unrelated_sources")
        for name in q.get(key, [])
    }
    build_sources(tmp_path, _records(wanted))
    check_expectations(questions, tmp_path)


@pytest.mark.model
@needs_corpora
def test_tiny_slice_scores_usru_and_the_tutorial_pipeline(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    build_sources(sources, _records(set(TINY)))
    names = {f"{i}.md" for i in TINY}
    questions = [
        q for q in load_archive_questions() if q["expect_sources"][:1] and q["expect_sources"][0] in names
    ]
    questions += [q for q in load_archive_questions() if q["kind"] == "unanswerable"][:3]
    result = evaluate("all", questions=questions, sources=sources, index_dir=tmp_path / "index")
    usru, k4, k1 = result["usru"], result["tutorial_k4"], result["tutorial_k1"]
    answerable = len(questions) - 3
    assert usru["answerable"] == k4["answerable"] == k1["answerable"] == answerable
    assert usru["quotes"] > 0 and usru["verbatim_rate"] == 1.0
    assert usru["hits"] >= answerable // 2, result["usru_misses"]
    # The k=1 chunk is among the k=4 ones, so k=4 can only find more.
    assert k4["hits"] >= k1["hits"]
    assert k4["refused_unanswerable"] == 0 and k4["median_quoted_chars"] > k1["median_quoted_chars"]
    table = "\n".join(render_markdown(result))
    assert f"{usru['hits']}/{answerable}" in table and "k=1" in table
    # The expanded key only adds phrases, so no system can score lower on it.
    for key in ("usru", "tutorial_k4", "tutorial_k1"):
        assert result[f"{key}_expanded"]["hits"] >= result[key]["hits"]
        assert f"{result[f'{key}_expanded']['hits']}/{answerable}" in table


@pytest.mark.parametrize("where", ["folder", "missing"])
def test_an_out_file_that_cannot_be_written_is_one_sentence_before_any_question_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # The whole split was answered (minutes) before --out was opened, and then a traceback lost it.
    out = tmp_path if where == "folder" else tmp_path / "no" / "such" / "x.json"

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("evaluated before --out was checked")

    monkeypatch.setattr(archive_eval, "evaluate", refuse)
    with pytest.raises(SystemExit) as exc:
        archive_eval.main(["--split", "dev", "--no-peers", "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) <= 3 and "--out" in err[-1] and "Traceback" not in "".join(err)
