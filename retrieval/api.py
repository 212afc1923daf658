"""The one facade front ends use: from settings to the answering service, an index, a watcher, a retriever.

The CLI, the REPL and the Telegram bot build `Settings` once and call these; none of them reaches into
`retrieval.index` or `retrieval.watch` for what is here.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.embedding import BUNDLED_MODEL, Embedder, load_embedder
from retrieval.errors import IndexError_
from retrieval.index import FolderStore, IndexStore, IndexSummary, Progress, StoredVersion
from retrieval.onnx_precision import FP32
from retrieval.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from langchain_core.retrievers import BaseRetriever

    from retrieval.compare import Comparison
    from retrieval.filters import Filters
    from retrieval.service import AnsweringService
    from retrieval.timeline import Granularity, Timeline


def open_store(settings: Settings) -> IndexStore:
    """Where the settings keep the index: PostgreSQL when USRU_DATABASE_URL is set, else the index folder.

    The one place a backend is chosen; every command reaches its store through here.
    """
    if settings.database_url is not None:
        from retrieval.postgres import PostgresStore

        return PostgresStore(settings.database_url.get_secret_value())
    from retrieval.precomputed import prepare_version

    return FolderStore(settings.index_dir, prepare=prepare_version)


def load_settings_embedder(settings: Settings) -> Embedder:
    """The embedding model the settings name (its local ONNX export when there is one)."""
    return load_embedder(
        settings.embedding_model, settings.index_dir, settings.use_onnx, settings.embed_precision
    )


def open_settings_export(settings: Settings) -> Embedder | None:
    """The settings' embedder if its ONNX export is there to open (nothing written), else None."""
    from retrieval.embedding import open_exported

    return open_exported(
        settings.embedding_model, settings.index_dir, settings.use_onnx, settings.embed_precision
    )


def open_service(settings: Settings, progress: Progress | None = None) -> AnsweringService:
    """The answering service over the live index, building the index first if there is none."""
    from retrieval.service import build_service

    return build_service(settings, progress=progress)


def compare_leanings(
    service: AnsweringService, question: str, filters: Filters | None = None, per_leaning: int = 2
) -> Comparison:
    """The question answered from each leaning's outlets alone, side by side (`usru compare`)."""
    from retrieval.compare import compare_leanings as compare

    return compare(service, question, filters, per_leaning)


def topic_timeline(
    service: AnsweringService, topic: str, by: Granularity = "month", filters: Filters | None = None
) -> Timeline:
    """Articles mentioning the topic per month or week and leaning, quoted at the peaks (`usru timeline`)."""
    from retrieval.timeline import build_timeline

    return build_timeline(service, topic, by, filters)


def index_sources(
    settings: Settings,
    *,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    paths: list[Path] | None = None,
    allow_shrink: bool = False,
) -> IndexSummary:
    """Bring the index up to date with the sources folder (`usru index`)."""
    return open_store(settings).update(
        settings.sources,
        load_settings_embedder(settings),
        vectors=settings.vectors,
        rebuild=rebuild,
        wait=wait,
        progress=progress,
        paths=paths,
        allow_shrink=allow_shrink,
    )


@dataclass
class Watching:
    """A running watcher of the sources folder: wait for it, or close it."""

    thread: threading.Thread
    stop: threading.Event
    failures: list[Exception] = field(default_factory=list)

    def wait(self) -> None:
        """Block until the watcher ends (Ctrl-C arrives here as KeyboardInterrupt); raise what ended it."""
        while self.thread.is_alive():
            self.thread.join(0.2)
        if self.failures:
            raise self.failures[0]

    def close(self, timeout: float = 10.0) -> None:
        """Stop watching and wait (up to `timeout` seconds) for a re-index under way to finish."""
        self.stop.set()
        self.thread.join(timeout)


