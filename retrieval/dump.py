"""Reading a news dump's records: JSON Lines or CSV, gzip or not, UTF-8 or UTF-16/32 with a byte order mark.

Records come one at a time, with where each sits ("line 12") for messages; a line that cannot be read is
yielded as (where, reason), so that the importer skips it and goes on.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from retrieval.article import MAX_ARTICLE_BYTES
from retrieval.errors import UsruError

Progress = Callable[[int, int], None]


class ImportError_(UsruError):
    """The dump cannot be imported at all (missing, unreadable, no text field)."""


@dataclass(frozen=True)
class Header:
    """A CSV dump's field names, read before its records."""

    names: list[str]


@dataclass(frozen=True)
class Record:
    """One record of the dump, as its fields, with where it sits for messages."""

    where: str
    values: dict[str, str]
    # JSON fields whose value is no string or number, with what it is ("a list"): not to be coerced.
    odd: dict[str, str] = field(default_factory=dict)


def _open_binary(path: Path) -> tuple[Any, IO[bytes]]:
    """The dump's bytes, un-gzipped when they are gzip (told by content, not name), and the raw file."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ImportError_(f"Cannot read {path} ({exc.strerror or exc}).") from exc
    if raw.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw), raw
    return raw, raw


def _is_csv(path: Path, head: bytes) -> bool:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return True
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return False
    return not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def read_records(
    path: Path, progress: Progress | None = None
) -> Generator[Header | Record | tuple[str, str], None, None]:
    """The dump's records (a CSV's header first), or (where, reason) for a line that cannot be read."""
    stream, raw = _open_binary(path)
    total = os.fstat(raw.fileno()).st_size
    with raw, stream:
        try:
            head = bytes(stream.peek(4096)[:4096])
        except (OSError, EOFError, zlib.error) as exc:
            raise ImportError_(f"{path} is not a readable gzip file ({exc}).") from exc
        encoding = _bom_encoding(head)
        if encoding is None and head.count(0) * 4 >= len(head) > 0:
            # Text in UTF-16 or UTF-32 with no byte order mark: read as UTF-8 it was refused record by record
            # and its CSV header shown as "\x00d\x00a\x00t\x00e" (a36).
            raise ImportError_(
                f"{path} looks like UTF-16 or UTF-32 text without a byte order mark; save it as UTF-8 (or with "
                "a byte order mark) to import it."
            )
        if encoding is not None:
            head = head.decode(encoding, "ignore").encode("utf-8")
        if _is_csv(path, head):
            rows = _csv_rows(path, stream, encoding)
        elif encoding is None:
            rows = _json_rows(stream)
        else:
            text = io.TextIOWrapper(stream, encoding=encoding, newline="\n")
            rows = _json_rows(line.encode("utf-8", "surrogatepass") for line in text)
        try:
            for n, item in enumerate(rows, start=1):
                if progress is not None and n % 200 == 0:
                    progress(raw.tell(), total)
                yield item
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            # A truncated or corrupt gzip, or UTF-16 cut mid-character: what was read so far stays imported.
            yield "end of file", f"the file is damaged after this point ({type(exc).__name__}: {exc})"
        if progress is not None:
            progress(total, total)


def _bom_encoding(head: bytes) -> str | None:
    """The dump's encoding when it starts with a UTF-16 or UTF-32 byte order mark, else None (UTF-8)."""
    # Excel's "Unicode text" and PowerShell write UTF-16 with a BOM; read as UTF-8, each record was
    # refused as "not valid UTF-8" (two of them for one record, split at its NUL bytes).
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _json_rows(stream: Iterable[bytes]) -> Iterator[Record | tuple[str, str]]:
    for n, line in enumerate(stream, start=1):
        where = f"line {n}"
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError:
            yield where, "not valid UTF-8"
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield where, f"not valid JSON ({exc.msg})"
            continue
        if not isinstance(obj, dict):
            yield where, "not a JSON object"
            continue
        odd = {str(k): kind for k, v in obj.items() if (kind := _odd_kind(v))}
        yield Record(where, {str(k): _as_text(v) for k, v in obj.items() if v is not None}, odd)


def _odd_kind(value: Any) -> str | None:
    """What a JSON value is when it is no string or number (None for those and for null)."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, float) and not math.isfinite(value):
        return "no finite number"  # 1e400 and 1e500 were both id "inf"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n\n".join(_as_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def _csv_rows(
    path: Path, stream: IO[bytes], encoding: str | None = None
) -> Iterator[Header | Record | tuple[str, str]]:
    # surrogateescape: a bad byte spoils its record only, found per field below, instead of the file.
    text = io.TextIOWrapper(
        stream,
        encoding=encoding or "utf-8-sig",
        errors="strict" if encoding else "surrogateescape",
        newline="",
    )
    csv.field_size_limit(MAX_ARTICLE_BYTES)
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportError_(f"{path} is not a CSV file ({exc}).") from exc
    header = [h.strip() for h in header]
    yield Header([h for h in header if h])
    while True:
        where = f"line {reader.line_num + 1}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield where, f"not a valid CSV row ({exc})"
            continue
        if not any(cell.strip() for cell in row):
            continue
        if any(_has_surrogates(cell) for cell in row):
            yield where, "not valid UTF-8"
            continue
        yield Record(where, {h: cell for h, cell in zip(header, row, strict=False) if h})


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
