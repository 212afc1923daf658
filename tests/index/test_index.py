"""The index on disk: versions, reuse of unchanged vectors, skipped files, the lock, damage, no pickle."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder, Vectors
from retrieval.errors import IndexError_, IndexLockedError, SourcesError
from retrieval.index import (
    FORMAT_VERSION,
    KEEP_VERSIONS,
    build_index,
    current_version,
    index_lock,
    load_index,
)
from retrieval.index.vectors import SENTENCE_MEAN, TWO_PASSES
from tests.conftest import SEED_NAMES, SEEDS

REPO = Path(__file__).resolve().parents[2]
SEGMENT_FILES = {
    "segment.json",
    "articles.sqlite",
    "chunks.faiss",
    "sentence_vecs.npy",
    "chunks.npy",
    "sentences.npy",
    "bm25_offsets.npy",
    "bm25_doc_ids.npy",
    "bm25_tfs.npy",
    "bm25_doc_lens.npy",
    "bm25_vocab.json",
}


class CountingEmbedder:
    """The hashing embedder, recording every text it is asked to embed for the index."""

    def __init__(self) -> None:
        self._inner = HashingEmbedder()
        self.name = self._inner.name
        self.dim = self._inner.dim
        self.calls = 0
        self.texts: list[str] = []

    def embed_documents(self, texts: list[str]) -> Vectors:
        self.calls += 1
        self.texts.extend(texts)
        return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self._inner.embed_query(text)


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / "versions").iterdir())


def live_folder(index_dir: Path) -> Path:
    version = current_version(index_dir)
    assert version is not None
    return index_dir / "versions" / version


def live_segment(index_dir: Path) -> Path:
    """The newest segment of the live version, where its data files are."""
    manifest = json.loads((live_folder(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    return index_dir / "segments" / manifest["segments"][-1]["name"]


def chunk_vectors(index_dir: Path) -> np.ndarray:
    index = load_index(index_dir)
    return np.asarray(index.faiss.reconstruct_n(0, index.faiss.ntotal))


@pytest.fixture
def built(corpus: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The seed copy indexed once; returns (sources, index_dir)."""
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, HashingEmbedder())
    return corpus, index_dir


# ---------------------------------------------------------------------------- building and versions


