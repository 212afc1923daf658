"""Links out of the sources folder: nothing outside it is ever read, indexed or quoted."""

from __future__ import annotations

import os
from pathlib import Path

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.service import build_service
from tests.conftest import SEED_NAMES, hashing_settings_for

SECRET = "root:x:0:0:the secret line that lives outside the sources folder:/root:/bin/bash\n"


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "passwd.txt").write_text(SECRET * 3, encoding="utf-8")
    return folder


def _indexed_text(index_dir: Path) -> str:
    return "\n".join(a.text for a in load_index(index_dir).articles)


def test_a_link_to_a_file_outside_is_skipped_with_its_reason(corpus: Path, tmp_path: Path) -> None:
    os.symlink(_outside(tmp_path) / "passwd.txt", corpus / "passwd.txt")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.skipped == [("passwd.txt", "it is a link to a file outside the sources folder")]
    assert "secret line" not in _indexed_text(tmp_path / "idx")
    answer = build_service(hashing_settings_for(corpus, tmp_path / "idx")).answer("What is the secret line?")
    assert all("secret" not in c.quote for c in answer.citations)


def test_a_link_to_a_folder_outside_is_not_walked(corpus: Path, tmp_path: Path) -> None:
    os.symlink(_outside(tmp_path), corpus / "private")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.skipped == [("private/", "it is a link to a folder outside the sources folder")]
    assert sorted(a.source for a in load_index(tmp_path / "idx").articles) == sorted(SEED_NAMES)


def test_a_link_inside_the_folder_is_still_read(corpus: Path, tmp_path: Path) -> None:
    (corpus / "sub").mkdir()
    (corpus / "sub" / "real.txt").write_text("Envoys met in Vienna on Tuesday to talk.\n", encoding="utf-8")
    os.symlink(corpus / "sub" / "real.txt", corpus / "alias.txt")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.skipped == []
    assert "Envoys met in Vienna" in _indexed_text(tmp_path / "idx")


def test_a_file_turned_into_an_outside_link_is_removed_not_kept(corpus: Path, tmp_path: Path) -> None:
    build_index(corpus, tmp_path / "idx", HashingEmbedder())
    victim = corpus / SEED_NAMES[0]
    victim.unlink()
    os.symlink(_outside(tmp_path) / "passwd.txt", victim)
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.skipped == [(SEED_NAMES[0], "it is a link to a file outside the sources folder")]
    assert SEED_NAMES[0] not in {a.source for a in load_index(tmp_path / "idx").articles}
    assert "secret line" not in _indexed_text(tmp_path / "idx")


def test_the_watcher_path_refuses_an_outside_link_too(corpus: Path, tmp_path: Path) -> None:
    build_index(corpus, tmp_path / "idx", HashingEmbedder())
    link = corpus / "passwd.txt"
    os.symlink(_outside(tmp_path) / "passwd.txt", link)
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder(), paths=[link])
    assert summary.skipped == [("passwd.txt", "it is a link to a file outside the sources folder")]
    assert "secret line" not in _indexed_text(tmp_path / "idx")


def test_a_fifo_is_refused_without_hanging(corpus: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    os.symlink(tmp_path / "pipe", corpus / "pipe.txt")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert [name for name, _ in summary.skipped] == ["pipe.txt"]


def test_a_pipe_named_like_an_article_is_listed_as_skipped_and_never_opened(
    corpus: Path, tmp_path: Path
) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the run would hang, not fail.
    os.mkfifo(corpus / "pipe.md")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.skipped == [("pipe.md", "it is not a regular file (a pipe, socket or device)")]
    assert sorted(a.source for a in load_index(tmp_path / "idx").articles) == sorted(SEED_NAMES)
