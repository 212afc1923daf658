"""Which files changed: scanning the sources folder, the file cache, and the plan of an update.

Change detection only reads the live version's small article tables (through `LiveArticles`), so a
folder of 20,000 articles in which one changed costs one stat per file and one read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.article import ARTICLE_SUFFIXES, Article, read_article
from retrieval.errors import ArticleError, OutsideLinkError, SourcesError
from retrieval.index.durability import current_version, read_manifest
from retrieval.index.ownership import check_not_link
from retrieval.index.records import Progress
from retrieval.index.resume import BATCH_ARTICLES
from retrieval.index.segments import check_segment_files

# Decoded articles a plan keeps: one batch's. The others are read again when their batch comes, so that
# planning a whole archive holds one batch of text, not the corpus's (about 600 MiB for AllSides' 22,835).
KEEP_DECODED = BATCH_ARTICLES


class FileCache:
    """Size and mtime of each indexed file: a file that kept both is not read again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        check_not_link(path)  # sqlite would create or overwrite the file a link points to
        try:
            self._con = self._open()
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)  # only a cache: start it again
            self._con = self._open()

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path)
        con.execute(
            "CREATE TABLE IF NOT EXISTS files (source TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,"
            " content_hash TEXT)"
        )
        return con

    def get_many(self, sources: list[str] | None) -> dict[str, tuple[int, int, str]]:
        """Cached entries for these sources (all of them when None), in one query."""
        if sources is None:
            rows = self._con.execute("SELECT source, mtime_ns, size, content_hash FROM files").fetchall()
        else:
            rows = []
            for k in range(0, len(sources), 500):
                part = sources[k : k + 500]
                rows += self._con.execute(
                    f"SELECT source, mtime_ns, size, content_hash FROM files WHERE source IN ({','.join('?' * len(part))})",
                    part,
                ).fetchall()
        return {r[0]: (int(r[1]), int(r[2]), str(r[3])) for r in rows}

    def update(self, seen: dict[str, tuple[int, int, str]], gone: set[str]) -> None:
        """Remember the files read now and forget the ones gone."""
        with self._con:
            self._con.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", [(s, *v) for s, v in seen.items()]
            )
            self._con.executemany("DELETE FROM files WHERE source = ?", [(s,) for s in gone])

    def close(self) -> None:
        """Close the cache's database."""
        self._con.close()


# One live article as an update sees it: (segment position, local id, content hash, body hash).
Entry = tuple[int, int, str, str]


class LiveArticles:
    """The live version as an update needs it, read from the segments' small tables on demand."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.manifest: dict[str, Any] | None = None
        self.aliases: dict[str, tuple[str, str]] = {}  # duplicate file -> (file indexed, its content hash)
        self._cons: list[sqlite3.Connection] = []
        try:
            version = current_version(index_dir)
            if version is None:
                return
            manifest = read_manifest(index_dir, version)
            for seg in manifest["segments"]:
                folder = index_dir / "segments" / seg["name"]
                check_segment_files(folder, contents=True)
                self._cons.append(sqlite3.connect(f"file:{folder / 'articles.sqlite'}?mode=ro", uri=True))
                # sqlite only notices a file that is no database at the first query: make that now.
                self._cons[-1].execute("SELECT id, source, content_hash, body_hash FROM articles LIMIT 1")
            self._deleted = [set(seg["deleted"]) for seg in manifest["segments"]]
            self.aliases = {k: (v[0], v[1]) for k, v in manifest.get("aliases", {}).items()}
            self.manifest = manifest
        except Exception:  # any damage at all (edited JSON gives TypeErrors too)
            # A damaged index is rebuilt from the files; nothing in it can be trusted for reuse.
            self.close()
            self.manifest, self.aliases, self._cons = None, {}, []

    def _rows(self, where: str, args: list[str]) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for pos, con in enumerate(self._cons):
            for aid, source, chash, bhash in con.execute(
                f"SELECT id, source, content_hash, body_hash FROM articles {where}", args
            ):
                if aid not in self._deleted[pos]:
                    out[source] = (pos, aid, chash, bhash)
        return out

    def primaries(self, sources: list[str] | None = None) -> dict[str, Entry]:
        """Live articles by file name: all of them, or those of the given names."""
        if sources is None:
            return self._rows("", [])
        out: dict[str, Entry] = {}
        for k in range(0, len(sources), 500):
            part = sources[k : k + 500]
            out |= self._rows(f"WHERE source IN ({','.join('?' * len(part))})", part)
        return out

    def with_body(self, bhash: str) -> dict[str, Entry]:
        """Live articles whose words hash to this."""
        return self._rows("WHERE body_hash = ?", [bhash])

    def counts(self, pos: int, ids: list[int]) -> tuple[int, int]:
        """Chunks and sentences of these articles of one segment."""
        row = (
            self._cons[pos]
            .execute(
                f"SELECT COALESCE(SUM(n_chunks), 0), COALESCE(SUM(n_sentences), 0) FROM articles"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    def close(self) -> None:
        """Close every segment's article table."""
        for con in self._cons:
            con.close()


