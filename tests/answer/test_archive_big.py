"""The whole-corpus archive bench: slice names mapped to `usru import`'s, and what it counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.archive_big import (
    allsides_questions,
    check_phrases,
    main,
    map_question,
    open_service,
    quoted_anywhere,
    source_names,
)


def _imported(root: Path) -> Path:
    """A sources folder as `usru import` writes the AllSides corpus, with a Reuters-like file beside it."""
    folder = root / "imported" / "allsides-2014-2019"
    folder.mkdir(parents=True)
    (folder / "abp-AbC123-0123456789abcdef.md").write_text(
        "---\ntitle: t\n---\n\nObama expelled 35 diplomats.\n"
    )
    (folder / "abp-XyZ9-fedcba9876543210.md").write_text("---\ntitle: u\n---\n\nOther text.\n")
    (root / "r00001.md").write_text("Reuters text.\n")
    return root


def test_slice_names_map_to_the_imported_files_by_record_id(tmp_path: Path) -> None:
    names = source_names(_imported(tmp_path))
    assert names == {
        "abp-AbC123.md": "imported/allsides-2014-2019/abp-AbC123-0123456789abcdef.md",
        "abp-XyZ9.md": "imported/allsides-2014-2019/abp-XyZ9-fedcba9876543210.md",
    }
    q = {
        "id": "d1",
        "kind": "direct",
        "question": "How many?",
        "expect_sources": ["abp-AbC123.md"],
        "also_sources": ["r00001.md", "abp-XyZ9.md"],
        "expect_phrases": ["35 diplomats"],
    }
    mapped = map_question(q, names)
    assert mapped["expect_sources"] == [names["abp-AbC123.md"]]
    # A Reuters article is not in the AllSides corpus: dropped, not kept under a name no file has.
    assert mapped["also_sources"] == [names["abp-XyZ9.md"]]
    check_phrases([mapped], tmp_path)
    with pytest.raises(ValueError, match="'36 diplomats' is not in"):
        check_phrases([{**mapped, "expect_phrases": ["36 diplomats"]}], tmp_path)


def test_only_allsides_answerables_and_the_unanswerables_are_asked() -> None:
    questions = [
        {"id": "a", "kind": "direct", "expect_sources": ["abp-AbC123.md"]},
        {"id": "r", "kind": "direct", "expect_sources": ["r00001.md"]},
        {"id": "u", "kind": "unanswerable", "expect_sources": []},
    ]
    assert [q["id"] for q in allsides_questions(questions)] == ["a", "u"]


def test_a_phrase_quoted_from_any_article_counts_apart_from_the_key() -> None:
    q = {"id": "c11", "kind": "direct", "expect_phrases": ["lying to the FBI"], "also_phrases": ["lied"]}
    other_outlet = {
        "citations": [{"source": "elsewhere.md", "quote": "He pleaded guilty to lying to the FBI."}]
    }
    also = {"citations": [{"source": "elsewhere.md", "quote": "Gates lied, he said."}]}
    nothing = {"citations": [{"source": "elsewhere.md", "quote": "Gates met Manafort."}]}
    unanswerable = {**q, "id": "u", "kind": "unanswerable"}
    assert quoted_anywhere([q, q, q, unanswerable], [other_outlet, also, nothing, other_outlet]) == [
        "c11",
        "c11",
    ]


def test_no_index_is_built_where_there_is_none(tmp_path: Path) -> None:
    # The whole-corpus index is shared and read-only: the bench opens one, never builds or updates one.
    with pytest.raises(SystemExit, match="no index there"):
        open_service(_imported(tmp_path), tmp_path / "idx")
    assert not (tmp_path / "idx").exists()


@pytest.mark.parametrize("flag", ["--sources", "--index"])
def test_a_missing_folder_is_a_usage_error_not_a_traceback(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = {"--sources": tmp_path, "--index": tmp_path, flag: tmp_path / "nosuch"}
    with pytest.raises(SystemExit) as exit_:
        main([arg for pair in folders.items() for arg in (pair[0], str(pair[1]))])
    assert exit_.value.code == 2
    assert f"{flag} {tmp_path / 'nosuch'}: no such folder" in capsys.readouterr().err


def test_folders_without_the_archive_are_a_usage_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "idx").mkdir()
    with pytest.raises(SystemExit) as exit_:
        main(["--sources", str(tmp_path / "src"), "--index", str(tmp_path / "idx")])
    assert exit_.value.code == 2
    assert "articles are not there" in capsys.readouterr().err
