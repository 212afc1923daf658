"""The archive evaluation's harness: its questions match the articles, and a tiny slice scores end to end."""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import pytest

from bench.archive_eval import check_expectations, evaluate, load_archive_questions, render_markdown
from bench.archive_slice import ALLSIDES, REUTERS, build_sources
from bench.corpora import corpora_dir, read_records

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
    assert {q["split"] for q in questions} == {"dev", "test", "holdout"}
    assert len({q["id"] for q in questions}) == len(questions)
    test = load_archive_questions(split="test")
    assert 0 < len(test) < len(questions)
    assert all(q["split"] == "test" for q in test)
    holdout = load_archive_questions(split="holdout")
    assert len(holdout) >= 30 and sum(q["kind"] == "unanswerable" for q in holdout) >= 6
    # The holdout checks choices read off the other splits' misses, so none of its articles may be theirs.
    others = {q["expect_sources"][0] for q in questions if q["split"] != "holdout" and q["expect_sources"]}
    assert not others & {q["expect_sources"][0] for q in holdout if q["expect_sources"]}


def test_a_phrase_missing_from_its_article_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n\nThe vote was 98 to 2.\n", encoding="utf-8")
    good = {"id": "x1", "kind": "direct", "expect_sources": ["a.md"], "expect_phrases": ["98 to 2"]}
    check_expectations([good], tmp_path)
    bad = {**good, "id": "x2", "expect_phrases": ["97 to 3"]}
    with pytest.raises(ValueError, match=re.escape("x2: '97 to 3' is not in a.md")):
        check_expectations([good, bad], tmp_path)


@needs_corpora
def test_every_expected_phrase_is_in_its_article(tmp_path: Path) -> None:
    questions = load_archive_questions()
    wanted = {q["expect_sources"][0].removesuffix(".md") for q in questions if q["expect_sources"]}
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
