"""The question's vector embedded in a thread while search ranks chunks by their words."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from retrieval.embedding import HashingEmbedder, Vectors
from retrieval.errors import UsruError
from retrieval.index import build_index, load_index
from retrieval.index.view import Index
from retrieval.question_vector import embed_in_thread, resolve_vector
from retrieval.search import search_chunks
from retrieval.service import AnsweringService
from tests.conftest import copy_seeds


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("pending")
    build_index(copy_seeds(root / "sources"), root / "index", HashingEmbedder())
    return load_index(root / "index")


class GatedEmbedder(HashingEmbedder):
    """Embeds a question only once the test lets it, recording which thread did."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.threads: list[str] = []

    def embed_query(self, text: str) -> Vectors:
        self.threads.append(threading.current_thread().name)
        assert self.gate.wait(10), "never let through"
        return super().embed_query(text)


class FailingEmbedder(HashingEmbedder):
    def embed_query(self, text: str) -> Vectors:
        raise UsruError("The model is gone.")


def test_a_pending_vector_is_the_question_s_vector_embedded_in_another_thread() -> None:
    embedder = GatedEmbedder()
    pending = embed_in_thread(embedder, "arms control talks")
    embedder.gate.set()
    vec = pending.result()
    assert np.array_equal(vec, HashingEmbedder().embed_query("arms control talks"))
    assert embedder.threads and embedder.threads[0] != threading.current_thread().name
    assert pending.result() is vec  # asked again, the same vector: not embedded twice
    assert len(embedder.threads) == 1


def test_the_embedding_s_error_is_raised_where_the_vector_is_asked_for() -> None:
    pending = embed_in_thread(FailingEmbedder(), "arms control talks")
    with pytest.raises(UsruError, match="The model is gone"):
        pending.result()


def test_search_ranks_by_words_before_it_waits_for_the_vector(index: Index) -> None:
    """The lexical ranking runs while the vector is still being embedded, and the hits are those of a ready one."""
    question = "Is Russia ready to resume arms control talks?"
    embedder = GatedEmbedder()
    pending = embed_in_thread(embedder, question)
    waited: list[bool] = []

    def vector() -> Vectors:
        waited.append(not embedder.gate.is_set())
        embedder.gate.set()  # the search asks for the vector only now: let the embedding finish
        return resolve_vector(pending.result)

    import retrieval.search as search

    calls: list[str] = []
    original = search.stemmed_scores

    def stemmed(*args: object) -> object:
        calls.append("lexical" if not waited else "lexical after the vector")
        return original(*args)  # type: ignore[arg-type]

    search.stemmed_scores = stemmed  # type: ignore[assignment]
    try:
        hits = search_chunks(index, embedder, question, 6, qvec=vector)
    finally:
        search.stemmed_scores = original
    assert calls == ["lexical"] and waited == [True]
    ready = search_chunks(index, HashingEmbedder(), question, 6, qvec=HashingEmbedder().embed_query(question))
    assert hits == ready


def test_an_answer_embeds_its_question_once_off_the_answering_thread(
    hashing_service: AnsweringService,
) -> None:
    embedder = hashing_service.embedder
    seen: list[str] = []
    original = embedder.embed_query

    def recording(text: str) -> Vectors:
        seen.append(threading.current_thread().name)
        return original(text)

    embedder.embed_query = recording  # type: ignore[method-assign]
    try:
        answer = hashing_service.answer("What did Lavrov say about the sanctions imposed by Washington?")
    finally:
        del embedder.embed_query
    assert answer.question
    assert seen == ["usru-question-vector"]


def test_the_question_s_own_check_runs_while_its_vector_is_embedded(
    hashing_service: AnsweringService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wrong-year and reversed-roles check needs no vector: it runs before the answer waits for one."""
    import retrieval.extractive as extractive

    embedder = hashing_service.embedder
    gate = threading.Event()
    original = embedder.embed_query

    def gated(text: str) -> Vectors:
        assert gate.wait(10), "the vector was waited for before the question's check ran"
        return original(text)

    checked: list[bool] = []
    check = extractive.presupposition_gap

    def recording(index: object, question: str) -> str | None:
        checked.append(not gate.is_set())  # the vector is not there yet
        gate.set()
        return check(index, question)  # type: ignore[arg-type]

    monkeypatch.setattr(extractive, "presupposition_gap", recording)
    embedder.embed_query = gated  # type: ignore[method-assign]
    try:
        answer = hashing_service.answer("Did Lavrov meet Tillerson in 2025 about the sanctions?")
    finally:
        del embedder.embed_query
    assert checked == [True]
    assert answer.question


def test_the_chunks_vectors_are_searched_beside_the_sentence_channel(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dense search waits here until the sentence channel has begun: one after the other, it never would."""
    import retrieval.search as search

    question = "Is Russia ready to resume arms control talks?"
    expected = search_chunks(index, HashingEmbedder(), question, 6)
    scanning = threading.Event()
    threads: list[str] = []
    dense = index.search_vectors
    channel = search.search_sentence_chunks

    def searching(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        assert scanning.wait(10), "the dense search ran before the sentence channel began"
        return dense(*args, **kwargs)  # type: ignore[arg-type]

    def scanning_sentences(*args: object) -> object:
        scanning.set()
        return channel(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "search_vectors", searching)
    monkeypatch.setattr(search, "search_sentence_chunks", scanning_sentences)
    assert search_chunks(index, HashingEmbedder(), question, 6) == expected
    assert threads == ["usru-dense-search"]
