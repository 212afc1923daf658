"""A loaded version holds neither texts nor float32 chunk vectors in memory, and answers as if it did (issue 13)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

import retrieval.index.chunk_search as chunk_search
import retrieval.index.ivf as ivf
import retrieval.index.rows as rows_module
import retrieval.index.segments as segments_module
import retrieval.vector_index as vector_index
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.index.chunk_search import ChunkSearch
from retrieval.index.chunk_vectors import ChunkVectorFile, write_chunk_vectors
from retrieval.index.records import StoredArticle
from retrieval.index.rows import RowStack
from retrieval.index.segments import _read_articles, read_chunk_vectors
from retrieval.index.texts import ArticleText, RecentTexts
from retrieval.search import search_chunks
from retrieval.vector_index import VectorIndexBuilder, assign_lists, train_quantizer
from tests.conftest import copy_seeds
from tests.index.test_segments import write_synthetic


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def segment_folders(index_dir: Path) -> list[Path]:
    return sorted(p for p in (index_dir / "segments").iterdir() if p.is_dir())


def test_texts_are_read_from_the_segment_only_when_asked_for(tmp_path: Path) -> None:
    build_index(copy_seeds(tmp_path / "src"), tmp_path / "idx", HashingEmbedder())
    index = load_index(tmp_path / "idx")
    stored = {
        a.source: a.text for a in _read_articles(segment_folders(tmp_path / "idx")[0] / "articles.sqlite")
    }
    assert all(isinstance(a.__dict__["text"], ArticleText) for a in index.articles)
    assert {a.source: a.text for a in index.articles} == stored
    assert index.intact_article(0).text == stored[index.article(0).source]
    # The same article read twice is equal, and a plain one with the same fields equals it too.
    a = index.article(1)
    plain = StoredArticle(
        a.id, a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.text, a.body_hash, a.leaning
    )
    assert a == plain and hash(a) == hash(plain)


def test_texts_stay_readable_when_a_later_update_deletes_the_segment(tmp_path: Path) -> None:
    build_index(copy_seeds(tmp_path / "src"), tmp_path / "idx", HashingEmbedder())
    index = load_index(tmp_path / "idx")
    for folder in segment_folders(tmp_path / "idx"):
        for f in folder.iterdir():
            f.unlink()
    assert all(len(a.text) > 0 for a in index.articles)
    assert index.sentence_vecs[np.arange(3)].shape == (3, HashingEmbedder().dim)


def test_a_text_edited_in_the_segment_after_loading_is_caught_before_it_is_quoted(tmp_path: Path) -> None:
    import sqlite3

    from retrieval.errors import IndexError_

    build_index(copy_seeds(tmp_path / "src"), tmp_path / "idx", HashingEmbedder())
    index = load_index(tmp_path / "idx")
    con = sqlite3.connect(segment_folders(tmp_path / "idx")[0] / "articles.sqlite")
    con.execute("UPDATE articles SET text = 'Putin said nothing of the kind.' WHERE id = 2")
    con.commit()
    con.close()
    with pytest.raises(IndexError_, match="damaged"):
        index.intact_article(2)


def test_chunk_vectors_are_read_from_chunks_faiss_as_faiss_stores_them(tmp_path: Path) -> None:
    build_index(copy_seeds(tmp_path / "src"), tmp_path / "idx", HashingEmbedder())
    folder = segment_folders(tmp_path / "idx")[0]
    dim = HashingEmbedder().dim
    file = ChunkVectorFile(folder / "chunks.faiss", dim)
    whole = read_chunk_vectors(folder, dim)
    assert file.rows == len(whole) > 3
    assert np.array_equal(np.concatenate([b for _, b in file.blocks(rows=3)]), whole)
    assert np.array_equal(file.by_row()[np.array([2, 0, 2])], whole[[2, 0, 2]])
    # Another layout (here: a flat L2 index) is read through FAISS instead.
    (tmp_path / "other").mkdir()
    l2 = faiss.IndexFlatL2(dim)
    l2.add(whole)
    faiss.write_index(l2, str(tmp_path / "other" / "chunks.faiss"))
    other = ChunkVectorFile(tmp_path / "other" / "chunks.faiss", dim)
    assert other.rows == len(whole)
    assert np.array_equal(np.concatenate([b for _, b in other.blocks(rows=3)]), whole)
    assert np.array_equal(other.by_row()[np.array([1])], whole[[1]])


def resident_file_kib() -> int:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("RssFile:"))


def grown_by_reading(path: Path, monkeypatch: pytest.MonkeyPatch, release_rows: int) -> int:
    monkeypatch.setattr(rows_module, "RELEASE_ROWS", release_rows)
    stack = RowStack([(np.load(path, mmap_mode="r"), None)], 384)
    rng = np.random.default_rng(1)
    before = resident_file_kib()
    for _ in range(20):
        stack[rng.integers(0, len(stack), 40)]
        for row in rng.integers(0, len(stack), 10).tolist():
            stack[row]
    grown = resident_file_kib() - before
    del stack
    return grown


def test_rows_read_through_the_map_do_not_stay_resident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = unit_vectors(40_000, dim=384)  # 61 MB
    path = tmp_path / "v.npy"
    np.save(path, x)
    stack = RowStack([(np.load(path, mmap_mode="r"), np.arange(0, 40_000, 2))], 384)
    assert np.array_equal(stack[np.array([5, 0, 5])], x[[10, 0, 10]]) and np.array_equal(stack[7], x[14])
    kept = grown_by_reading(path, monkeypatch, 10**9)
    released = grown_by_reading(path, monkeypatch, 64)
    assert kept > 16_384  # KiB: 1,000 rows read map much of the file
    assert released < min(kept / 2, 32_768)


def test_reserved_cells_hold_the_same_vectors_as_grown_ones() -> None:
    x = unit_vectors(2_000)
    quantizer = train_quantizer(x, 16)
    lists = assign_lists(quantizer, x)
    plain, reserved = VectorIndexBuilder(32, quantizer), VectorIndexBuilder(32, quantizer)
    reserved.reserve(np.bincount(lists, minlength=16))
    for lo in range(0, 2_000, 300):
        plain.add(x[lo : lo + 300], lists[lo : lo + 300])
        reserved.add(x[lo : lo + 300], lists[lo : lo + 300])
    a, b = plain.finish(), reserved.finish()
    assert a.ntotal == b.ntotal == 2_000
    assert np.array_equal(a.reconstruct_n(0, 2_000), b.reconstruct_n(0, 2_000))


def half_and_full(x: np.ndarray, cells: int = 16, nprobe: int = 4) -> tuple[ChunkSearch, object]:
    quantizer = train_quantizer(x, cells)
    lists = assign_lists(quantizer, x)
    full, half = (
        VectorIndexBuilder(x.shape[1], quantizer),
        VectorIndexBuilder(x.shape[1], quantizer, half=True),
    )
    full.add(x, lists)
    half.add(x, lists)
    f, h = full.finish(direct_map=False), half.finish(direct_map=False)
    f.nprobe = h.nprobe = nprobe
    assert isinstance(h, faiss.IndexIVFScalarQuantizer)
    return ChunkSearch(h, RowStack([(x, None)], x.shape[1]), half=True, max_norm=1.0), f


def test_float16_cells_rescored_give_the_float32_ivf_results() -> None:
    x = unit_vectors(4_000)
    search, full = half_and_full(x)
    queries = unit_vectors(50, seed=1)
    s32, i32 = full.search(queries, 30)  # type: ignore[attr-defined]
    s16, i16 = search.search(queries, 30)
    assert np.array_equal(i16, i32)
    np.testing.assert_allclose(s16, s32, rtol=0, atol=1e-6)
    assert np.array_equal(search.vectors(np.array([5, 1])), x[[5, 1]])


def test_when_float16_cannot_separate_the_cut_more_candidates_are_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Vectors closer to each other than float16 can tell apart: the float16 ranking is a coin toss,
    # so the first candidates cannot prove the cut and the search must widen to get float32's answer.
    rng = np.random.default_rng(4)
    base = unit_vectors(1, seed=5)[0]
    x = base + 2e-4 * rng.standard_normal((600, 32)).astype(np.float32)
    x = np.concatenate([x, unit_vectors(600, seed=6)]).astype(np.float32)
    monkeypatch.setattr(chunk_search, "MIN_EXTRA", 1)
    search, full = half_and_full(x, cells=4, nprobe=4)
    asked = CountingSearch(search.index)
    search.index = asked
    _, i32 = full.search(base[None], 5)  # type: ignore[attr-defined]
    _, i16 = search.search(base[None], 5)
    assert np.array_equal(i16, i32)
    assert len(asked.depths) > 1 and asked.depths[-1] > asked.depths[0]


class CountingSearch:
    """A FAISS index that records the depth of each search."""

    def __init__(self, index: object) -> None:
        self.index = index
        self.ntotal = index.ntotal  # type: ignore[attr-defined]
        self.depths: list[int] = []

    def search(self, q: np.ndarray, k: int, params: object = None) -> tuple[np.ndarray, np.ndarray]:
        self.depths.append(k)
        return self.index.search(q, k, params=params)  # type: ignore[attr-defined,no-any-return]


def test_filtered_and_unfiltered_search_of_an_ivf_version_equal_exact_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = copy_seeds(tmp_path / "src")
    for i in range(30):
        write_synthetic(sources, i)
    monkeypatch.setattr(ivf, "FLAT_MAX", 30)
    monkeypatch.setattr(vector_index, "MIN_POINTS_PER_CELL", 4)
    monkeypatch.setattr(vector_index, "NPROBE", 1_000)
    build_index(sources, tmp_path / "ivf", HashingEmbedder())
    (sources / "synthetic_004.txt").unlink()  # a deleted article in the IVF version's segment
    build_index(sources, tmp_path / "ivf", HashingEmbedder())
    monkeypatch.setattr(ivf, "FLAT_MAX", 10**9)
    build_index(sources, tmp_path / "flat", HashingEmbedder())
    a, b = load_index(tmp_path / "ivf"), load_index(tmp_path / "flat")
    assert isinstance(a.faiss, faiss.IndexIVFScalarQuantizer) and isinstance(b.faiss, faiss.IndexFlatIP)
    q = HashingEmbedder().embed_query("Talks on fishing quotas round 12").reshape(1, -1)
    chunk = {i: (a.article(int(a.chunks[i][0])).source, int(a.chunks[i][1])) for i in range(len(a.chunks))}
    flat = {i: (b.article(int(b.chunks[i][0])).source, int(b.chunks[i][1])) for i in range(len(b.chunks))}
    sa, ia = a.search_vectors(q, 20)
    sb, ib = b.search_vectors(q, 20)
    assert [chunk[i] for i in ia[0]] == [flat[i] for i in ib[0]]
    np.testing.assert_allclose(sa, sb, rtol=0, atol=1e-6)
    for cid in range(0, len(a.chunks), 7):
        assert np.array_equal(
            a.chunk_vector(cid), b.chunk_vector(next(k for k, v in flat.items() if v == chunk[cid]))
        )
    monkeypatch.setattr("retrieval.index.view.EXACT_FILTERED", 0)  # the FAISS path with an id selector
    allowed = np.arange(0, len(a.chunks), 2, dtype=np.int64)
    _, fa = a.search_vectors(q, 10, allowed=allowed)
    assert set(fa[0].tolist()) <= set(allowed.tolist())
    exact = np.argsort(-(a.chunk_vecs[allowed] @ q[0]), kind="stable")[:10]
    assert sorted(fa[0].tolist()) == sorted(allowed[exact].tolist())
    for question in ("Talks on fishing quotas number 12 round 12", "What did Lavrov say about arms control?"):
        got = [
            (chunk[h.chunk_id], round(h.dense, 5)) for h in search_chunks(a, HashingEmbedder(), question, 5)
        ]
        want = [
            (flat[h.chunk_id], round(h.dense, 5)) for h in search_chunks(b, HashingEmbedder(), question, 5)
        ]
        assert got == want


def test_recent_texts_keep_the_last_read_within_their_budget() -> None:
    recent = RecentTexts(max_chars=10)
    recent.put((1, 1), "abcd")
    recent.put((1, 2), "efgh")
    assert recent.get((1, 1)) == "abcd"  # now the most recent
    recent.put((2, 1), "ijkl")
    assert recent.get((1, 2)) is None and recent.get((1, 1)) == "abcd" and recent.get((2, 1)) == "ijkl"
    recent.put((3, 3), "a text longer than the whole budget")
    assert recent.get((3, 3)) is not None and recent.get((1, 1)) is None


def test_merging_copies_the_kept_sentence_vectors_of_mapped_parts_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments_module, "GATHER_ROWS", 7)  # several blocks
    a, b = unit_vectors(20, dim=8, seed=1), unit_vectors(15, dim=8, seed=2)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    kept = np.array([0, 3, 4, 14], dtype=np.int64)
    parts = [
        (np.load(tmp_path / "a.npy", mmap_mode="r"), None),
        (np.load(tmp_path / "b.npy", mmap_mode="r"), kept),
    ]
    merged = segments_module._gather(parts, 8)
    assert not isinstance(merged, np.memmap)
    assert np.array_equal(merged, np.concatenate([a, b[kept]]))


@pytest.mark.parametrize("n", [0, 1, 37])
def test_chunks_faiss_is_written_byte_for_byte_as_faiss_writes_it(tmp_path: Path, n: int) -> None:
    x = unit_vectors(n, dim=16, seed=n) if n else np.zeros((0, 16), np.float32)
    index = faiss.IndexFlatIP(16)
    if n:
        index.add(x)
    write_chunk_vectors(tmp_path / "chunks.faiss", x, 16)
    assert (tmp_path / "chunks.faiss").read_bytes() == faiss.serialize_index(index).tobytes()
    back = faiss.read_index(str(tmp_path / "chunks.faiss"))
    assert back.ntotal == n and (not n or np.array_equal(back.reconstruct_n(0, n), x))
    with pytest.raises(ValueError, match="wide"):
        write_chunk_vectors(tmp_path / "wrong.faiss", unit_vectors(3, dim=8), 16)


def test_texts_read_from_many_threads_at_once_are_each_article_s_own(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import retrieval.index.texts as texts

    build_index(copy_seeds(tmp_path / "src"), tmp_path / "idx", HashingEmbedder())
    want = {
        a.source: a.text for a in _read_articles(segment_folders(tmp_path / "idx")[0] / "articles.sqlite")
    }
    index = load_index(tmp_path / "idx")
    small = texts.RecentTexts(max_chars=max(len(t) for t in want.values()))  # forgets all but about one
    for a in index.articles:
        a.__dict__["text"]._segment._recent = small

    def read_all(_: int) -> bool:
        return all(a.text == want[a.source] for _ in range(20) for a in index.articles)

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read_all, range(16)))
