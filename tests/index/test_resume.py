"""A long update killed part-way keeps its finished segments; the next run takes them up (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder, Vectors
from retrieval.index import build_index, building, current_version, load_index
from tests.conftest import copy_seeds

ROOT = Path(__file__).resolve().parents[2]
BATCH = 3
# Builds with batches of BATCH articles; USRU_TEST_CRASH_AT=batch:N kills it (SIGKILL) after N segments.
BUILD = f"""
import sys
from pathlib import Path
from retrieval.embedding import HashingEmbedder
from retrieval.index import building
building.BATCH_ARTICLES = {BATCH}
building.build_index(Path(sys.argv[1]), Path(sys.argv[2]), HashingEmbedder())
"""


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, recording every text it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.texts.extend(texts)
        return super().embed_documents(texts)


def write_articles(folder: Path, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"extra_{i:02d}.md"
        (folder / name).write_text(
            f"---\ntitle: Report {i} on the Quillvane talks\n---\n\n"
            f"Delegates from Brakkenfold number {i} met the Ostermire board for the {i}th round of talks. "
            f"They agreed that article {i} of the water treaty would be read again before the autumn.\n",
            encoding="utf-8",
        )
        names.append(name)
    return names


def run_build(sources: Path, index_dir: Path, crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("USRU_TEST_CRASH_AT", None)
    if crash_at:
        env["USRU_TEST_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", BUILD, str(sources), str(index_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_killed_long_update_keeps_its_segments_and_the_next_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    index_dir = tmp_path / "index"
    first = build_index(sources, index_dir, HashingEmbedder())
    live_before = load_index(index_dir)
    extra = write_articles(sources, 10)  # four batches of BATCH

    crashed = run_build(sources, index_dir, "batch:2")

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    # The last complete version stays live, unchanged.
    assert current_version(index_dir) == first.version
    assert [a.source for a in load_index(index_dir).articles] == [a.source for a in live_before.articles]
    journal = json.loads((index_dir / "pending.json").read_text(encoding="utf-8"))
    assert len(journal["segments"]) == 2
    for name in journal["segments"]:
        assert (index_dir / "segments" / name / "segment.json").is_file()

    monkeypatch.setattr(building, "BATCH_ARTICLES", BATCH)
    embedder = CountingEmbedder()
    summary = build_index(sources, index_dir, embedder)

    # The killed run's two batches count as reused, not embedded (a18: a resumed run said 'embedded 195, reused 0').
    assert summary.articles == 5 + len(extra) and summary.embedded_articles == len(extra) - 2 * BATCH
    assert summary.reused_articles == 5 + 2 * BATCH
    assert not (index_dir / "pending.json").exists()
    index = load_index(index_dir)
    assert sorted(a.source for a in index.articles) == sorted(
        [*(a.source for a in live_before.articles), *extra]
    )
    # Only the articles the killed run had not finished were embedded again: 2 batches of 3 were kept.
    titles = {t for t in embedder.texts if t.startswith("Report ")}
    assert len(titles) == len(extra) - 2 * BATCH
    # The resumed index holds the same vectors as one built in a single run.
    fresh_dir = tmp_path / "fresh"
    build_index(sources, fresh_dir, HashingEmbedder())
    fresh = load_index(fresh_dir)
    for source in extra:
        a, b = index.article_by_source(source), fresh.article_by_source(source)
        assert a is not None and b is not None and a.text == b.text
    got = {
        index.articles[int(r[0])].source + str(r[1]): index.sentence_vecs[i]
        for i, r in enumerate(index.sentences.rows)
    }
    want = {
        fresh.articles[int(r[0])].source + str(r[1]): fresh.sentence_vecs[i]
        for i, r in enumerate(fresh.sentences.rows)
    }
    assert got.keys() == want.keys()
    for key, vec in want.items():
        np.testing.assert_allclose(got[key], vec, atol=1e-6)


def test_a_changed_file_is_not_taken_from_the_killed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "sources")
    index_dir = tmp_path / "index"
    extra = write_articles(sources, 7)
    crashed = run_build(sources, index_dir, "batch:1")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert current_version(index_dir) is None  # nothing was live yet, and still nothing is
    taken = sorted(sources.iterdir())[0].name  # the first batch holds the first files in order
    (sources / taken).write_text(
        (sources / taken).read_text(encoding="utf-8") + "\n\nA new closing line was added.\n",
        encoding="utf-8",
    )

    monkeypatch.setattr(building, "BATCH_ARTICLES", BATCH)
    build_index(sources, index_dir, CountingEmbedder())

    index = load_index(index_dir)
    assert len(index.articles) == 5 + len(extra)
    article = index.article_by_source(taken)
    assert article is not None and "A new closing line was added." in article.text
