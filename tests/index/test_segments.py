"""Incremental indexing into segments: the merged view must equal a fresh build of the same files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from retrieval.embedding import HashingEmbedder
from retrieval.index import MAX_SEGMENTS, Index, build_index, load_index
from retrieval.lexical import tokenize
from tests.conftest import SEED_NAMES, SEEDS

TOPICS = [
    "grain exports",
    "Arctic shipping",
    "space station",
    "chess olympiad",
    "fishing quotas",
    "visa rules",
    "nuclear plants",
    "river treaty",
    "gas pipeline",
    "border crossings",
    "student exchange",
    "wildfire aid",
]


def write_synthetic(folder: Path, i: int) -> str:
    """A small article with words of its own, so questions can find it."""
    topic = TOPICS[i % len(TOPICS)]
    name = f"synthetic_{i:03d}.txt"
    (folder / name).write_text(
        f"Talks on {topic} number {i}\n\n"
        f"Officials from Moscow and Washington met to discuss {topic} in round {i} of the talks. "
        f"The delegations agreed that {topic} needed a new framework before the end of the year.\n\n"
        f"Observers said the {topic} talks were the most detailed in a decade.\n",
        encoding="utf-8",
    )
    return name


def by_source(index: Index) -> dict[str, tuple[str, list[tuple[int, int]], np.ndarray]]:
    """Each article's text, its sentence offsets and their vectors, keyed by file name."""
    out = {}
    for a in index.articles:
        rows = np.flatnonzero(index.sentences[:, 0] == a.id)
        spans = [(int(index.sentences[r, 1]), int(index.sentences[r, 2])) for r in rows]
        out[a.source] = (a.text, spans, index.sentence_vecs[rows])
    return out


def bm25_by_chunk(index: Index, question: str) -> dict[tuple[str, int], float]:
    scores = index.bm25.scores(tokenize(question))
    return {
        (index.article(int(c[0])).source, int(c[1])): round(float(scores[i]), 4)
        for i, c in enumerate(index.chunks)
    }


def assert_same_index(a: Index, b: Index) -> None:
    sa, sb = by_source(a), by_source(b)
    assert sa.keys() == sb.keys()
    for source in sa:
        assert sa[source][0] == sb[source][0]
        assert sa[source][1] == sb[source][1]
        assert np.allclose(sa[source][2], sb[source][2])
    for q in ("grain exports framework", "arms control talks", "Putin Obama Independence Day"):
        assert bm25_by_chunk(a, q) == bm25_by_chunk(b, q)
    assert a.faiss.ntotal == b.faiss.ntotal == len(a.chunks) == len(b.chunks)


def test_adding_articles_one_by_one_equals_a_fresh_build(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    for i in range(MAX_SEGMENTS + 4):  # enough to force merging
        name = write_synthetic(sources, i)
        summary = build_index(sources, index_dir, HashingEmbedder())
        assert summary.new == [name]
        assert summary.embedded_articles == 1
        manifest = load_index(index_dir).manifest
        assert len(manifest["segments"]) <= MAX_SEGMENTS
    (sources / SEED_NAMES[2]).unlink()
    (sources / "synthetic_003.txt").unlink()
    with (sources / "synthetic_005.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nA late paragraph about grain exports was added to this report.\n")
    summary = build_index(sources, index_dir, HashingEmbedder())
    assert summary.removed == sorted([SEED_NAMES[2], "synthetic_003.txt"])
    assert summary.changed == ["synthetic_005.txt"]
    assert summary.embedded_articles == 1

    fresh = tmp_path / "fresh"
    build_index(sources, fresh, HashingEmbedder())
    assert_same_index(load_index(index_dir), load_index(fresh))


def test_deleted_articles_leave_the_merged_view_and_old_segments_are_removed(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    for i in range(MAX_SEGMENTS * 2):
        write_synthetic(sources, i)
        build_index(sources, index_dir, HashingEmbedder())
    for name in SEED_NAMES:
        (sources / name).unlink()
    build_index(sources, index_dir, HashingEmbedder())
    index = load_index(index_dir)
    assert not {a.source for a in index.articles} & set(SEED_NAMES)
    assert int(index.chunks[:, 0].max()) == len(index.articles) - 1
    # Only segments that one of the kept versions lists are left on disk.
    listed = set()
    for version in (index_dir / "versions").iterdir():
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        listed |= {s["name"] for s in manifest["segments"]}
    assert {p.name for p in (index_dir / "segments").iterdir()} == listed


def test_an_unchanged_file_is_not_even_read_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    import retrieval.index.changes as changes

    reads: list[str] = []
    real = changes.read_article

    def counting(path: Path, source: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(path.name)
        return real(path, source, **kwargs)

    monkeypatch.setattr(changes, "read_article", counting)
    write_synthetic(sources, 1)
    build_index(sources, index_dir, HashingEmbedder())
    assert reads == ["synthetic_001.txt"]


def test_targeted_updates_equal_a_fresh_build(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    (sources / "copy.txt").write_bytes((sources / SEED_NAMES[0]).read_bytes())
    build_index(sources, index_dir, HashingEmbedder())
    names = [write_synthetic(sources, i) for i in range(3)]
    summary = build_index(sources, index_dir, HashingEmbedder(), paths=[sources / n for n in names])
    assert (summary.new, summary.embedded_articles) == (names, 3)
    # Deleting the original through a targeted update brings its duplicate back as an article.
    (sources / SEED_NAMES[0]).unlink()
    (sources / names[1]).unlink()
    summary = build_index(
        sources,
        index_dir,
        HashingEmbedder(),
        paths=[sources / SEED_NAMES[0], sources / names[1], tmp_path / "x.txt"],
    )
    assert summary.removed == sorted([SEED_NAMES[0], names[1]])
    assert "copy.txt" in {a.source for a in load_index(index_dir).articles}

    fresh = tmp_path / "fresh"
    build_index(sources, fresh, HashingEmbedder())
    assert_same_index(load_index(index_dir), load_index(fresh))


def test_a_targeted_update_reads_only_the_named_files(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sources = tmp_path / "src"
    shutil.copytree(SEEDS, sources)
    index_dir = tmp_path / "idx"
    build_index(sources, index_dir, HashingEmbedder())
    import retrieval.index.changes as changes

    scanned: list[Path] = []
    real_scan = changes.scan
    monkeypatch.setattr(changes, "scan", lambda folder: scanned.append(folder) or real_scan(folder))
    name = write_synthetic(sources, 9)
    summary = build_index(sources, index_dir, HashingEmbedder(), paths=[sources / name])
    assert summary.new == [name] and summary.articles == 6
    assert scanned == []  # the folder was not listed