def test_first_build_writes_a_version_manifest_and_current(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    embedder = CountingEmbedder()
    summary = build_index(corpus, index_dir, embedder, vectors=TWO_PASSES)

    assert summary.version == "v000001"
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip() == summary.version
    assert versions(index_dir) == ["v000001"]
    folder = index_dir / "versions" / "v000001"
    # One segment, nothing deleted: no merged postings (merged_bm25.py), only the article rows.
    assert {p.name for p in folder.iterdir()} == {"manifest.json", "articles.json"}
    assert {p.name for p in live_segment(index_dir).iterdir()} == SEGMENT_FILES

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT_VERSION
    assert manifest["version"] == "v000001"
    assert manifest["embedding_model"] == "hashing"
    assert manifest["dim"] == embedder.dim
    assert manifest["articles"] == summary.articles == 5
    assert manifest["chunks"] == summary.chunks > 5
    assert manifest["sentences"] == summary.sentences > summary.chunks

    assert summary.new == SEED_NAMES
    assert (summary.changed, summary.removed, summary.skipped) == ([], [], [])
    assert (summary.embedded_articles, summary.reused_articles) == (5, 0)
    # Every chunk and every quotable sentence; sentences too short to quote are not embedded (issue 16.9).
    quotable = int(load_index(index_dir).sentences[:, 3].sum())
    assert len(embedder.texts) == summary.chunks + quotable < summary.chunks + summary.sentences

    index = load_index(index_dir)
    assert index.version == "v000001"
    assert [a.source for a in index.list_articles()] == SEED_NAMES
    assert sum(a.chunks for a in index.list_articles()) == summary.chunks
    for article in index.articles:
        assert article.text == (corpus / article.source).read_text(encoding="utf-8")


def test_second_run_reuses_every_vector_without_embedding(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    first = load_index(index_dir)
    embedder = CountingEmbedder()
    summary = build_index(sources, index_dir, embedder)

    assert embedder.calls == 0 and embedder.texts == []
    # Nothing changed, so no new version is written: the live one stays (issue 15).
    assert summary.version == "v000001"
    assert sorted(p.name for p in (index_dir / "versions").iterdir()) == ["v000001"]
    assert (summary.embedded_articles, summary.reused_articles) == (0, 5)
    assert (summary.new, summary.changed, summary.removed) == ([], [], [])
    second = load_index(index_dir)
    assert second.version == "v000001"
    assert np.array_equal(second.sentence_vecs, first.sentence_vecs)
    assert np.array_equal(
        second.faiss.reconstruct_n(0, second.faiss.ntotal), first.faiss.reconstruct_n(0, first.faiss.ntotal)
    )
    assert np.array_equal(second.chunks, first.chunks)
    # Nothing was rewritten: the new version lists the very same segment.
    assert second.manifest["segments"] == first.manifest["segments"]


def test_changing_one_article_re_embeds_only_it(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    build_index(sources, index_dir, HashingEmbedder(), vectors=TWO_PASSES)  # the scheme counted below
    changed = sources / SEED_NAMES[2]
    added = "Diplomats in Moscow said a new round of talks on strategic stability could start in the autumn."
    changed.write_text(
        changed.read_text(encoding="utf-8").replace(
            "is largely holding.", "is largely holding.\n\n" + added, 1
        ),
        encoding="utf-8",
    )
    embedder = CountingEmbedder()
    summary = build_index(sources, index_dir, embedder, vectors=TWO_PASSES)

    assert summary.changed == [SEED_NAMES[2]]
    assert (summary.new, summary.removed) == ([], [])
    assert (summary.embedded_articles, summary.reused_articles) == (1, 4)
    index = load_index(index_dir)
    aid = index.article_by_source(SEED_NAMES[2])
    assert aid is not None
    own_chunks = int((index.chunks[:, 0] == aid.id).sum())
    own_sentences = int((index.sentences[:, 0] == aid.id).sum())
    assert len(embedder.texts) == own_chunks + own_sentences
    assert added in embedder.texts
    # Every embedded text is one of the changed article's sentences or one of its chunks (title first).
    inside = [t for t in embedder.texts if t in aid.text]
    assert len(inside) >= own_sentences
    assert all(t in aid.text or t.startswith(f"{aid.title}\n") for t in embedder.texts)
    starts = [int(s[1]) for s in index.sentences if int(s[0]) == aid.id]
    assert aid.text.index(added) in starts


def test_deleting_one_article_reports_it_removed(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    (sources / SEED_NAMES[0]).unlink()
    embedder = CountingEmbedder()
    summary = build_index(sources, index_dir, embedder)
    assert summary.removed == [SEED_NAMES[0]]
    assert summary.articles == 4
    assert (summary.embedded_articles, summary.reused_articles) == (0, 4)
    assert embedder.calls == 0
    index = load_index(index_dir)
    assert index.article_by_source(SEED_NAMES[0]) is None
    assert [a.source for a in index.articles] == SEED_NAMES[1:]


def test_a_new_article_is_reported_new(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    (sources / "sub").mkdir()
    (sources / "sub" / "extra.md").write_text(
        "Talks resume\n\nRussian and American diplomats resumed talks on arms control in Geneva on Monday, "
        "officials said.\n",
        encoding="utf-8",
    )
    summary = build_index(sources, index_dir, CountingEmbedder())
    assert summary.new == ["sub/extra.md"]
    assert (summary.embedded_articles, summary.reused_articles) == (1, 5)


def binary_file(path: Path) -> None:
    path.write_bytes(b"\x00\x01\x02GIF89a" + bytes(range(256)) * 8)


def impossible_front_matter_date(path: Path) -> None:
    path.write_text(
        "---\ndate: 2021-02-30\n---\nA headline\n\nRussian and American diplomats met in Geneva on Monday "
        "to talk about arms control, officials said.\n",
        encoding="utf-8",
    )


def empty_file(path: Path) -> None:
    path.write_text("\n \n", encoding="utf-8")


@pytest.mark.parametrize(
    ("write_bad", "reason"),
    [(binary_file, "binary"), (empty_file, "empty"), (impossible_front_matter_date, "date")],
    ids=["binary", "empty", "impossible-front-matter-date"],
)
def test_a_bad_file_is_skipped_with_a_reason_and_the_rest_indexed(
    corpus: Path, tmp_path: Path, write_bad: Callable[[Path], None], reason: str
) -> None:
    write_bad(corpus / "bad.txt")
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert [s for s, _ in summary.skipped] == ["bad.txt"]
    assert reason in summary.skipped[0][1]
    assert summary.articles == 5
    assert [a.source for a in load_index(tmp_path / "idx").articles] == SEED_NAMES


def test_other_files_and_hidden_folders_are_ignored(corpus: Path, tmp_path: Path) -> None:
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "draft.txt").write_text(
        "Draft\n\nA draft sentence that should never be indexed at all.\n"
    )
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.new == SEED_NAMES and summary.skipped == []


def test_a_duplicate_article_is_indexed_once_under_both_names(corpus: Path, tmp_path: Path) -> None:
    (corpus / "zz_copy.txt").write_bytes((corpus / SEED_NAMES[1]).read_bytes())
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.articles == 5
    assert summary.duplicates == [("zz_copy.txt", SEED_NAMES[1])]
    info = {a.source: a for a in load_index(tmp_path / "idx").list_articles()}
    assert set(info) == set(SEED_NAMES)
    assert info[SEED_NAMES[1]].aliases == ("zz_copy.txt",)
    assert load_index(tmp_path / "idx").article_by_source("zz_copy.txt") is not None


def test_a_new_duplicate_is_counted_as_a_duplicate_not_as_a_new_article(corpus: Path, tmp_path: Path) -> None:
    # "Indexed 5 articles … 6 new": the copy was counted among the new articles too.
    (corpus / "zz_copy.txt").write_bytes((corpus / SEED_NAMES[1]).read_bytes())
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.new == SEED_NAMES and summary.duplicates == [("zz_copy.txt", SEED_NAMES[1])]
    (corpus / "zz_copy2.txt").write_bytes((corpus / SEED_NAMES[2]).read_bytes())
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.new == [] and summary.duplicates == [("zz_copy2.txt", SEED_NAMES[2])]


def test_a_link_is_the_duplicate_of_the_file_it_points_to(tmp_path: Path) -> None:
    # "b.txt" sorts before "real/a.txt": the link's name was the article's, the real file's its "also".
    sources = tmp_path / "sources"
    (sources / "real").mkdir(parents=True)
    shutil.copy(SEEDS / SEED_NAMES[0], sources / "real" / "a.txt")
    (sources / "b.txt").symlink_to(Path("real") / "a.txt")
    summary = build_index(sources, tmp_path / "idx", HashingEmbedder())
    assert (summary.articles, summary.new) == (1, ["real/a.txt"])
    assert summary.duplicates == [("b.txt", "real/a.txt")]
    [info] = load_index(tmp_path / "idx").list_articles()
    assert (info.source, info.aliases) == ("real/a.txt", ("b.txt",))


def test_a_syndicated_copy_with_other_furniture_is_indexed_once(corpus: Path, tmp_path: Path) -> None:
    text = (corpus / SEED_NAMES[1]).read_text(encoding="utf-8")
    (corpus / "syndicated.txt").write_text(
        "Accessibility links\n\nWorld / Russia\n\n"
        + text
        + "\n\nShare this article\n\nCopyright © Example Wire\n",
        encoding="utf-8",
    )
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.articles == 5
    assert summary.duplicates == [("syndicated.txt", SEED_NAMES[1])]


def test_deleting_the_original_keeps_its_duplicate(corpus: Path, tmp_path: Path) -> None:
    (corpus / "zz_copy.txt").write_bytes((corpus / SEED_NAMES[1]).read_bytes())
    build_index(corpus, tmp_path / "idx", HashingEmbedder())
    (corpus / SEED_NAMES[1]).unlink()
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.removed == [SEED_NAMES[1]]
    sources = [a.source for a in load_index(tmp_path / "idx").list_articles()]
    assert "zz_copy.txt" in sources and SEED_NAMES[1] not in sources


def test_missing_or_empty_sources_are_sources_errors(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="does not exist"):
        build_index(tmp_path / "nowhere", tmp_path / "idx", HashingEmbedder())
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourcesError, match="No readable"):
        build_index(tmp_path / "empty", tmp_path / "idx", HashingEmbedder())
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(SourcesError, match="not a folder"):
        build_index(tmp_path / "file.txt", tmp_path / "idx", HashingEmbedder())


def test_only_the_last_versions_are_kept(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    for n in range(4):
        # Each run must change something: a run that changes nothing writes no version.
        (sources / "extra.txt").write_text(f"Putin and Trump met for talks number {n} in Helsinki.\n")
        build_index(sources, index_dir, HashingEmbedder())
    assert versions(index_dir) == ["v000003", "v000004", "v000005"]
    assert len(versions(index_dir)) == KEEP_VERSIONS
    assert current_version(index_dir) == "v000005"
    assert load_index(index_dir).version == "v000005"
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".tmp-")]
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".CURRENT.")]


