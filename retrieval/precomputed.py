"""Work done once when an index version is written, not each time a process loads it (issue 13).

Two things depend on a version alone and used to be worked out by every process that loaded it: the
refusal floor's chance level (calibration.py: 16 probe questions asked of the version, about 1.6 s with
the bundled model before the first answer) and the version's words by sound for names in Russian
questions (russian.py, about 0.4 s). A folder update now computes both and stores them as JSON beside the
version's manifest (never a pickle); a process loading the version reads them back. A version written
before, or kept in PostgreSQL, has none, and they are computed at load as before.

Each stored value is keyed by a digest of the code that computes it (every module of the retrieval
package) and of the embedding model, so a value computed by another usru is never read as this one's.
A value computed at load because the stored one was keyed by other code (usru was updated since the
version was written) is kept beside it as NAME-KEY.json, so only the first process after an update pays
for it: on the whole AllSides index each cold `usru ask` took 1.8 s more until the index was rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from retrieval.calibration import PROBES, chance_level, margin_of
from retrieval.embedding import Embedder
from retrieval.index import Index, StoredVersion
from retrieval.transliteration import SoundIndex

CHANCE = "chance"
SOUNDS = "sounds"

_CODE: list[str] = []
_CODE_LOCK = threading.Lock()


def code_digest() -> str:
    """A digest of every module of the retrieval package: what the stored values were computed by."""
    with _CODE_LOCK:
        if not _CODE:
            root = Path(__file__).resolve().parent
            digest = hashlib.sha256()
            for path in sorted(root.rglob("*.py")):
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
            _CODE.append(digest.hexdigest()[:32])
        return _CODE[0]


def _key(embedder_name: str | None) -> str:
    digest = hashlib.sha256(f"{code_digest()}\0{embedder_name}\0{chr(0).join(PROBES)}".encode())
    return digest.hexdigest()[:32]


def prepare_version(index: Index, embedder: Embedder) -> dict[str, Any]:
    """What a new version stores beside its manifest: {file stem: JSON value}."""
    from retrieval.extractive import best_relevance
    from retrieval.russian import build_sound_index

    prepared: dict[str, Any] = {}
    if margin_of(embedder.name) is not None:  # other models keep the fixed floor: no chance level is needed
        level = chance_level(index, embedder, best_relevance)
        prepared[CHANCE] = {"key": _key(embedder.name), "chance": level}
    sounds = build_sound_index(index)
    prepared[SOUNDS] = {
        "key": _key(None),
        "by_key": {k: [list(entry) for entry in v] for k, v in sounds.by_key.items()},
    }
    return prepared


def _stored(index: StoredVersion, name: str, embedder_name: str | None) -> dict[str, Any] | None:
    """The value stored with the version under this name, if it is there and computed by this code."""
    if not isinstance(index, Index):
        return None
    key = _key(embedder_name)
    # As written with the version, else as a process of this code computed it since (_remember).
    for path in (index.folder / f"{name}.json", index.folder / f"{name}-{key}.json"):
        try:
            value = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue  # a version written before these were stored, or a damaged file: compute again
        if isinstance(value, dict) and value.get("key") == key:
            return value
    return None


def _remember(index: StoredVersion, name: str, embedder_name: str | None, value: dict[str, Any]) -> None:
    """Keep a value computed at load beside the version (NAME-KEY.json), for the next process of this code.

    Written to a temporary name and renamed, so a reader never sees half a file; an index folder this
    process cannot write (read-only, another user's) keeps nothing and the value is computed again.
    """
    if not isinstance(index, Index):
        return
    key = _key(embedder_name)
    path = index.folder / f"{name}-{key}.json"
    tmp = index.folder / f".{name}-{key}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(json.dumps({**value, "key": key}, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def stored_chance_level(index: StoredVersion, embedder: Embedder) -> tuple[bool, float | None]:
    """(found, level): the chance level stored with the version for this embedder, if there is one."""
    value = _stored(index, CHANCE, embedder.name)
    level = None if value is None else value.get("chance")
    if value is None or not (level is None or isinstance(level, float | int)):
        return False, None
    return True, None if level is None else float(level)


def measure_chance_level(index: StoredVersion, embedder: Embedder) -> float | None:
    """The version's chance level: stored when it was written, else asked of it now."""
    found, level = stored_chance_level(index, embedder)
    if found:
        return level
    from retrieval.extractive import best_relevance

    level = chance_level(index, embedder, best_relevance)
    _remember(index, CHANCE, embedder.name, {"chance": level})
    return level


def load_sound_index(index: StoredVersion) -> SoundIndex:
    """The version's words by sound: as stored when it was written, else built now."""
    from retrieval.russian import build_sound_index

    value = _stored(index, SOUNDS, None)
    by_key = None if value is None else value.get("by_key")
    if not isinstance(by_key, dict):
        return build_sound_index(index)
    return build_sound_index(
        index, {k: tuple((str(f), str(w), int(n)) for f, w, n in v) for k, v in by_key.items()}
    )
