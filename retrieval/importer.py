"""Importing a news dump (JSON Lines or CSV, gzip or not) as article files in the sources folder.

Each record becomes `imported/<dump>/<id>.md`: YAML front matter with the dump's metadata, then the
record's text, unchanged but for the inline link cards a scraped page holds (see link_cards). The file
name comes from the record's id, so importing the same dump again
writes the same files, and a file whose bytes would not change is not touched (the incremental index
then re-embeds nothing). Bad records are skipped with a reason; files already imported are never
removed; every file is written to a temporary name and renamed into place. A hidden `.dump` file in the
folder names the dump its records came from, so that another dump of the same name is refused, not mixed in.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from retrieval.article import MAX_ARTICLE_BYTES
from retrieval.dates import parse_date
from retrieval.dump import Header, ImportError_, Progress, Record, read_records
from retrieval.errors import ArticleError
from retrieval.front_matter import read_front_matter
from retrieval.link_cards import strip_link_cards

IMPORT_FOLDER = "imported"
# Names the dump a folder's records came from: two dumps of one name would otherwise share the folder,
# and one's record 1 would replace the other's. Hidden, so never indexed.
DUMP_MARKER = ".dump"
FIELDS = ("id", "title", "text", "date", "publisher", "url", "leaning")
# The fields an article's front matter states, in the order written.
METADATA = ("title", "publisher", "date", "url", "leaning")
# Field names tried, in order, when the user names none (compared case-insensitively).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "article_id", "doc_id", "uuid", "guid", "ID"),
    "title": ("title", "headline", "heading", "name"),
    "text": ("text", "content", "body", "content_original", "article", "story", "full_text"),
    "date": ("date", "published", "published_at", "publish_date", "pub_date", "publication_date", "datetime"),
    "publisher": ("publisher", "source", "outlet", "publication", "site_name", "site", "media"),
    "url": ("url", "link", "href", "source_url"),
    "leaning": ("leaning", "bias", "bias_text", "political_leaning"),
}
MAX_NAME_CHARS = 100
_SAFE_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv")


@dataclass(frozen=True)
class ImportOptions:
    """Which fields hold what (None: detected), and which records to take."""

    fields: dict[str, str] = field(default_factory=dict)
    match: str | None = None
    since: str | None = None
    until: str | None = None
    # Keep the inline link cards of scraped pages in the texts (see link_cards), as the dump has them.
    keep_link_cards: bool = False


@dataclass
class ImportSummary:
    """What one import did; `skipped` lists (record, reason) like the index's skipped files."""

    folder: str
    fields: dict[str, str]
    records: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    filtered: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    link_cards: int = 0  # inline link cards removed from the texts written
    carded: int = 0  # records written without them


def dump_stem(path: Path) -> str:
    """The dump's name without .gz and its format suffix, safe as a folder name."""
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return file_name(name or "dump")


def file_name(raw_id: str) -> str:
    """A file name for an id: the id itself when it is plainly safe, else a cleaned form plus its hash.

    Ids that differ only in case or in unsafe characters ("a/b", "a?b", "A-B") would meet on some file
    systems once cleaned, so every id that needs cleaning carries a hash of the original.
    """
    if _SAFE_ID.fullmatch(raw_id) and len(raw_id) <= MAX_NAME_CHARS and not raw_id.endswith("."):
        return raw_id
    cleaned = _UNSAFE_CHARS.sub("_", raw_id).strip("._-")[: MAX_NAME_CHARS - 17] or "record"
    return f"{cleaned}-{hashlib.sha256(raw_id.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def render_record(values: dict[str, str]) -> str:
    """An article file's text: front matter with the metadata the record has, then its text unchanged."""
    meta = {k: " ".join(values[k].split()) for k in (*METADATA, "id")}
    front = {k: v for k, v in meta.items() if v}
    head = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1_000_000) if front else ""
    return f"---\n{head}---\n{values['text']}"


def detect_fields(names: list[str], given: dict[str, str]) -> dict[str, str]:
    """Which of the dump's field names holds each of FIELDS: the given ones, else the first known name."""
    by_lower = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    for key in FIELDS:
        if given.get(key):
            out[key] = given[key]
            continue
        for candidate in FIELD_NAMES[key]:
            if candidate.lower() in by_lower:
                out[key] = by_lower[candidate.lower()]
                break
    return out


def _date_bounds(value: str | None, flag: str) -> tuple[str, str] | None:
    """The first and last day a --since/--until value covers (2017 → 2017-01-01..2017-12-31)."""
    from retrieval.filters import date_range

    if value is None:
        return None
    bounds = date_range(value)
    if bounds is None:
        raise ImportError_(f"{flag} {value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD.")
    return bounds


