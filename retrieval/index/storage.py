"""The storage seam: what answering reads from a stored version, and what a store must do to build one.

Answering (search.py, extractive.py, llm.py, service.py) sees only `StoredVersion`; front ends and the
service reach a store only through `IndexStore`. Today's store is a folder (`FolderStore`: immutable
segments of SQLite, NumPy and FAISS files); another backend is one new module implementing both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from retrieval.embedding import Embedder, Vectors
from retrieval.index.durability import current_version
from retrieval.index.records import (
    ArticleInfo,
    ChunkTable,
    IndexStats,
    IndexSummary,
    Progress,
    SentenceTable,
    StoredArticle,
)
from retrieval.index.rows import RowStack
from retrieval.index.vectors import DEFAULT_VECTORS
from retrieval.index.view import Index, load_index
from retrieval.lexical import Bm25

if TYPE_CHECKING:
    from retrieval.index.building import Prepare


class StoredVersion(Protocol):
    """One immutable version of the index, as answering reads it."""

    @property
    def version(self) -> str:
        """The version's name; a newer one means the index changed."""

    @property
    def embedding_model(self) -> str | None:
        """The model its vectors were made with."""

    @property
    def articles(self) -> Sequence[StoredArticle]:
        """Every article, by row id."""

    @property
    def chunks(self) -> ChunkTable:
        """Every chunk (what is searched), by chunk id."""

    @property
    def sentences(self) -> SentenceTable:
        """Every sentence (what is quoted), by sentence id."""

    @property
    def sentence_vecs(self) -> Vectors | RowStack:
        """The sentences' vectors, row for row (read by row ids: a folder version maps them from disk)."""

    @property
    def bm25(self) -> Bm25:
        """Word statistics of the chunks, for lexical search and term weights."""

    def search_vectors(
        self, qvecs: Vectors, depth: int, allowed: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The `depth` nearest chunks to each query vector (among `allowed` ids if given): scores, ids."""

    def chunk_vector(self, chunk_id: int) -> Vectors:
        """The stored vector of one chunk."""

    def article(self, article_id: int) -> StoredArticle:
        """The article with this row id."""

    def intact_article(self, article_id: int) -> StoredArticle:
        """The article, once its text is checked against the hash taken when it was read."""

    def sentence_terms(self, sentence_id: int) -> frozenset[str]:
        """The BM25 terms of one sentence."""

    def article_by_source(self, source: str) -> StoredArticle | None:
        """The article indexed from this file name (or from a duplicate of it), if any."""

    def list_articles(self) -> list[ArticleInfo]:
        """Every indexed article as the front ends list it."""

    def stats(self) -> IndexStats:
        """Counts, outlets and the span of dates."""


class IndexStore(Protocol):
    """Where index versions are kept: the live one named, loaded, and replaced by an update."""

    def current_version(self) -> str | None:
        """The name of the live version (cheap: asked before every answer), or None if there is none."""

    def load(self) -> StoredVersion:
        """The live version; a damaged or missing one raises IndexError_ naming the fix."""

    def update(
        self,
        sources: Path,
        embedder: Embedder,
        *,
        vectors: str = DEFAULT_VECTORS,
        rebuild: bool = False,
        wait: bool = False,
        progress: Progress | None = None,
        paths: list[Path] | None = None,
        allow_shrink: bool = False,
    ) -> IndexSummary:
        """Bring the store up to date with the sources folder (or just these files) as a new live version.

        `vectors` names how new vectors are made (retrieval/index/vectors.py); a version made another way
        is embedded again rather than mixed.
        """


class FolderStore:
    """The index kept in a folder of immutable segments and versions (see retrieval/index/__init__.py)."""

    def __init__(self, index_dir: Path, prepare: Prepare | None = None) -> None:
        self.index_dir = index_dir
        # Run on each new version before it goes live; what it returns is stored with the version.
        self.prepare = prepare

    def current_version(self) -> str | None:
        """The name of the live version, or None if there is no index."""
        return current_version(self.index_dir)

    def load(self) -> Index:
        """The live version, loaded and checked."""
        return load_index(self.index_dir)

    def update(
        self,
        sources: Path,
        embedder: Embedder,
        *,
        vectors: str = DEFAULT_VECTORS,
        rebuild: bool = False,
        wait: bool = False,
        progress: Progress | None = None,
        paths: list[Path] | None = None,
        allow_shrink: bool = False,
    ) -> IndexSummary:
        """Write a new version from the sources folder and make it live (see building.build_index)."""
        from retrieval.index.building import build_index  # an update's modules, not an answer's

        return build_index(
            sources,
            self.index_dir,
            embedder,
            vectors=vectors,
            rebuild=rebuild,
            wait=wait,
            progress=progress,
            paths=paths,
            allow_shrink=allow_shrink,
            prepare=self.prepare,
        )