def scan(sources: Path) -> tuple[dict[str, tuple[Path, os.stat_result]], list[tuple[str, str]]]:
    """Every article file under the folder with its stat, in one pass of os.scandir, and the links skipped.

    A link to a folder is not followed: inside the sources folder its articles are indexed under their
    own names, and outside it nothing is read (it is listed as skipped). No folder is read twice. An article file that cannot be stat'ed
    (a link that loops or points nowhere) is listed with its link's own stat, so that reading it fails
    and the summary says why instead of the whole run failing.
    """
    found: dict[str, tuple[Path, os.stat_result]] = {}
    try:
        top = sources.stat()
        stack = [("", list(os.scandir(sources)))]
    except OSError as exc:
        raise SourcesError(f"Cannot read the sources folder {sources} ({exc.strerror or exc}).") from exc
    inside = os.path.join(os.path.realpath(sources), "")
    seen = {(top.st_dev, top.st_ino)}
    outside: list[tuple[str, str]] = []
    while stack:
        prefix, entries = stack.pop()
        for entry in entries:
            if entry.name.startswith("."):
                continue
            name = prefix + entry.name
            is_article = os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES
            try:
                if entry.is_dir():
                    if entry.is_symlink():
                        target = os.path.join(os.path.realpath(entry.path), "")
                        if not target.startswith(inside):
                            # Never walked: a link to / would read the whole machine.
                            outside.append(
                                (f"{name}/", "it is a link to a folder outside the sources folder")
                            )
                        continue
                    st = entry.stat()
                    if (st.st_dev, st.st_ino) not in seen:
                        seen.add((st.st_dev, st.st_ino))
                        stack.append((f"{name}/", list(os.scandir(entry.path))))
                    continue
                if is_article and entry.is_file():
                    found[name] = (Path(entry.path), entry.stat())
                    continue
                if is_article and not entry.is_symlink():
                    # Opening a pipe would wait for a writer forever; a device may never end.
                    outside.append((name, "it is not a regular file (a pipe, socket or device)"))
                    continue
            except OSError:
                pass  # a looping link, or a file or folder that vanished or can't be read
            with contextlib.suppress(OSError):
                if is_article and entry.is_symlink():
                    found[name] = (Path(entry.path), entry.stat(follow_symlinks=False))
    return dict(sorted(found.items())), outside


def check_sources(sources: Path) -> None:
    """Raise SourcesError unless the sources folder exists and is a folder."""
    if not sources.exists():
        raise SourcesError(f"The sources folder {sources} does not exist.")
    if not sources.is_dir():
        raise SourcesError(f"The sources path {sources} is not a folder.")


def list_sources(sources: Path) -> list[Path]:
    """The article files under the sources folder, in a stable order."""
    check_sources(sources)
    return [path for path, _ in scan(sources)[0].values()]