class Importer:
    """Writes a dump's records into a sources folder."""

    def __init__(self, sources: Path, options: ImportOptions) -> None:
        self.sources = sources
        self.options = options
        self._unclaimed: bytes | None = None  # the folder's .dump, until the first article is written
        try:
            self.match = re.compile(options.match, re.IGNORECASE) if options.match else None
        except re.error as exc:
            raise ImportError_(f"--match {options.match!r} is not a regular expression ({exc}).") from exc
        since = _date_bounds(options.since, "--since")
        until = _date_bounds(options.until, "--until")
        self.since = since[0] if since else None
        self.until = until[1] if until else None
        if self.since and self.until and self.since > self.until:
            # As `ask` says it: an import that filters out every record is a mistake, not a success.
            raise ImportError_(
                f"--since {options.since} is after --until {options.until}: no record can be in between."
            )

    def run(self, dump: Path, progress: Progress | None = None) -> ImportSummary:
        """Import every record of the dump; returns what was written, unchanged, filtered and skipped."""
        import time

        t0 = time.perf_counter()
        if not dump.is_file():
            raise ImportError_(f"The dump {dump} does not exist or is not a file.")
        if self.sources.exists() and not self.sources.is_dir():
            raise ImportError_(f"The sources folder {self.sources} is not a folder.")
        # An import is how an archive's folder usually starts: make it, as `git clone` makes its target.
        try:
            self.sources.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ImportError_(f"The sources folder {self.sources} cannot be made ({exc.strerror}).") from exc
        folder = self.sources / IMPORT_FOLDER / dump_stem(dump)
        # The index walks no link out of the sources folder: records written through one would be written
        # elsewhere and never indexed.
        if not folder.resolve().is_relative_to(self.sources.resolve()):
            raise ImportError_(
                f"{folder.relative_to(self.sources).as_posix()} in {self.sources} is a link to a folder "
                "outside the sources folder; nothing was imported."
            )
        summary = ImportSummary(folder=folder.relative_to(self.sources).as_posix(), fields={})
        for path in (folder.parent, folder):
            if path.exists() and not path.is_dir():
                rel = path.relative_to(self.sources).as_posix()
                raise ImportError_(
                    f"{rel} in {self.sources} is a file, not a folder; move it away to import {dump.name}."
                )
        source = os.fsencode(dump.resolve())
        claimed = _claimed_by(folder)
        if claimed is not None and claimed != source:
            raise ImportError_(
                f"{summary.folder} in {self.sources} holds the records of {os.fsdecode(claimed)}, another dump "
                f"of the same name; rename {dump.name} to import it beside them (or, if it is that dump moved, "
                f"delete {summary.folder}/{DUMP_MARKER})."
            )
        self._unclaimed = source + b"\n" if claimed is None else None
        fields: dict[str, str] | None = None
        keys: set[str] = set()
        seen: dict[str, str] = {}
        self._check_named_fields(dump)
        for item in read_records(dump, progress):
            if isinstance(item, Header):
                continue
            if isinstance(item, tuple):
                summary.records += 1
                summary.skipped.append(item)
                continue
            if fields is not None and not keys.issuperset(item.values):
                # JSON records may each carry other fields: a field first seen here is detected now.
                keys.update(item.values)
                fields = detect_fields(sorted(keys), self.options.fields) | fields
                summary.fields = fields
            if fields is None:
                keys.update(item.values)
                fields = detect_fields(list(item.values), self.options.fields)
                summary.fields = fields
                if "text" not in fields:
                    raise ImportError_(
                        f"No text field found in {dump.name} (fields: {', '.join(sorted(item.values)) or 'none'}); "
                        "name it with --text."
                    )
            summary.records += 1
            self._take(item, fields, folder, seen, summary)
        if summary.written:
            _fsync_dir(folder)
        summary.seconds = time.perf_counter() - t0
        return summary

    def _check_named_fields(self, dump: Path) -> None:
        """Refuse a field option that names no field of the dump, before anything is written."""
        # A named field the dump lacks reads as empty in every record: a re-import would then strip
        # that metadata from every article imported before.
        wanted = {name for name in self.options.fields.values() if name}
        if not wanted:
            return
        names: dict[str, None] = {}
        with contextlib.closing(read_records(dump)) as items:
            for item in items:
                if isinstance(item, Header):
                    names = dict.fromkeys(item.names)
                    break
                if isinstance(item, Record):
                    # JSON records may each carry other fields: read on until every named one was seen.
                    names.update(dict.fromkeys(item.values))
                    if wanted.issubset(names):
                        return
        if not names:
            return  # no record could be read: the import itself says so
        for key in FIELDS:
            name = self.options.fields.get(key)
            if name and name not in names:
                shown = ", ".join(list(names)[:20]) + (", …" if len(names) > 20 else "")
                raise ImportError_(f"No field {name!r} in {dump.name} for --{key} (its fields: {shown}).")

    def _take(
        self,
        record: Record,
        fields: dict[str, str],
        folder: Path,
        seen: dict[str, str],
        summary: ImportSummary,
    ) -> None:
        for key, name in fields.items():
            kind = record.odd.get(name)
            # A text may come as a list of paragraphs; {"id": ["x"]} or a publisher {"name": "X"} is no
            # value to guess at (the publisher was written as the string '{"name": "X"}').
            if kind and not (key == "text" and kind == "a list"):
                summary.skipped.append((record.where, f"the {key} field {name!r} holds {kind}, not text"))
                return
        values = {k: record.values.get(name, "") for k, name in fields.items()}
        values = {k: values.get(k, "") for k in FIELDS}
        text = values["text"]
        if not text.strip():
            summary.skipped.append((record.where, "no text"))
            return
        try:
            for value in values.values():
                value.encode("utf-8")
        except UnicodeEncodeError:
            # JSON's "\ud800" escape decodes to half a surrogate pair, which no file can hold.
            summary.skipped.append((record.where, "not valid Unicode (a lone surrogate)"))
            return
        if len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
            summary.skipped.append((record.where, f"text larger than {MAX_ARTICLE_BYTES // 1_000_000} MB"))
            return
        if any("\x00" in v for v in values.values()):
            # The index reads a file with a NUL byte as binary and skips it: say so here, write nothing.
            summary.skipped.append((record.where, "a NUL byte in the record (binary data)"))
            return
        # Cleaned before --match reads it, so that no card's headline about Russia picks an article.
        clean, cards = strip_link_cards(text)
        if self.options.keep_link_cards:
            cards = 0
        else:
            values["text"] = text = clean
        if "id" in fields:
            raw_id = values["id"].strip()
            if not raw_id:
                summary.skipped.append((record.where, "no id"))
                return
        else:
            # No id in the dump: the text names the file, so the same record still lands in the same file. The
            # text without its cards, kept or not: a card's headlines change from one scrape to the next (a37, a38).
            raw_id = hashlib.sha256(clean.encode("utf-8")).hexdigest()[:20]
        where = f"{record.where} (id {raw_id})"
        stated = values["date"].strip()
        if stated:
            date = (
                parse_date(stated[:10]) if re.match(r"\d{4}-\d{2}-\d{2}[T ]", stated) else parse_date(stated)
            )
            if date is None and re.fullmatch(r"(?:1[89]|20)\d\d", stated):
                date = stated  # a year alone, as front matter may state it and filters read it
            if date is None:
                summary.skipped.append((where, f"the date {stated[:40]!r} is not a date"))
                return
            values["date"] = date
        if self.match is not None and not self.match.search(values["title"] + "\n" + text):
            summary.filtered += 1
            return
        if self.since or self.until:
            date = values["date"]
            if not date or (self.since and date[:10] < self.since) or (self.until and date[:10] > self.until):
                summary.filtered += 1
                return
        name = file_name(raw_id) + ".md"
        if name in seen:
            summary.skipped.append((where, f"the same id as {seen[name]}; the first one was imported"))
            return
        seen[name] = record.where
        values["id"] = raw_id
        path = folder / name
        # A field this record lacks keeps what the article already states: a re-import with --publisher naming
        # a field only some records have emptied the publisher of the others (a36). It never removes metadata.
        for key, kept in _stated_metadata(path).items():
            if not values[key].strip():
                values[key] = kept
        data = render_record(values).encode("utf-8")
        try:
            unchanged = path.read_bytes() == data
        except FileNotFoundError:
            unchanged = False
        except OSError as exc:
            summary.skipped.append((where, f"cannot read the existing {name} ({exc.strerror or exc})"))
            return
        try:
            self._claim(folder)
            if unchanged:
                summary.unchanged += 1
                return
            _write_atomically(path, data)
        except OSError as exc:
            raise ImportError_(
                f"Cannot write {path} ({exc.strerror or exc}); the files imported so far are kept."
            ) from exc
        summary.written.append(f"{summary.folder}/{name}")
        if cards:
            summary.link_cards += cards
            summary.carded += 1

    def _claim(self, folder: Path) -> None:
        """Make the folder and write its .dump once the dump has an article in it.

        Not before: an import that writes none (every record filtered out or skipped) leaves nothing behind.
        """
        if self._unclaimed is not None:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(folder / DUMP_MARKER, self._unclaimed)
            self._unclaimed = None


