"""Damaged index files: every command says so in one line naming `usru index --rebuild`, exits non-zero,
prints no answer, unpickles nothing, and the rebuild it names really fixes the index.

The commands run in-process through `bot.cli.main` (the console script's entry point) with the hashing
embedder, so the whole matrix costs a few seconds; tests/cli/test_cli.py runs the real executable.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.support.cli import QUESTION, QUOTE
from tests.support.in_process import Usru

REBUILD = "usru index --rebuild"


class Pickled:
    """An object whose unpickling leaves a mark: proof that nothing in usru unpickles."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return (Path.touch, (self.mark,))


def _rewrite(path: Path, change: Callable[[bytes], bytes]) -> None:
    path.write_bytes(change(path.read_bytes()))


def _same_size_garbage(path: Path) -> None:
    _rewrite(path, lambda data: bytes((b * 7 + 13) % 256 for b in data))


def _edit_json(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _sql(path: Path, statement: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(statement)
        con.commit()
    finally:
        con.close()


def _pickle_into(path: Path) -> None:
    with path.open("wb") as fh:
        np.save(
            fh, np.array([Pickled(path.parent.parent.parent / "UNPICKLED")], dtype=object), allow_pickle=True
        )


def _object_header(path: Path) -> None:
    """Mark the array as one of Python objects, keeping the file's size (so sizes still agree)."""
    data = path.read_bytes()
    end = data.index(b"\n") + 1
    assert b"'<f4'" in data[:end]
    path.write_bytes(data[:end].replace(b"'<f4'", b"'|O' ") + data[end:])


# Each damage takes the live version folder and its (only) segment folder.
DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "chunks.faiss truncated": lambda v, s: _rewrite(s / "chunks.faiss", lambda d: d[: len(d) // 2]),
    "chunks.faiss garbage of the same size": lambda v, s: _same_size_garbage(s / "chunks.faiss"),
    "chunks.faiss missing": lambda v, s: (s / "chunks.faiss").unlink(),
    "manifest.json not JSON": lambda v, s: (v / "manifest.json").write_text('{"format": 2, "segm', "utf-8"),
    "manifest.json lists no such segment": lambda v, s: _edit_json(
        v / "manifest.json", lambda m: m.update(segments=[{"name": "s999999", "deleted": []}])
    ),
    "manifest.json segments of the wrong type": lambda v, s: _edit_json(
        v / "manifest.json", lambda m: m.update(segments="all of them")
    ),
    "manifest.json counts edited": lambda v, s: _edit_json(
        v / "manifest.json", lambda m: m.update(articles=int(str(m["articles"])) + 1)
    ),
    "manifest.json missing": lambda v, s: (v / "manifest.json").unlink(),
    "segment.json not JSON": lambda v, s: (s / "segment.json").write_text("{", "utf-8"),
    "segment.json file sizes edited": lambda v, s: _edit_json(
        s / "segment.json",
        lambda m: m.update(files={k: 1 for k in m["files"]}),  # type: ignore[attr-defined]
    ),
    "segment.json counts edited": lambda v, s: _edit_json(
        s / "segment.json", lambda m: m.update(sentences=int(str(m["sentences"])) - 1)
    ),
    "articles.sqlite garbage": lambda v, s: _same_size_garbage(s / "articles.sqlite"),
    "articles.sqlite rows deleted": lambda v, s: _sql(
        s / "articles.sqlite", "DELETE FROM articles WHERE id = 1"
    ),
    "articles.sqlite missing": lambda v, s: (s / "articles.sqlite").unlink(),
    "sentence_vecs.npy holds a pickle": lambda v, s: _pickle_into(s / "sentence_vecs.npy"),
    # Issue 16.13b: numpy's message for it advises loading the file with allow_pickle.
    "sentence_vecs.npy claims objects, same size": lambda v, s: _object_header(s / "sentence_vecs.npy"),
    "bm25_vocab.json edited": lambda v, s: (s / "bm25_vocab.json").write_text('{"russia": "x"}', "utf-8"),
    "segment folder missing": lambda v, s: shutil.rmtree(s),
    "CURRENT names no version": lambda v, s: (v.parent.parent / "CURRENT").write_text("v999999\n", "utf-8"),
    # Issue 16.10: bytes that are not UTF-8 gave a UnicodeDecodeError traceback.
    "CURRENT not UTF-8": lambda v, s: (v.parent.parent / "CURRENT").write_bytes(b"v\xff\xfe00001\n"),
    "CURRENT names a path outside": lambda v, s: (v.parent.parent / "CURRENT").write_text(
        "../../..\n", "utf-8"
    ),
}


def assert_one_line_naming_the_fix(code: int, out: str, err: str) -> None:
    assert code != 0
    assert out == "", "no answer, not even part of one, from a damaged index"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: "), err
    assert REBUILD in lines[0] and "Traceback" not in err
    # Issue 16.13b: numpy's advice to load a pickle "unsafely" is never passed on.
    assert "allow_pickle" not in err and "unsafe" not in err, err


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_index_is_one_line_naming_the_rebuild_and_the_rebuild_fixes_it(
    usru: Usru, damage: str
) -> None:
    DAMAGE[damage](usru.version(), usru.segment())
    for args in (("ask", QUESTION), ("ask", "--json", QUESTION), ("sources",), ("chat",)):
        assert_one_line_naming_the_fix(*usru(*args))
    assert not (usru.index_dir.parent / "UNPICKLED").exists()

    code, out, err = usru("index", "--rebuild")
    assert code == 0, err
    assert "5 new" in out or "5 embedded" in out
    code, out, err = usru("ask", "--json", QUESTION)
    assert code == 0, err
    answer = json.loads(out)
    assert QUOTE in [c["quote"] for c in answer["citations"]]
    for c in answer["citations"]:
        text = (usru.sources / c["source"]).read_text("utf-8")
        assert c["quote"] == text[c["start"] : c["end"]]


def test_article_text_edited_in_place_is_never_quoted(usru: Usru) -> None:
    # Same length, so the file's size and every count still agree: only the text's hash tells.
    db = usru.segment() / "articles.sqlite"
    _sql(db, "UPDATE articles SET text = replace(text, 'ready to work', 'eager to stop')")
    code, out, err = usru("ask", "--json", QUESTION)
    assert "eager to stop" not in out
    assert_one_line_naming_the_fix(code, out, err)
    assert "was changed" in err


@pytest.mark.parametrize(
    "damage", ["chunks.faiss garbage of the same size", "articles.sqlite garbage", "manifest.json not JSON"]
)
def test_a_plain_index_after_damage_never_leads_to_a_wrong_answer(usru: Usru, damage: str) -> None:
    DAMAGE[damage](usru.version(), usru.segment())
    code, _, err = usru("index")
    assert code == 0 and "Traceback" not in err, err
    code, out, err = usru("ask", QUESTION)
    # Each segment file's digest (size plus sampled blocks, which cover the whole of a small file) is
    # checked before reuse, so the plain run rebuilt what was damaged and the answer is the right one.
    assert code == 0 and QUOTE in out and err == "", err


def test_an_empty_current_rebuilds_from_the_sources(usru: Usru) -> None:
    # No live version is the same as no index: asking builds one, so the answer is still right.
    (usru.index_dir / "CURRENT").write_text("", "utf-8")
    code, out, err = usru("ask", QUESTION)
    assert code == 0 and QUOTE in out, err
