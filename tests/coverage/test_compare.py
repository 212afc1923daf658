"""`compare`: the leaning stored in the index, one group per leaning, verbatim quotes, ask's refusals."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from retrieval import api
from retrieval.errors import QuestionError, UsruError
from retrieval.filters import make_filters
from retrieval.leanings import UNRATED, Leanings, load_leanings, normalise_label, order_labels
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for
from tests.coverage.conftest import record_id
from tests.support.corpus import assert_verbatim

HELSINKI = "What did Trump and Putin say at the Helsinki summit?"


def test_the_index_keeps_each_imported_articles_leaning(
    slice_service: AnsweringService, slice_records: list[dict[str, Any]]
) -> None:
    bias = {r["id"]: r["bias"] for r in slice_records}
    listed = slice_service.list_articles()
    assert len(listed) == len(slice_records)
    assert {a.source: a.leaning for a in listed} == {a.source: bias[record_id(a.source)] for a in listed}


def test_compare_quotes_each_leaning_verbatim_from_its_own_outlets(
    slice_service: AnsweringService, slice_records: list[dict[str, Any]]
) -> None:
    comparison = api.compare_leanings(slice_service, HELSINKI)
    assert comparison.status == "answered"
    assert [g.leaning for g in comparison.groups] == ["left", "center", "right"]
    assert {g.leaning: g.articles for g in comparison.groups} == Counter(r["bias"] for r in slice_records)
    quoted = 0
    for group in comparison.groups:
        assert len(group.citations) <= 2
        assert_verbatim(slice_service, group.citations)
        for c in group.citations:
            article = slice_service.index.article_by_source(c.source)
            assert article is not None and article.leaning == group.leaning
            assert article.text[c.start : c.end] == c.quote
            assert (c.publisher, c.date) == (article.publisher, article.date)
        quoted += len(group.citations)
    assert quoted >= 3


def test_compare_json_has_one_group_per_leaning(slice_service: AnsweringService) -> None:
    data = api.compare_leanings(slice_service, HELSINKI, per_leaning=1).to_dict()
    assert [g["leaning"] for g in data["groups"]] == ["left", "center", "right"]
    for g in data["groups"]:
        assert g["status"] in ("answered", "not_found")
        assert len(g["citations"]) == (1 if g["status"] == "answered" else 0)
        assert {"quote", "publisher", "date", "source", "start", "end"} <= set(
            g["citations"][0] if g["citations"] else {"quote", "publisher", "date", "source", "start", "end"}
        )


def test_compare_refuses_what_ask_refuses(slice_service: AnsweringService) -> None:
    question = "Who wrote War and Peace?"
    assert slice_service.answer(question).status == "not_found"
    comparison = api.compare_leanings(slice_service, question)
    assert comparison.status == "not_found"
    assert all(g.answer.status == "not_found" and not g.citations for g in comparison.groups)


def test_a_leaning_with_nothing_relevant_says_so(tmp_path: Path, corpus: Path) -> None:
    # The seeds (about US–Russia relations) are one leaning; the other has only a football report.
    (corpus / "football.md").write_text(
        "---\ntitle: Cup final\npublisher: Sports Gazette\ndate: 2018-07-15\nleaning: right\n---\n\n"
        "The home side won the cup final on penalties after a goalless draw in front of a full stadium.\n\n"
        "Their goalkeeper saved two spot kicks, and the captain lifted the trophy in the rain.\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "leanings.yaml"
    publishers = {
        p
        for p in (
            a.publisher for a in build_service(hashing_settings_for(corpus, tmp_path / "i0")).index.articles
        )
        if p and p != "Sports Gazette"
    }
    mapping.write_text("".join(f"{p}: left\n" for p in sorted(publishers)), encoding="utf-8")
    settings = hashing_settings_for(corpus, tmp_path / "idx").model_copy(update={"leanings_file": mapping})
    service = build_service(settings)
    question = "Is Russia ready to resume arms control talks?"
    assert service.answer(question).status == "answered"
    comparison = api.compare_leanings(service, question)
    groups = {g.leaning: g for g in comparison.groups}
    assert comparison.status == "answered" and groups["left"].citations
    assert groups["right"].answer.status == "not_found" and not groups["right"].citations
    assert groups["right"].articles == 1
    assert_verbatim(service, groups["left"].citations)


def test_empty_and_filtered_out_questions_are_one_sentence(slice_service: AnsweringService) -> None:
    with pytest.raises(QuestionError):
        api.compare_leanings(slice_service, "   ")
    with pytest.raises(QuestionError, match="No indexed article"):
        api.compare_leanings(slice_service, HELSINKI, filters=make_filters(since="2019"))


def test_unknown_outlets_are_unrated_and_the_mapping_file_fills_in(tmp_path: Path, corpus: Path) -> None:
    service = build_service(hashing_settings_for(corpus, tmp_path / "idx"))
    publishers = sorted({a.publisher for a in service.index.articles if a.publisher})
    assert not any(a.leaning for a in service.index.articles)  # the seeds state none
    comparison = api.compare_leanings(service, "sanctions")
    assert [g.leaning for g in comparison.groups] == [UNRATED] and comparison.all_unrated
    mapping = tmp_path / "leanings.yaml"
    mapping.write_text(f"{publishers[0].upper()}: Lean-Left\nSomebody Else: right\n", encoding="utf-8")
    service.settings = service.settings.model_copy(update={"leanings_file": mapping})
    counts = {g.leaning: g.articles for g in api.compare_leanings(service, "sanctions").groups}
    expected = Counter(
        "lean left" if a.publisher == publishers[0] else UNRATED for a in service.index.articles
    )
    assert counts == dict(expected) and counts["lean left"] >= 1


def test_leaning_labels_read_from_front_matter_mapping_or_unrated() -> None:
    class Row:
        def __init__(self, publisher: str | None, leaning: str | None) -> None:
            self.publisher, self.leaning = publisher, leaning

    leanings = Leanings({"reuters": "center"})
    assert leanings.of(Row("Reuters", None)) == "center"
    assert leanings.of(Row("Reuters", " Lean  Right ")) == "lean right"
    assert leanings.of(Row("Unknown Daily", None)) == UNRATED
    assert leanings.of(Row(None, None)) == UNRATED
    assert normalise_label("\x1b[31mleft") == "[31mleft"  # no control character reaches a terminal
    assert order_labels(["unrated", "right", "tass", "left", "center"]) == [
        "left",
        "center",
        "right",
        "tass",
        "unrated",
    ]


@pytest.mark.parametrize("content", ["- just\n- a list\n", "a: [unclosed\n"])
def test_a_bad_mapping_file_is_one_sentence(tmp_path: Path, content: str) -> None:
    path = tmp_path / "leanings.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsruError, match="leanings file"):
        load_leanings(path)
    with pytest.raises(UsruError, match="Cannot read"):
        load_leanings(tmp_path / "missing.yaml")


def test_a_segment_written_before_leanings_were_stored_still_loads(tmp_path: Path, corpus: Path) -> None:
    import json
    import sqlite3

    from retrieval.index import load_index

    (corpus / "rated.md").write_text(
        "---\ntitle: Talks\npublisher: Daily Example\nleaning: right\n---\n\n"
        "Officials from both countries met in Geneva to discuss arms control on Tuesday afternoon.\n",
        encoding="utf-8",
    )
    settings = hashing_settings_for(corpus, tmp_path / "idx")
    assert {a.leaning for a in build_service(settings).index.articles} == {None, "right"}
    (segment,) = (tmp_path / "idx" / "segments").iterdir()
    con = sqlite3.connect(segment / "articles.sqlite")
    con.execute("ALTER TABLE articles DROP COLUMN leaning")
    con.commit()
    con.execute("VACUUM")
    con.close()
    meta = json.loads((segment / "segment.json").read_text(encoding="utf-8"))
    meta["files"]["articles.sqlite"] = (segment / "articles.sqlite").stat().st_size
    (segment / "segment.json").write_text(json.dumps(meta), encoding="utf-8")
    index = load_index(tmp_path / "idx")
    assert len(index.articles) == 6 and all(a.leaning is None for a in index.articles)
