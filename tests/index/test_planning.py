"""Planning a long update keeps one batch of decoded articles; the rest are read again per batch (issue 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, building, changes, durability, load_index
from retrieval.index.changes import FileCache, LiveArticles
from tests.conftest import copy_seeds
from tests.index.test_resume import CountingEmbedder, write_articles


def plan_folder(sources: Path, index_dir: Path) -> changes.Plan:
    index_dir.mkdir(parents=True, exist_ok=True)
    live, cache = LiveArticles(index_dir), FileCache(index_dir / "filecache.sqlite")
    try:
        return building.plan_sources(sources, None, live, False, cache, None, None, False)
    finally:
        cache.close()
        live.close()


def test_a_plan_keeps_only_the_first_articles_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    write_articles(sources, 7)
    monkeypatch.setattr(changes, "KEEP_DECODED", 2)
    plan = plan_folder(sources, tmp_path / "plan")
    assert len(plan.added) == 12
    assert [p.article is not None for p in plan.added] == [True, True] + [False] * 10
    # What is read again is the article planned.
    again = changes.read_planned(sources, plan, plan.added)
    assert [a.source for a in again] == [p.source for p in plan.added]
    assert [a.content_hash for a in again] == [p.content_hash for p in plan.added]
    assert not plan.skipped


def test_an_index_built_from_reread_articles_is_the_one_built_from_kept_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    write_articles(sources, 7)
    monkeypatch.setattr(building, "BATCH_ARTICLES", 3)
    kept = build_index(sources, tmp_path / "kept", HashingEmbedder())
    monkeypatch.setattr(changes, "KEEP_DECODED", 1)
    reread = build_index(sources, tmp_path / "reread", HashingEmbedder())
    assert (reread.articles, reread.chunks, reread.sentences) == (kept.articles, kept.chunks, kept.sentences)
    a, b = load_index(tmp_path / "kept"), load_index(tmp_path / "reread")
    assert [(x.source, x.text, x.title, x.date) for x in a.articles] == [
        (x.source, x.text, x.title, x.date) for x in b.articles
    ]
    assert len(a.sentences.rows) == len(b.sentences.rows)
    for i in range(len(a.sentences.rows)):
        np.testing.assert_array_equal(a.sentence_vecs[i], b.sentence_vecs[i])


def test_a_file_changed_or_removed_while_indexing_is_taken_as_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    extra = write_articles(sources, 7)
    index_dir = tmp_path / "index"
    monkeypatch.setattr(building, "BATCH_ARTICLES", 3)
    monkeypatch.setattr(changes, "KEEP_DECODED", 0)
    changed, removed = sources / extra[1], sources / extra[4]

    def edit_after_planning(step: str) -> None:
        if step == "read":
            changed.write_text(
                changed.read_text(encoding="utf-8") + "\nA closing line added late.\n", "utf-8"
            )
            removed.unlink()

    monkeypatch.setattr(durability, "checkpoint", edit_after_planning)
    summary = build_index(sources, index_dir, HashingEmbedder())

    assert summary.articles == 11 and summary.embedded_articles == 11
    assert [s for s, _ in summary.skipped] == [removed.name]
    assert "changed while it was being indexed" in summary.skipped[0][1]
    index = load_index(index_dir)
    article = index.article_by_source(changed.name)
    assert article is not None and "A closing line added late." in article.text
    assert index.article_by_source(removed.name) is None

    # The file cache holds what was indexed: the next run reads nothing again and embeds nothing.
    monkeypatch.setattr(durability, "checkpoint", lambda step: None)
    embedder = CountingEmbedder()
    again = build_index(sources, index_dir, embedder)
    assert again.version == summary.version and again.embedded_articles == 0 and not embedder.texts


def test_editing_an_article_with_a_duplicate_keeps_the_duplicates_words(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    original = sorted(sources.iterdir())[0]
    copy = sources / "zz_copy.md"
    copy.write_bytes(original.read_bytes())
    index_dir = tmp_path / "index"
    first = build_index(sources, index_dir, HashingEmbedder())
    assert ("zz_copy.md", original.name) in first.duplicates
    original.write_text("A different report on a giraffe treaty signed in Tallinn.\n", encoding="utf-8")

    build_index(sources, index_dir, HashingEmbedder())

    index = load_index(index_dir)
    kept = index.article_by_source("zz_copy.md")
    edited = index.article_by_source(original.name)
    assert kept is not None and edited is not None
    assert "giraffe" in edited.text and "giraffe" not in kept.text
    assert build_index(sources, index_dir, HashingEmbedder()).embedded_articles == 0


def test_a_changed_file_that_goes_bad_while_indexing_keeps_its_indexed_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    extra = write_articles(sources, 4)
    index_dir = tmp_path / "index"
    build_index(sources, index_dir, HashingEmbedder())
    target = sources / extra[2]
    target.write_text(target.read_text(encoding="utf-8") + "\nA late line.\n", encoding="utf-8")
    monkeypatch.setattr(changes, "KEEP_DECODED", 0)

    def empty_after_planning(step: str) -> None:
        if step == "read":
            target.write_text("", encoding="utf-8")

    monkeypatch.setattr(durability, "checkpoint", empty_after_planning)
    summary = build_index(sources, index_dir, HashingEmbedder())

    assert summary.articles == 9 and summary.changed == [] and summary.removed == []
    assert [s for s, _ in summary.skipped] == [target.name]
    assert "kept the version indexed before" in summary.skipped[0][1]
    article = load_index(index_dir).article_by_source(target.name)
    assert article is not None and "Quillvane" in article.text
