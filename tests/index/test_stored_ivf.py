"""A version past FLAT_MAX stores its filled IVF when written (issue 13): loading maps it instead of filling."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

import retrieval.index.ivf as ivf
import retrieval.index.view as view
import retrieval.vector_index as vector_index
from retrieval.embedding import HashingEmbedder
from retrieval.index import Index, build_index, load_index
from retrieval.index.digest import sampled_digest
from retrieval.index.stored_ivf import FILE, RECORD
from retrieval.search import search_chunks
from tests.conftest import copy_seeds
from tests.index.test_segments import write_synthetic

QUESTIONS = ("Talks on fishing quotas number 12 round 12", "What did Lavrov say about arms control?")


def small_ivf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirty chunks make an IVF version, with cells of four points."""
    monkeypatch.setattr(ivf, "FLAT_MAX", 30)
    monkeypatch.setattr(vector_index, "MIN_POINTS_PER_CELL", 4)


@pytest.fixture(scope="module")
def built_ivf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An IVF version of two segments, one with a deleted article; built once, each test damages a copy."""
    tmp_path = tmp_path_factory.mktemp("ivf")
    sources = copy_seeds(tmp_path / "src")
    for i in range(30):
        write_synthetic(sources, i)
    index_dir = tmp_path / "idx"
    with pytest.MonkeyPatch.context() as m:
        small_ivf(m)
        build_index(sources, index_dir, HashingEmbedder())
        (sources / "synthetic_004.txt").unlink()
        write_synthetic(sources, 31)
        build_index(sources, index_dir, HashingEmbedder())
    return index_dir


@pytest.fixture
def ivf_index(built_ivf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the IVF version, loaded under the sizes it was built with."""
    small_ivf(monkeypatch)
    return Path(shutil.copytree(built_ivf, tmp_path / "idx"))


def replace_file(path: Path, data: bytes) -> None:
    """A new file in `path`'s place: an index loaded before maps the old one, as a running bot would."""
    tmp = path.with_name("tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def sign_again(record: Path, path: Path) -> None:
    """The stored IVF's record rewritten to match the file as it is now (nothing signs it)."""
    fields = json.loads(record.read_text())
    fields["sampled_sha256"] = sampled_digest(path)
    record.write_text(json.dumps(fields))


def filled_at_load(index_dir: Path) -> Index:
    """The live version loaded as one written before its IVF was stored."""
    (load_index(index_dir).folder / RECORD).unlink()
    return load_index(index_dir)


def on_disk(index: Index) -> bool:
    return isinstance(faiss.downcast_InvertedLists(index.faiss.invlists), faiss.OnDiskInvertedLists)


def assert_same_search(a: Index, b: Index) -> None:
    embedder = HashingEmbedder()
    assert a.faiss.ntotal == b.faiss.ntotal and a.faiss.nprobe == b.faiss.nprobe
    assert a.max_norm == b.max_norm
    for question in QUESTIONS:
        q = embedder.embed_query(question).reshape(1, -1)
        sa, ia = a.search_vectors(q, 15)
        sb, ib = b.search_vectors(q, 15)
        assert np.array_equal(ia, ib) and np.array_equal(sa, sb)
        allowed = np.arange(0, len(a.chunks), 2, dtype=np.int64)
        fa, fb = a.search_vectors(q, 5, allowed=allowed), b.search_vectors(q, 5, allowed=allowed)
        assert np.array_equal(fa[1], fb[1]) and np.array_equal(fa[0], fb[0])
        got = [(h.chunk_id, h.dense) for h in search_chunks(a, embedder, question, 5)]
        assert got == [(h.chunk_id, h.dense) for h in search_chunks(b, embedder, question, 5)]


def test_loading_maps_the_stored_ivf_and_it_searches_as_one_filled_at_load(
    ivf_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = ivf_index
    live = load_index(index_dir)
    assert len(live.manifest["segments"]) > 1 and any(s["deleted"] for s in live.manifest["segments"])
    assert (live.folder / FILE).is_file()

    def refuse(*args: object) -> object:
        raise AssertionError("filled at load")

    with monkeypatch.context() as m:
        m.setattr(view, "_fill", refuse)
        stored = load_index(index_dir)
    assert on_disk(stored) and isinstance(stored.faiss, faiss.IndexIVFScalarQuantizer)
    filled = filled_at_load(index_dir)
    assert not on_disk(filled)
    assert_same_search(stored, filled)
    monkeypatch.setattr(view, "EXACT_FILTERED", 0)  # the FAISS path with an id selector
    assert_same_search(stored, filled)


@pytest.mark.parametrize("damage", ["truncate", "same_size", "stale", "ids"])
def test_a_stored_ivf_that_does_not_match_its_record_is_filled_again(ivf_index: Path, damage: str) -> None:
    index_dir = ivf_index
    folder = load_index(index_dir).folder
    expected = load_index(index_dir)
    path, record = folder / FILE, folder / RECORD
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-8]
    elif damage == "same_size":
        data[-64:] = bytes(64)
    if damage == "stale":  # the record of another version's segments
        record.write_text(record.read_text().replace('"key": "', '"key": "0'))
    elif damage == "ids":
        # A chunk filed twice and another nowhere, recorded as if written so: the sampled digest passes.
        ids = np.frombuffer(data[-8 * 2 :], dtype=np.int64).copy()
        data[-8:] = ids[:1].tobytes()
        replace_file(path, bytes(data))
        sign_again(record, path)
    else:
        replace_file(path, bytes(data))
    loaded = load_index(index_dir)
    assert not on_disk(loaded)
    assert_same_search(loaded, expected)


def test_a_version_under_flat_max_stores_no_ivf(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    build_index(copy_seeds(tmp_path / "src"), index_dir, HashingEmbedder())
    loaded = load_index(index_dir)
    assert not (loaded.folder / FILE).exists() and isinstance(loaded.faiss, faiss.IndexFlatIP)


def test_a_stored_ivf_that_is_a_link_out_of_the_index_folder_is_not_read(
    ivf_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = ivf_index
    folder = load_index(index_dir).folder
    expected = load_index(index_dir)
    outside = tmp_path / "elsewhere.faiss"
    outside.write_bytes((folder / FILE).read_bytes())  # the very bytes, so size and digest match
    (folder / FILE).unlink()
    (folder / FILE).symlink_to(outside)
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object) -> object:
        opened.append(str(self.resolve()))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(Path, "open", spy)
        loaded = load_index(index_dir)
    assert not on_disk(loaded), "the file outside the index folder was mapped"
    assert str(outside) not in opened, "the file outside the index folder was read"
    assert_same_search(loaded, expected)


def test_a_stored_ivf_whose_cells_cannot_be_held_is_filled_again(ivf_index: Path) -> None:
    # Its record rewritten to match (nothing signs it), the file's inverted lists claim 2**40 cells: FAISS
    # runs out of memory reading them, and the whole index was reported damaged, not this one stored file.
    index_dir = ivf_index
    folder = load_index(index_dir).folder
    expected = load_index(index_dir)
    path, record = folder / FILE, folder / RECORD
    data = bytearray(path.read_bytes())
    at = data.find(b"ilar") + 4
    data[at : at + 8] = np.array([2**40], dtype=np.uint64).tobytes()
    replace_file(path, bytes(data))
    sign_again(record, path)
    loaded = load_index(index_dir)
    assert not on_disk(loaded)
    assert_same_search(loaded, expected)
