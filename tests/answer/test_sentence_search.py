"""The sentence channel of hybrid search: chunks found by their best sentence's vector."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval import search, sentence_search
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.index.view import Index
from retrieval.sentence_search import search_sentence_chunks, sentence_chunks
from tests.conftest import copy_seeds


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("sentences")
    build_index(copy_seeds(root / "sources"), root / "index", HashingEmbedder())
    return load_index(root / "index")


def quotable_sentence(index: Index, nth: int) -> int:
    return int(np.flatnonzero(np.asarray(index.sentences.quotable) > 0)[nth])


def test_every_sentence_belongs_to_the_first_chunk_whose_span_holds_it(index: Index) -> None:
    owner = sentence_chunks(index)
    assert len(owner) == len(index.sentences)
    for sid in range(0, len(index.sentences), 7):
        cid = int(owner[sid])
        holders = [
            c
            for c in range(len(index.chunks))
            if index.chunks.row(c).first_sentence <= sid < index.chunks.row(c).end_sentence
        ]
        assert cid == (holders[0] if holders else -1)


def test_a_sentences_own_vector_finds_its_chunk_first(index: Index) -> None:
    for nth in (0, 10, 40):
        sid = quotable_sentence(index, nth)
        found = search_sentence_chunks(index, index.sentence_vecs[sid], 5)
        assert found[0] == int(sentence_chunks(index)[sid])
        assert len(found) == len(set(found)) == 5


def test_chunks_the_filters_exclude_are_never_returned(index: Index) -> None:
    sid = quotable_sentence(index, 10)
    own = int(sentence_chunks(index)[sid])
    allowed = np.array([c for c in range(len(index.chunks)) if c != own], dtype=np.int64)[::2]
    found = search_sentence_chunks(index, index.sentence_vecs[sid], 8, allowed)
    assert found and own not in found
    assert set(found) <= set(allowed.tolist())


def test_past_the_scan_limit_the_channel_is_left_out_and_search_still_answers(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = quotable_sentence(index, 10)
    monkeypatch.setattr(sentence_search, "MAX_SCANNED", len(index.sentences) - 1)
    assert search_sentence_chunks(index, index.sentence_vecs[sid], 5) == []
    assert len(search.search_chunks(index, HashingEmbedder(), "arms control talks", 4)) == 4


def test_search_fuses_the_chunk_the_sentence_channel_ranks_first(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "Lavrov said the talks would resume"
    embedder = HashingEmbedder()
    qvec = embedder.embed_query(question)
    best = search_sentence_chunks(index, qvec, 1)[0]
    with_channel = search.search_chunks(index, embedder, question, 6, qvec=qvec)
    monkeypatch.setattr(search, "search_sentence_chunks", lambda *a, **k: [])
    without = search.search_chunks(index, embedder, question, 6, qvec=qvec)
    fused = {h.chunk_id: h.fused for h in with_channel}
    assert best in fused
    # The channel adds to a chunk's fused score: the sentence channel's best gains 1/(RRF_K + 1).
    base = {h.chunk_id: h.fused for h in without}
    if best in base:
        assert fused[best] == pytest.approx(base[best] + search.SENTENCE_WEIGHT / (search.RRF_K + 1))


def test_a_cached_owner_map_is_reused_per_index(index: Index) -> None:
    assert sentence_chunks(index) is sentence_chunks(index)


def test_owners_looked_up_alone_are_the_owner_maps(index: Index) -> None:
    sids = np.array([0, 3, len(index.sentences) - 1, *range(1, len(index.sentences), 5)], dtype=np.int64)
    assert sentence_search.owners_of(index, sids).tolist() == sentence_chunks(index)[sids].tolist()
