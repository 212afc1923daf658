"""Which leaning an article's outlet has: its front matter's, else the user's mapping file, else unrated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from retrieval.errors import UsruError
from retrieval.textsafety import one_line, replace_unsafe

UNRATED = "unrated"
# AllSides' scale, left to right; other labels follow in alphabetical order, unrated last.
KNOWN_ORDER = ("left", "lean left", "center", "lean right", "right")
MAX_LABEL_CHARS = 40
# Re-read by every compare and timeline: a mapping of thousands of outlets is well under this.
MAX_FILE_BYTES = 1_000_000
# libyaml's parser when PyYAML was built with it: the pure-Python one takes seconds per megabyte.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class HasOutlet(Protocol):
    """What a leaning is read from: an article row."""

    @property
    def publisher(self) -> str | None: ...
    @property
    def leaning(self) -> str | None: ...


def normalise_label(label: str | None) -> str | None:
    """A leaning as shown and grouped: lower case, one line, single spaces; None when blank."""
    if label is None:
        return None
    text = " ".join(replace_unsafe(str(label)).lower().replace("-", " ").split())[:MAX_LABEL_CHARS]
    return text or None


def outlet_key(name: str) -> str:
    """An outlet name compared without case, punctuation or extra spaces."""
    return " ".join(re.findall(r"[^\W_]+", name.lower()))


@dataclass(frozen=True)
class Leanings:
    """The outlet → leaning mapping from the user's file (empty without one)."""

    by_outlet: Mapping[str, str] = field(default_factory=dict)

    def of(self, article: HasOutlet) -> str:
        """The article's leaning: as its front matter states, else as the mapping says, else unrated."""
        stated = normalise_label(article.leaning)
        if stated:
            return stated
        if article.publisher:
            mapped = self.by_outlet.get(outlet_key(article.publisher))
            if mapped:
                return mapped
        return UNRATED


def load_leanings(path: Path | None) -> Leanings:
    """The mapping file named by USRU_LEANINGS (none: an empty mapping); raises UsruError if unusable."""
    if path is None:
        return Leanings()
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise UsruError(
                f"The leanings file {path} is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
                "it should hold one 'Outlet: label' line per outlet."
            )
        data = yaml.load(raw.decode("utf-8"), Loader=SAFE_LOADER)  # SafeLoader or its C twin
    except OSError as exc:
        raise UsruError(f"Cannot read the leanings file {path} ({exc.strerror or exc}).") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsruError(
            f"The leanings file {path} is not YAML (write one 'Outlet: label' per line)."
        ) from exc
    if data is None:
        return Leanings()
    if not isinstance(data, dict):
        raise UsruError(f"The leanings file {path} must map outlets to labels ('Reuters: center').")
    mapping: dict[str, str] = {}
    for outlet, label in data.items():
        if isinstance(label, list | dict) or isinstance(outlet, list | dict | tuple):
            # Never str() a list: an alias bomb's few lines expand to millions of items.
            raise UsruError(
                f"In the leanings file {path}, {one_line(str(outlet))[:80]!r} must map to one label, "
                "not a list or a mapping."
            )
        key, value = outlet_key(str(outlet)), normalise_label(None if label is None else str(label))
        if key and value:
            mapping[key] = value
    return Leanings(mapping)


def order_labels(labels: Iterable[str]) -> list[str]:
    """Labels left to right on AllSides' scale, then others alphabetically, unrated last."""
    unique = set(labels)
    known = [x for x in KNOWN_ORDER if x in unique]
    others = sorted(x for x in unique if x not in KNOWN_ORDER and x != UNRATED)
    return known + others + ([UNRATED] if UNRATED in unique else [])