def watch_sources(
    settings: Settings,
    *,
    rebuild: bool = False,
    on_summary: Callable[[IndexSummary], None],
    on_error: Callable[[Exception], None] | None = None,
    on_changes: Callable[[list[str]], None] | None = None,
) -> Watching:
    """Index now, then re-index after each burst of changes in a background thread (`usru index --watch`).

    The first run honours `rebuild`; later ones are incremental. Every run waits for another indexer.
    A failed run goes to `on_error` and watching goes on; what stops the watcher is raised by `wait()`.
    """
    from retrieval.watch import start_watcher

    embedder = load_settings_embedder(settings)
    store = open_store(settings)
    first = [True]

    def reindex(paths: list[Path] | None) -> IndexSummary:
        again, first[0] = rebuild and first[0], False
        return store.update(
            settings.sources, embedder, vectors=settings.vectors, rebuild=again, wait=True, paths=paths
        )

    failures: list[Exception] = []
    thread, stop = start_watcher(
        settings.sources,
        settings.index_dir,
        reindex,
        on_summary=on_summary,
        on_error=on_error,
        on_changes=on_changes,
        on_stopped=failures.append,
    )
    return Watching(thread, stop, failures)


# What libpq accepts as a connection URI; anything else given to load_retriever is an index folder.
DATABASE_SCHEMES = ("postgresql://", "postgres://")


def model_of(embedder_name: str | None) -> tuple[str, str]:
    """The EMBEDDING_MODEL and USRU_EMBED_PRECISION settings that give the embedder an index was built with."""
    from retrieval.onnx_precision import FP32, split_name

    if not embedder_name:
        return "", FP32
    name, precision = split_name(embedder_name)
    return ("" if name == BUNDLED_MODEL else name), precision


def export_dir_for(index_dir: str | Path, cache_dir: str | Path | None, precision: str) -> Path | None:
    """The folder the model's ONNX export is kept in for `load_retriever` (None: embed with torch).

    An index folder keeps it. A database has no folder: `cache_dir` if given, else, for int8 vectors (only
    the export embeds at int8), the folder `usru` keeps a database's local caches in (USRU_INDEX_DIR).
    """
    if not (isinstance(index_dir, str) and index_dir.startswith(DATABASE_SCHEMES)):
        return Path(index_dir)
    if cache_dir is not None:
        return Path(cache_dir)
    if precision == FP32:
        return None
    return Path(os.environ.get("USRU_INDEX_DIR") or Settings.model_fields["index_dir"].default)


def load_retriever(
    index_dir: str | Path, k: int = 4, *, use_onnx: bool = True, cache_dir: str | Path | None = None
) -> BaseRetriever:
    """A LangChain retriever over an index that `usru index` built: hybrid dense + BM25 search.

    `index_dir` is the index folder, or the `postgresql://` URL of a database `usru index` wrote
    (USRU_DATABASE_URL). It returns the `k` best passages (a `k` passed to `invoke` wins) as Documents
    whose metadata name the article (source, title, publisher, date) and the passage's offsets in it.
    Questions are embedded with the model the index was built with; a newer index version is picked up
    between questions. Over a database, `cache_dir` is where the model's ONNX export is written (see
    export_dir_for).
    """
    from retrieval.retriever import HybridRetriever

    store: IndexStore
    if isinstance(index_dir, str) and index_dir.startswith(DATABASE_SCHEMES):
        from retrieval.postgres import PostgresStore

        store = PostgresStore(index_dir)
    else:
        store = FolderStore(Path(index_dir))
    loaded: list[StoredVersion] = [store.load()]
    model, precision = model_of(loaded[0].embedding_model)
    embedder = load_embedder(model, export_dir_for(index_dir, cache_dir, precision), use_onnx, precision)
    lock = threading.Lock()

    def live() -> StoredVersion:
        with lock:
            try:
                newest = store.current_version()
                if newest is not None and newest != loaded[0].version:
                    loaded[0] = store.load()
            except IndexError_:
                pass  # keep answering from the version loaded, as the service does
            return loaded[0]

    return HybridRetriever(get_index=live, embedder=embedder, k=k)
