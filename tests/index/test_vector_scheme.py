"""The vector scheme is an argument of every update path, from Settings.vectors to embed_segment (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.api import index_sources, load_settings_embedder, open_service, watch_sources
from retrieval.embedding import HashingEmbedder
from retrieval.index import FolderStore, build_index, current_version, load_index
from retrieval.index.vectors import SENTENCE_MEAN, TWO_PASSES
from retrieval.settings import Settings
from tests.conftest import copy_seeds, hashing_settings_for


def live_manifest(index_dir: Path) -> dict[str, object]:
    version = current_version(index_dir)
    assert version is not None
    manifest: dict[str, object] = json.loads(
        (index_dir / "versions" / version / "manifest.json").read_text("utf-8")
    )
    return manifest


def settings_with(tmp_path: Path, vectors: str) -> Settings:
    sources = copy_seeds(tmp_path / "src")
    return hashing_settings_for(sources, tmp_path / "idx").model_copy(update={"vectors": vectors})


@pytest.mark.parametrize("scheme", [SENTENCE_MEAN, TWO_PASSES])
def test_usru_index_makes_vectors_by_the_settings_scheme(tmp_path: Path, scheme: str) -> None:
    settings = settings_with(tmp_path, scheme)
    index_sources(settings)
    assert live_manifest(settings.index_dir)["vectors"] == scheme
    # The embedder carries no hidden setting any more: the scheme travels as an argument.
    assert not hasattr(load_settings_embedder(settings), "vector_scheme")


def test_the_same_embedder_makes_either_scheme_as_asked(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "src")
    embedder = HashingEmbedder()
    build_index(sources, tmp_path / "a", embedder, vectors=SENTENCE_MEAN)
    build_index(sources, tmp_path / "b", embedder, vectors=TWO_PASSES)
    a, b = load_index(tmp_path / "a"), load_index(tmp_path / "b")
    assert (a.manifest["vectors"], b.manifest["vectors"]) == (SENTENCE_MEAN, TWO_PASSES)
    # Same sentences either way; the chunk vectors differ (means of sentences vs the chunks' own texts).
    assert np.array_equal(a.sentences.rows, b.sentences.rows)
    assert not np.allclose(a.faiss.reconstruct_n(0, len(a.chunks)), b.faiss.reconstruct_n(0, len(b.chunks)))


def test_a_service_reindexes_with_its_settings_scheme(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, SENTENCE_MEAN)
    service = open_service(settings)  # builds the first version itself
    assert live_manifest(settings.index_dir)["vectors"] == SENTENCE_MEAN
    (settings.sources / "new.txt").write_text("Title: New\n\nA new article about sanctions on Russia.\n")
    service.reindex()
    manifest = live_manifest(settings.index_dir)
    assert manifest["vectors"] == SENTENCE_MEAN and manifest["articles"] == 6


def test_changing_the_scheme_embeds_everything_again(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, TWO_PASSES)
    first = index_sources(settings)
    again = index_sources(settings.model_copy(update={"vectors": SENTENCE_MEAN}))
    assert (first.embedded_articles, again.embedded_articles, again.reused_articles) == (5, 5, 0)
    assert live_manifest(settings.index_dir)["vectors"] == SENTENCE_MEAN


def test_the_watcher_indexes_with_the_settings_scheme(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, SENTENCE_MEAN)
    summaries = []
    watching = watch_sources(settings, on_summary=summaries.append)
    try:
        for _ in range(200):
            if summaries:
                break
            watching.thread.join(0.05)
    finally:
        watching.close()
    assert summaries and live_manifest(settings.index_dir)["vectors"] == SENTENCE_MEAN


def test_an_unknown_scheme_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "src")
    with pytest.raises(ValueError, match="unknown vector scheme"):
        FolderStore(tmp_path / "idx").update(sources, HashingEmbedder(), vectors="sentence-max-9")
    assert current_version(tmp_path / "idx") is None
