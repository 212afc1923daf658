"""Building: bring the index up to date with the sources folder as a new version, then make it live.

Adding an article writes one small segment and a new manifest, so its cost does not grow with the
corpus; deleting one only lists it in the manifest. When segments pile up, the small ones are merged.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.answer import one_line
from retrieval.article import Article
from retrieval.chunking import CHUNKER_VERSION, chunk_article, indexed_text
from retrieval.embedding import Embedder
from retrieval.errors import IndexError_, SourcesError
from retrieval.index import changes, durability
from retrieval.index.article_table import write_article_table
from retrieval.index.changes import (
    FileCache,
    LiveArticles,
    Plan,
    Planned,
    body_hash,
    check_sources,
    next_aliases,
    plan_update,
    read_planned,
    source_name,
)
from retrieval.index.durability import (
    FORMAT_VERSION,
    clean_old,
    index_lock,
    next_name,
    publish_folder,
    publish_version,
    remove_partial_files,
    write_failed,
)
from retrieval.index.ivf import update_quantizer
from retrieval.index.merged_bm25 import merge_segments_bm25, needs_merging, write_merged_bm25
from retrieval.index.records import ChunkTable, IndexSummary, Progress, SentenceTable, StoredArticle
from retrieval.index.resume import BATCH_ARTICLES, clear_pending, take_finished, write_pending
from retrieval.index.segments import SegmentData, merge, read_segment, write_segment
from retrieval.index.sentence_cells import update_cells
from retrieval.index.stored_ivf import write_stored_ivf
from retrieval.index.vectors import DEFAULT_VECTORS, TWO_PASSES, check_scheme, embed_segment
from retrieval.index.view import Index
from retrieval.lexical import Bm25, tokenize

# Work a new version stores beside its manifest (retrieval/precomputed.py): {file stem: JSON value}.
Prepare = Callable[[Index, Embedder], dict[str, Any]]

MAX_SEGMENTS = 8
# The most live articles one merge reads: the corpus may then stay in more than MAX_SEGMENTS segments.
MERGE_LIMIT_ARTICLES = 4 * BATCH_ARTICLES


def build_index(
    sources: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    vectors: str = DEFAULT_VECTORS,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    paths: list[Path] | None = None,
    allow_shrink: bool = False,
    prepare: Prepare | None = None,
) -> IndexSummary:
    """Bring the index up to date (see _update_index); a failed write raises IndexError_, old version live."""
    try:
        return _update_index(
            sources,
            index_dir,
            embedder,
            vectors=vectors,
            rebuild=rebuild,
            wait=wait,
            progress=progress,
            paths=paths,
            allow_shrink=allow_shrink,
            prepare=prepare,
        )
    except (OSError, sqlite3.Error) as exc:  # a full disk, an unwritable folder
        raise write_failed(index_dir, exc) from exc


def _update_index(
    sources: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    vectors: str = DEFAULT_VECTORS,
    rebuild: bool = False,
    wait: bool = False,
    progress: Progress | None = None,
    paths: list[Path] | None = None,
    allow_shrink: bool = False,
    prepare: Prepare | None = None,
) -> IndexSummary:
    """Bring the index up to date with the files under `sources` as a new version and make it live.

    With `paths`, only those files are looked at (a watcher knows what changed); the cost then
    depends on them alone, not on the size of the corpus. An update that would drop more than half
    of the live articles because their files cannot be read now is refused unless `allow_shrink`.
    """
    started = time.perf_counter()
    check_scheme(vectors)
    check_sources(sources)
    with index_lock(index_dir, wait=wait):
        for sub in ("versions", "segments"):
            (index_dir / sub).mkdir(parents=True, exist_ok=True)
        live = LiveArticles(index_dir)
        cache = FileCache(index_dir / "filecache.sqlite")
        try:
            m = live.manifest
            reusable = (
                m is not None
                and not rebuild
                and m.get("embedding_model") == embedder.name
                and m.get("chunker") == CHUNKER_VERSION
                # Vectors made another way would not compare with the new ones.
                and m.get("vectors", TWO_PASSES) == vectors
            )
            previous = None if m is None else (int(m["articles"]), str(m["version"]))
            plan = plan_sources(sources, paths, live, reusable, cache, progress, previous, allow_shrink)
            durability.checkpoint("read")
            # A run that changes nothing keeps the live version instead of writing an identical new one
            # (which would make every running bot and REPL reload it for nothing).
            if (
                m is not None
                and reusable
                and not (plan.added or plan.deleted or plan.new or plan.changed or plan.removed)
                and not plan.unaliased
                and all(live.aliases.get(k) == v for k, v in plan.aliases.items())
            ):
                # Still tidy up: a run killed after making its version live left the old ones behind,
                # and with nothing to add, nothing can be taken from a stopped run's segments.
                clear_pending(index_dir)
                clean_old(index_dir, str(m["version"]))
                cache.update(plan.stats, plan.removed)
                return IndexSummary(
                    version=str(m["version"]),
                    articles=int(m["articles"]),
                    chunks=int(m["chunks"]),
                    sentences=int(m["sentences"]),
                    seconds=time.perf_counter() - started,
                    embedded_articles=0,
                    reused_articles=int(m["articles"]),
                    skipped=plan.skipped,
                )
            if m is not None and reusable:
                segments = [dict(s, deleted=list(s["deleted"])) for s in m["segments"]]
                totals = {k: int(m[k]) for k in ("articles", "chunks", "sentences")}
            else:
                segments, totals = [], {"articles": 0, "chunks": 0, "sentences": 0}
            embedded = len(plan.added)
            if plan.added:
                # Handed over, not shared: _add_articles lets each batch's texts go once it is written.
                added, plan.added = plan.added, []
                try:
                    segments, taken = _add_articles(
                        index_dir, sources, plan, added, segments, embedder, vectors, totals, progress
                    )
                finally:
                    # The finishing steps below embed nothing: a bf16 run's torch worker goes before them,
                    # and its memory with it (issue 13).
                    release = getattr(embedder, "release_passages", None)
                    if release is not None:
                        release()
                embedded -= taken + len(plan.left_out)
            # Deleted only now: a changed file that cannot be read again keeps its indexed version (read_planned).
            by_segment: dict[int, list[int]] = {}
            for pos, aid in plan.deleted:
                by_segment.setdefault(pos, []).append(aid)
            for pos, ids in by_segment.items():
                n_chunks, n_sents = live.counts(pos, ids)
                totals["articles"] -= len(ids)
                totals["chunks"] -= n_chunks
                totals["sentences"] -= n_sents
                segments[pos]["deleted"] = sorted({*segments[pos]["deleted"], *ids})
            segments = [s for s in segments if _live_count(index_dir, s) > 0]
            if totals["articles"] <= 0:
                detail = f" ({len(plan.skipped)} skipped: {plan.skipped[0][1]}…)" if plan.skipped else ""
                raise SourcesError(f"No readable .txt or .md articles in {sources}{detail}.")
            segments = _compact(index_dir, segments, embedder)
            quantizer = update_quantizer(
                index_dir,
                segments,
                totals["chunks"],
                m.get("quantizer") if m and reusable else None,
                embedder.dim,
            )
            sentence_cells = update_cells(
                index_dir,
                segments,
                totals["sentences"],
                m.get("sentence_cells") if m and reusable else None,
                embedder.dim,
            )
            aliases = next_aliases(live.aliases, plan, reusable)
            version = next_name(index_dir / "versions", "v")
            manifest = {
                "format": FORMAT_VERSION,
                "version": version,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "embedding_model": embedder.name,
                "dim": embedder.dim,
                "chunker": CHUNKER_VERSION,
                "vectors": vectors,
                "segments": segments,
                "aliases": {k: list(v) for k, v in sorted(aliases.items())},
                **totals,
            }
            if quantizer:
                manifest["quantizer"] = quantizer
            if sentence_cells:
                manifest["sentence_cells"] = sentence_cells
            # Per-version work (the refusal floor's chance level, the sound index) done once, here, so
            # that no process loading the version repeats it before its first answer (issue 13).
            loaded = _read_new(index_dir, manifest) if prepare else None
            prepared = prepare(loaded, embedder) if prepare and loaded else None
            durability.checkpoint("prepared")
            # The merged postings too, so that no process loading the version merges them again.
            bm25 = None
            if needs_merging(manifest):
                bm25 = loaded.bm25 if loaded else _read_new(index_dir, manifest, merge_segments_bm25)
            # And the filled IVF, so that no process loading the version fills it again (stored_ivf.py).
            ivf = None
            if quantizer:
                filled = loaded or _read_new(index_dir, manifest)
                ivf = (filled.faiss, filled.max_norm)
                del filled
            live_folder = index_dir / "versions" / str(m["version"]) if m is not None and reusable else None
            write = functools.partial(_write_load_files, index_dir, manifest, bm25, ivf, live_folder)
            publish_version(index_dir, manifest, prepared, write)
            del loaded, ivf, write
            clear_pending(index_dir)
            clean_old(index_dir, version)
            cache.update(plan.stats, plan.removed)
        except Exception:
            # Under the lock, so that no other indexer's files are taken for leftovers.
            remove_partial_files(index_dir)
            raise
        finally:
            cache.close()
            live.close()

    return IndexSummary(
        version=version,
        articles=totals["articles"],
        chunks=totals["chunks"],
        sentences=totals["sentences"],
        seconds=time.perf_counter() - started,
        embedded_articles=embedded,
        reused_articles=totals["articles"] - embedded,
        new=plan.new_articles(),
        changed=sorted(plan.changed),
        removed=sorted(plan.removed),
        skipped=plan.skipped,
        duplicates=plan.duplicates(),
    )


def _read_new(index_dir: Path, manifest: dict[str, Any], read: Callable[..., Any] = Index) -> Any:
    """The new version read as a loading process reads it; a damaged segment names the rebuild.

    Asking reads the live version's merged postings, not its segments' (merged_bm25.py), so a segment file
    damaged where no recorded digest tells (segments written before digests were) shows first here.
    """
    try:
        return read(index_dir, manifest)
    except ValueError as exc:
        raise IndexError_(
            f"The index at {index_dir} is damaged ({exc}); rebuild it with `usru index --rebuild`."
        ) from exc


def _write_load_files(
    index_dir: Path,
    manifest: dict[str, Any],
    bm25: Bm25 | None,
    ivf: tuple[Any, float] | None,
    live: Path | None,
    folder: Path,
) -> None:
    """What a process loading the version would otherwise work out again: postings, IVF, article rows."""
    if bm25 is not None:
        write_merged_bm25(folder, manifest, bm25)
    if ivf is not None:
        write_stored_ivf(folder, manifest, *ivf)
    write_article_table(folder, index_dir, manifest, live)


def plan_sources(
    sources: Path,
    paths: list[Path] | None,
    live: LiveArticles,
    reusable: bool,
    cache: FileCache,
    progress: Progress | None,
    previous: tuple[int, str] | None,
    allow_shrink: bool,
) -> Plan:
    """The plan for the named paths (or the whole folder), refused if it would drop most of `previous`."""
    targeted = paths is not None and reusable
    if targeted:
        names = sorted({n for p in paths or [] if (n := source_name(sources, p)) is not None})
        on_disk = {n: (sources / n, (sources / n).stat()) for n in names if (sources / n).is_file()}
    else:
        names, (on_disk, outside) = None, changes.scan(sources)
    plan = plan_update(sources, on_disk, names, live, reusable, cache, progress)
    if not targeted:
        plan.skipped.extend(outside)
    if previous is not None and not allow_shrink:
        _refuse_shrink(sources, plan, *previous)
    return plan


def _refuse_shrink(sources: Path, plan: Plan, live: int, version: str) -> None:
    """Keep the live version when most of its articles would go only because their files can't be read."""
    lost = len(plan.unreadable)
    if lost * 2 <= live:
        return
    source, reason = next((s, r) for s, r in plan.skipped if s in plan.unreadable)
    raise SourcesError(
        f"Kept version {version}: {lost} of its {live} articles could not be read from {sources} now "
        f"({one_line(source)}: {one_line(reason)}), so this update would drop them; fix the sources "
        "folder and run it again, or pass --allow-shrink to drop them."
    )