def test_rebuild_re_embeds_everything(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    embedder = CountingEmbedder()
    summary = build_index(sources, index_dir, embedder, vectors=TWO_PASSES, rebuild=True)
    assert (summary.embedded_articles, summary.reused_articles) == (5, 0)
    # Every chunk and every quotable sentence; sentences too short to quote are not embedded (issue 16.9).
    quotable = int(load_index(index_dir).sentences[:, 3].sum())
    assert len(embedder.texts) == summary.chunks + quotable < summary.chunks + summary.sentences
    # What changed is still measured against the live version: a rebuild of the same files adds nothing.
    assert (summary.new, summary.changed, summary.removed) == ([], [], [])


def test_a_second_indexer_fails_fast_while_the_lock_is_held(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    with index_lock(index_dir), pytest.raises(IndexLockedError, match="--wait"):
        build_index(corpus, index_dir, HashingEmbedder())
    assert current_version(index_dir) is None, "nothing was written while locked out"
    # Once released, the next indexer goes ahead.
    assert build_index(corpus, index_dir, HashingEmbedder()).version == "v000001"


# ---------------------------------------------------------------------------- damage


def truncate_faiss(folder: Path) -> None:
    path = folder / "chunks.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def corrupt_manifest(folder: Path) -> None:
    (folder / "manifest.json").write_text('{"format": 1, "version": ', encoding="utf-8")


def manifest_with_wrong_counts(folder: Path) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["chunks"] += 1
    path.write_text(json.dumps(manifest), encoding="utf-8")


def manifest_from_another_format(folder: Path) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(manifest), encoding="utf-8")


def garbage_sentences(folder: Path) -> None:
    (folder / "sentences.npy").write_bytes(b"not a numpy file at all")


def garbage_sqlite(folder: Path) -> None:
    (folder / "articles.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 100)


def truncate_vectors(folder: Path) -> None:
    path = folder / "sentence_vecs.npy"
    arr = np.load(path)
    with path.open("wb") as fh:
        np.save(fh, arr[:-3], allow_pickle=False)


def damage_target(index_dir: Path, what: str) -> Path:
    """The version folder for its manifest, else the live segment, which holds the data files."""
    return live_folder(index_dir) if "manifest" in what or "format" in what else live_segment(index_dir)


DAMAGE = {
    "truncated chunks.faiss": truncate_faiss,
    "corrupted manifest": corrupt_manifest,
    "manifest counts disagree": manifest_with_wrong_counts,
    "another format": manifest_from_another_format,
    "garbage sentences.npy": garbage_sentences,
    "garbage articles.sqlite": garbage_sqlite,
    "too few sentence vectors": truncate_vectors,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_index_names_the_fix(built: tuple[Path, Path], damage: str) -> None:
    _, index_dir = built
    DAMAGE[damage](damage_target(index_dir, damage))
    with pytest.raises(IndexError_, match=re.escape("usru index --rebuild")):
        load_index(index_dir)


@pytest.mark.parametrize("name", sorted(SEGMENT_FILES | {"manifest.json"}))
def test_a_missing_file_names_the_fix(built: tuple[Path, Path], name: str) -> None:
    _, index_dir = built
    (damage_target(index_dir, name) / name).unlink()
    with pytest.raises(IndexError_, match=re.escape("usru index --rebuild")):
        load_index(index_dir)


def test_current_pointing_to_nothing_names_the_fix(built: tuple[Path, Path]) -> None:
    _, index_dir = built
    (index_dir / "CURRENT").write_text("v999999\n", encoding="utf-8")
    with pytest.raises(IndexError_, match=re.escape("usru index --rebuild")):
        load_index(index_dir)


def test_no_index_says_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match=re.escape("usru index")):
        load_index(tmp_path / "idx")


def missing(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).unlink()

    return damage


def same_size_garbage(name: str, tail: int | None = None) -> Callable[[Path], None]:
    """Every byte of the file (or only its last `tail`, leaving its header readable) changed, its size kept."""

    def damage(folder: Path) -> None:
        path = folder / name
        data = path.read_bytes()
        start = 0 if tail is None else len(data) - tail
        path.write_bytes(data[:start] + bytes(b ^ 0x5A for b in data[start:]))

    return damage


REBUILD_AFTER = {
    "truncated chunks.faiss": truncate_faiss,
    # A size check alone let these through: the next `usru index` reused them as they were.
    "same-size garbage chunks.faiss": same_size_garbage("chunks.faiss"),
    "same-size garbage vectors in chunks.faiss": same_size_garbage("chunks.faiss", tail=256),
    "same-size garbage vectors in sentence_vecs.npy": same_size_garbage("sentence_vecs.npy", tail=256),
    "corrupted manifest": corrupt_manifest,
    "missing sentences.npy": missing("sentences.npy"),
    "missing sentence_vecs.npy": missing("sentence_vecs.npy"),
}


@pytest.mark.parametrize("damage", sorted(REBUILD_AFTER))
def test_indexing_over_a_damaged_index_starts_afresh(
    built: tuple[Path, Path], tmp_path: Path, damage: str
) -> None:
    sources, index_dir = built
    REBUILD_AFTER[damage](damage_target(index_dir, damage))
    summary = build_index(sources, index_dir, CountingEmbedder())
    assert summary.articles == 5
    repaired = load_index(index_dir)
    assert repaired.version == summary.version
    # The vectors are those of a clean build: nothing damaged was carried over.
    clean = tmp_path / "clean"
    build_index(sources, clean, HashingEmbedder())
    fresh = load_index(clean)
    assert np.array_equal(repaired.sentence_vecs, fresh.sentence_vecs)
    assert np.array_equal(chunk_vectors(index_dir), chunk_vectors(clean))


def test_an_index_built_with_another_embedder_is_not_reused(built: tuple[Path, Path]) -> None:
    sources, index_dir = built
    embedder = CountingEmbedder()
    embedder.name = "another-model"
    summary = build_index(sources, index_dir, embedder)
    assert (summary.embedded_articles, summary.reused_articles) == (5, 0)
    assert (
        json.loads((live_folder(index_dir) / "manifest.json").read_text())["embedding_model"]
        == "another-model"
    )


# ---------------------------------------------------------------------------- nothing is pickled

_PICKLE_PATTERNS = [
    re.compile(r"^\s*(?:import|from)\s+(?:c?pickle|dill|joblib|cloudpickle|shelve)\b", re.MULTILINE),
    re.compile(r"allow_pickle\s*=\s*True"),
    re.compile(r"allow_dangerous_deserialization"),
    re.compile(r"\bpickle\.loads?\b"),
    re.compile(r"\b(?:FAISS|InMemoryVectorStore)\.load_local\b"),
]


def test_nothing_in_the_code_pickles_or_unpickles() -> None:
    files = sorted((REPO / "retrieval").rglob("*.py")) + sorted((REPO / "bot").rglob("*.py"))
    assert len(files) >= 10
    offenders = [
        f"{f.relative_to(REPO)}: {m.group(0).strip()}"
        for f in files
        for pattern in _PICKLE_PATTERNS
        for m in pattern.finditer(f.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_npy_in_the_index_loads_without_pickle(built: tuple[Path, Path]) -> None:
    _, index_dir = built
    for path in live_segment(index_dir).glob("*.npy"):
        arr = np.load(path, allow_pickle=False)
        assert arr.dtype != object


def test_sentence_mean_vectors_read_each_sentence_and_title_once(corpus: Path, tmp_path: Path) -> None:
    # USRU_VECTORS=sentence-mean-1 (issue 13): no chunk's text is embedded; chunk vectors are means.
    embedder = CountingEmbedder()
    summary = build_index(corpus, tmp_path / "idx", embedder, vectors=SENTENCE_MEAN)
    index = load_index(tmp_path / "idx")
    sentence_texts = [index.articles[a].text[s:e] for a, s, e, _ in index.sentences.rows.tolist()]
    titles = [a.title for a in index.articles if a.title]
    assert sorted(embedder.texts) == sorted(sentence_texts + titles)
    assert len(embedder.texts) == summary.sentences + len(titles)
    # Sentences too short to quote are embedded for their chunk only; their own vector row stays zero.
    short = index.sentences[:, 3] == 0
    assert short.any() and not index.sentence_vecs[short].any() and index.sentence_vecs[~short].any()
    # An index made the other way is embedded again, never mixed.
    again = CountingEmbedder()
    build_index(corpus, tmp_path / "idx", again, vectors=TWO_PASSES)
    assert (load_index(tmp_path / "idx").stats().articles, len(again.texts) > summary.chunks) == (5, True)