def _stated_metadata(path: Path) -> dict[str, str]:
    """The metadata an imported article's front matter states (none for a missing or unreadable file)."""
    try:
        front, _ = read_front_matter(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ArticleError):
        return {}
    return {
        k: str(v)
        for k in METADATA
        if isinstance(v := front.get(k), str | int) and not isinstance(v, bool) and str(v).strip()
    }


def _claimed_by(folder: Path) -> bytes | None:
    """The resolved path of the dump whose records the folder holds, or None when no import said."""
    try:
        return (folder / DUMP_MARKER).read_bytes().removesuffix(b"\n")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ImportError_(f"Cannot read {folder / DUMP_MARKER} ({exc.strerror or exc}).") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a hidden temporary file beside the target (never indexed), then rename over it."""
    # Not mkstemp: its files are 0600 whatever the umask, and an article should be readable as any
    # other file the user makes (0644 under umask 022).
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise


def _suppress_os_error() -> Any:
    import contextlib

    return contextlib.suppress(OSError)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def import_dump(
    dump: Path, sources: Path, options: ImportOptions | None = None, progress: Progress | None = None
) -> ImportSummary:
    """Import a news dump into the sources folder (see the module docstring)."""
    return Importer(sources, options or ImportOptions()).run(dump, progress)