def _live_count(index_dir: Path, seg: dict[str, Any]) -> int:
    meta = json.loads((index_dir / "segments" / seg["name"] / "segment.json").read_text("utf-8"))
    return int(meta["articles"]) - len(seg["deleted"])


def _add_articles(
    index_dir: Path,
    sources: Path,
    plan: Plan,
    articles: list[Planned],
    live_segments: list[dict[str, Any]],
    embedder: Embedder,
    vectors: str,
    totals: dict[str, int],
    progress: Progress | None,
) -> tuple[list[dict[str, Any]], int]:
    """The live segments, then those holding these articles: those a stopped run finished, then new ones a
    batch at a time; and how many articles were taken from the stopped run.

    Each batch is written as a complete segment and recorded in the journal before the next starts,
    so a run killed part-way loses at most one batch; memory holds one batch's vectors, not the corpus's.
    `articles` is emptied: each article is let go once its batch is written (the whole AllSides
    corpus's decoded articles took about 400 MiB, held until the update ended), and articles the plan
    did not keep decoded are read again when their batch comes (read_planned).
    """
    key = {
        "embedding_model": embedder.name,
        "dim": embedder.dim,
        "chunker": CHUNKER_VERSION,
        "vectors": vectors,
    }
    resumed, todo, taken = take_finished(index_dir, key, articles)
    for k, v in taken.items():
        totals[k] += v
    finished = [s["name"] for s in resumed]
    segments = [*live_segments, *resumed]
    total = len(articles)
    done = total - len(todo)
    many = len(todo) > BATCH_ARTICLES
    todo = todo[::-1]  # taken from the end, in order, so that a written batch holds nothing
    articles.clear()
    while todo:
        planned = [todo.pop() for _ in range(min(BATCH_ARTICLES, len(todo)))]
        batch = read_planned(sources, plan, planned)
        size = len(planned)
        del planned
        if not batch:  # every file of the batch went away while the update ran
            done += size
            continue

        def report(stage: str, n: int, of: int, base: int = done, size: int = size) -> None:
            if progress:
                progress("embed", base + (size * n) // max(of, 1), total)

        data = _embed_articles(batch, embedder, vectors, report if progress else None)
        durability.checkpoint("embedded")
        name = _write_new_segment(index_dir, embedder, data)
        segments.append({"name": name, "deleted": []})
        finished.append(name)
        if many:  # a run of one batch has nothing to resume
            write_pending(index_dir, key, finished)
        totals["articles"] += len(data.articles)
        totals["chunks"] += len(data.chunks)
        totals["sentences"] += len(data.sentences)
        done += size
        durability.checkpoint(f"batch:{len(finished)}")
        del data, batch
    return segments, taken["articles"]


def _embed_articles(
    articles: list[Article], embedder: Embedder, vectors: str, progress: Progress | None
) -> SegmentData:
    """Chunk, embed (by the `vectors` scheme) and word-index articles into the parts of one new segment."""
    chunk_rows: list[tuple[int, int, int, int, int]] = []
    sentence_rows: list[tuple[int, int, int, int]] = []
    chunk_texts: list[str] = []
    for aid, article in enumerate(articles):
        for chunk in chunk_article(article):
            lo = len(sentence_rows)
            for s in chunk.sentences:
                sentence_rows.append((aid, s.start, s.end, int(s.quotable)))
            chunk_rows.append((aid, chunk.start, chunk.end, lo, len(sentence_rows)))
            chunk_texts.append(indexed_text(article, chunk))
    chunks = ChunkTable(chunk_rows)
    sentences = SentenceTable(sentence_rows)
    chunk_vecs, sentence_vecs = embed_segment(
        articles, chunk_texts, chunks, sentences, embedder, vectors, progress
    )
    stored = [
        StoredArticle(
            i, a.source, a.title, a.publisher, a.date, a.url, a.content_hash, a.text, body_hash(a), a.leaning
        )
        for i, a in enumerate(articles)
    ]
    return SegmentData(
        stored,
        chunks,
        sentences,
        chunk_vecs,
        sentence_vecs,
        Bm25.build([tokenize(t) for t in chunk_texts]),
    )


def _write_new_segment(index_dir: Path, embedder: Embedder, data: SegmentData) -> str:
    segments = index_dir / "segments"
    name = next_name(segments, "s")
    tmp = segments / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    write_segment(tmp, name, embedder.name, embedder.dim, data)
    publish_folder(tmp, segments / name)
    durability.checkpoint("fsynced")
    return name


def _compact(index_dir: Path, segments: list[dict[str, Any]], embedder: Embedder) -> list[dict[str, Any]]:
    """Merge the small segments once there are too many, leaving a dominant large one alone.

    Each article is merged again only when the small segments together outgrow the large one, so
    the merging work per added article stays bounded as the corpus grows.
    """
    if len(segments) <= MAX_SEGMENTS:
        return segments
    sizes = [_live_count(index_dir, s) for s in segments]
    big = max(range(len(segments)), key=lambda i: sizes[i])
    rest = [i for i in range(len(segments)) if i != big]
    chosen = rest if sizes[big] * 2 >= sum(sizes) else list(range(len(segments)))
    if sum(sizes[i] for i in chosen) > MERGE_LIMIT_ARTICLES:
        # Merging reads every chosen segment into memory: past the limit, merge the smallest only, so
        # a long update's memory is bounded by its batches, not by the corpus (issue 13).
        chosen, size = [], 0
        for i in sorted(range(len(segments)), key=lambda i: sizes[i]):
            if size + sizes[i] > MERGE_LIMIT_ARTICLES:
                break
            chosen.append(i)
            size += sizes[i]
        if len(chosen) < 2:
            return segments
    parts = [
        (
            read_segment(index_dir / "segments" / segments[i]["name"], embedder.dim, mmap=True),
            set(segments[i]["deleted"]),
        )
        for i in chosen
    ]
    merged = _write_new_segment(index_dir, embedder, merge(parts, embedder.dim))
    kept = [s for i, s in enumerate(segments) if i not in chosen]
    return [*kept, {"name": merged, "deleted": []}]