def body_hash(article: Article) -> str:
    """A hash of the article's words alone, so a copy that differs only in page furniture matches."""
    words = " ".join(" ".join(article.text[p.start : p.end].lower().split()) for p in article.paragraphs)
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def source_name(sources: Path, path: Path) -> str | None:
    """The file's name relative to the sources folder, or None if it is no article file in it."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(sources))
    except ValueError:
        return None
    if rel.suffix.lower() not in ARTICLE_SUFFIXES or any(part.startswith(".") for part in rel.parts):
        return None
    return rel.as_posix()


Fresh = tuple[str, str, str, Article | None, bool]  # source, content hash, body hash, decoded, is a link


@dataclass
class Planned:
    """An article an update embeds: its file, the content planned, and the decoded article if kept."""

    source: str
    content_hash: str
    article: Article | None = None


@dataclass
class Plan:
    """What one update does, file by file."""

    added: list[Planned] = field(default_factory=list)  # articles to embed into a new segment
    deleted: list[tuple[int, int]] = field(default_factory=list)  # (segment position, local id)
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # duplicates found or confirmed now
    unaliased: set[str] = field(default_factory=set)  # files that stopped being duplicates
    new: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    unreadable: set[str] = field(default_factory=set)  # live articles dropped because reading failed now
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    replacing: dict[str, tuple[int, int]] = field(default_factory=dict)  # changed file -> its live article
    left_out: set[str] = field(default_factory=set)  # planned, then unreadable when read again: not indexed

    def new_articles(self) -> list[str]:
        """The new files indexed as articles; a new duplicate of one is among `duplicates()` instead."""
        # Counted as new too, a link beside its file gave "Indexed 1 articles … 2 new".
        return sorted(s for s in self.new if s not in self.aliases)

    def duplicates(self) -> list[tuple[str, str]]:
        """(file, the file it duplicates) for each new or changed file indexed once under another name."""
        return sorted((k, v[0]) for k, v in self.aliases.items() if k in self.new or k in self.changed)


def plan_update(
    sources: Path,
    on_disk: dict[str, tuple[Path, os.stat_result]],
    names: list[str] | None,
    live: LiveArticles,
    reusable: bool,
    cache: FileCache,
    progress: Progress | None,
) -> Plan:
    """Decide, file by file, what stays, what is embedded anew, what is deleted and what duplicates what.

    `names` limits the look to those files (None: every file under the folder).
    """
    plan = Plan()
    primaries = live.primaries(names)
    aliases = live.aliases if names is None else {n: live.aliases[n] for n in names if n in live.aliases}
    known = {s: v[2] for s, v in primaries.items()} | {s: v[1] for s, v in aliases.items()}
    plan.removed = {s for s in known if s not in on_disk}
    cached = cache.get_many(names)
    leaving = set(plan.removed)  # live articles that will not be in the new version
    fresh: list[Fresh] = []
    for i, (source, (path, st)) in enumerate(on_disk.items()):
        if progress:
            progress("read", i, len(on_disk))
        # A link is always read again: where it points is checked on every read, not just the first.
        if (
            reusable
            and source in known
            and cached.get(source) == (st.st_mtime_ns, st.st_size, known[source])
            and not path.is_symlink()
        ):
            continue
        try:
            article = read_article(path, source, root=sources)
        except ArticleError as exc:
            # What an outside link pointed to is never kept, even if an older usru indexed it.
            if reusable and source in primaries and not isinstance(exc, OutsideLinkError):
                plan.skipped.append((source, f"{exc}; kept the version indexed before"))
            else:
                plan.skipped.append((source, str(exc)))
                if reusable and source in primaries:
                    plan.removed.add(source)
                    leaving.add(source)
                elif source in primaries:
                    # A rebuild keeps nothing it cannot read again: the article leaves and is counted.
                    plan.removed.add(source)
                    if not isinstance(exc, OutsideLinkError):
                        plan.unreadable.add(source)
                if source in aliases:
                    plan.unaliased.add(source)
                    plan.removed.add(source)
            continue
        plan.stats[source] = (st.st_mtime_ns, st.st_size, article.content_hash)
        if source not in known:
            plan.new.add(source)
        elif known[source] != article.content_hash:
            plan.changed.add(source)
        elif reusable:
            continue
        if source in primaries:
            leaving.add(source)
            if reusable:
                plan.replacing[source] = primaries[source][:2]
        if source in aliases:
            plan.unaliased.add(source)
        decoded = article if len(fresh) < KEEP_DECODED else None
        fresh.append((source, article.content_hash, body_hash(article), decoded, path.is_symlink()))
    bodies: dict[str, str] = {}
    for source, chash, bhash, decoded, _ in _files_before_links(fresh):
        owner = bodies.get(bhash)
        if owner is None and reusable:
            owner = next((s for s in live.with_body(bhash) if s not in leaving), None)
        if owner is not None and owner != source:
            plan.aliases[source] = (owner, chash)
            continue
        bodies[bhash] = source
        plan.added.append(Planned(source, chash, decoded))
    if reusable:
        plan.deleted = [(primaries[s][0], primaries[s][1]) for s in leaving if s in primaries]
        # A duplicate whose article leaves the index, or changes, stays a duplicate only of an article
        # added now with its words; otherwise it comes back as an article of its own (an edited article
        # took its unchanged copy's words with it, a18).
        for alias, (primary, _) in list(live.aliases.items()):
            if primary not in leaving or alias in plan.removed | plan.unaliased or alias in plan.aliases:
                continue
            if not (sources / alias).is_file():
                continue
            try:
                again = read_article(sources / alias, alias, root=sources)
            except ArticleError as exc:
                plan.skipped.append((alias, str(exc)))
                plan.unaliased.add(alias)
                continue
            bhash = body_hash(again)
            owner = bodies.get(bhash)
            if owner is not None:
                plan.aliases[alias] = (owner, again.content_hash)
                continue
            plan.unaliased.add(alias)
            bodies[bhash] = alias
            plan.added.append(Planned(alias, again.content_hash, again))
    return plan


def _files_before_links(fresh: list[Fresh]) -> list[Fresh]:
    """The files read, in order, except that a file's own name comes before links with the same words.

    The first name of a body becomes the article's: "b.txt", a link to "real/a.txt", sorts first, and the
    link's name was listed as the article's with the real file as "also".
    """
    first: dict[str, int] = {}
    best: dict[str, int] = {}
    for i, (_, _, bhash, _, link) in enumerate(fresh):
        first.setdefault(bhash, i)
        if bhash not in best or (fresh[best[bhash]][4] and not link):
            best[bhash] = i
    order = list(range(len(fresh)))
    for bhash, i in best.items():
        j = first[bhash]
        order[i], order[j] = order[j], order[i]
    return [fresh[k] for k in order]


def next_aliases(live: dict[str, tuple[str, str]], plan: Plan, reusable: bool) -> dict[str, tuple[str, str]]:
    """The duplicates the new version lists: the live ones still duplicates, and those the plan found.

    A duplicate of an article left out (read_planned) is no duplicate of anything indexed: the next update,
    not knowing it, reads and indexes it.
    """
    aliases = dict(live) if reusable else {}
    for gone in plan.removed | plan.unaliased:
        aliases.pop(gone, None)
    aliases.update(plan.aliases)
    return {k: v for k, v in aliases.items() if v[0] not in plan.left_out}


def read_planned(sources: Path, plan: Plan, entries: list[Planned]) -> list[Article]:
    """The articles of these entries: kept ones as they are, the others read again from their files.

    A file changed since it was planned is indexed as it is now; one that can no longer be read is left
    out with the reason among the plan's skipped files (it is read again by the next update).
    """
    out: list[Article] = []
    for entry in entries:
        if entry.article is not None:
            out.append(entry.article)
            continue
        path = sources / entry.source
        try:
            st = path.stat()
            article = read_article(path, entry.source, root=sources)
        except (OSError, ArticleError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _leave_out(plan, entry.source, f"{reason}; it changed while it was being indexed", exc)
            continue
        if article.content_hash != entry.content_hash:
            plan.stats[entry.source] = (st.st_mtime_ns, st.st_size, article.content_hash)
        out.append(article)
    return out


def _leave_out(plan: Plan, source: str, reason: str, exc: Exception) -> None:
    """Plan without a file that could not be read again: a changed article keeps its indexed version, as
    planning keeps it for a file that went bad (not what an outside link points to); a new one waits."""
    plan.stats.pop(source, None)  # the file cache keeps what it had, so the next update reads it again
    plan.new.discard(source)
    plan.changed.discard(source)
    live = plan.replacing.pop(source, None)
    if live is not None and live in plan.deleted and not isinstance(exc, OutsideLinkError):
        plan.deleted.remove(live)
        plan.skipped.append((source, f"{reason}; kept the version indexed before"))
        return
    if live is not None:
        plan.removed.add(source)
    plan.left_out.add(source)
    plan.skipped.append((source, reason))
