"""The index folder is usru's alone (issue 16, items 6, 10, 11, 12 and 13b).

usru deletes only names it wrote, in a folder it created or recognises as an index; it reads nothing
outside that folder whatever the manifest says and writes nothing through a link; a damaged pointer or
array is one line naming the rebuild; an update that cannot read most articles keeps the live version.
Commands run in-process through `bot.cli.main` with the hashing embedder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from retrieval.embedding import HashingEmbedder, load_embedder
from retrieval.errors import IndexError_, SourcesError
from retrieval.index import KEEP_VERSIONS, build_index, current_version, load_index
from retrieval.index.ownership import MARKER
from tests.conftest import SEED_NAMES
from tests.support.in_process import Usru

QUESTION = "Is Russia ready to resume arms control talks?"
QUOTE = "Putin said that Russia is ready to work with the US on arms control issues."
REBUILD = "usru index --rebuild"


def one_usru_line(code: int, out: str, err: str) -> str:
    """The single `usru: ...` sentence of a refused command (exit 2, no output, no traceback)."""
    assert code == 2, (code, out, err)
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: "), err
    return lines[0]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under a folder with its bytes (None for folders): what must survive untouched."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


def still_answers(usru: Usru) -> None:
    code, out, err = usru("ask", "--json", QUESTION)
    assert code == 0, err
    answer = json.loads(out)
    assert QUOTE in [c["quote"] for c in answer["citations"]]
    for c in answer["citations"]:
        assert c["quote"] == (usru.sources / c["source"]).read_text("utf-8")[c["start"] : c["end"]]


# ------------------------------------------------------------------ 6: a user's folder is never used


def users_folder(folder: Path) -> Path:
    """A folder of a user's own files, with names an index folder also has."""
    for rel in ("notes.txt", "segments/slides/a.txt", "segments/summary.txt", "segments/.tmp-drafts/b.txt"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(f"the user's {rel}\n", "utf-8")
    for i in range(KEEP_VERSIONS + 1):
        (folder / "versions" / f"v{i}_draft").mkdir(parents=True)
        (folder / "versions" / f"v{i}_draft" / "plan.txt").write_text(f"draft {i}\n", "utf-8")
    return folder


@pytest.mark.parametrize("command", [("index",), ("index", "--rebuild"), ("ask", QUESTION)])
def test_a_folder_that_is_no_index_is_refused_and_nothing_in_it_changes(
    usru: Usru, command: tuple[str, ...]
) -> None:
    folder = users_folder(usru.root / "Documents")
    before = tree(folder)
    line = one_usru_line(*usru(*command, index_dir=folder))
    assert "not a usru index" in line and "--index-dir" in line
    assert tree(folder) == before, "no file deleted, changed or added (not even a lock)"


def test_no_model_export_is_written_into_a_folder_that_is_no_index(tmp_path: Path) -> None:
    # The real model's ONNX export goes to INDEX/onnx/: refused before any model is even loaded.
    folder = users_folder(tmp_path / "Documents")
    before = tree(folder)
    with pytest.raises(IndexError_, match="not a usru index"):
        load_embedder("", folder, use_onnx=True)  # the bundled model
    assert tree(folder) == before


def test_a_non_empty_folder_with_only_a_user_file_is_refused(usru: Usru) -> None:
    folder = usru.root / "papers"
    folder.mkdir()
    (folder / "thesis.txt").write_text("mine\n", "utf-8")
    one_usru_line(*usru("index", index_dir=folder))
    assert [p.name for p in folder.iterdir()] == ["thesis.txt"]


def test_usru_deletes_only_the_names_it_wrote_in_its_own_index(usru: Usru) -> None:
    foreign = {
        "segments/slides/a.txt": b"slides\n",
        "segments/summary.txt": b"summary\n",
        "segments/.tmp-mine/b.txt": b"not a temp name usru writes\n",
        "versions/vacation/c.txt": b"vacation\n",
        "versions/v1_draft/d.txt": b"draft\n",
        "quantizers/quarterly.txt": b"quarterly\n",
        ".CURRENT.backup": b"mine\n",
    }
    for rel, data in foreign.items():
        (usru.index_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (usru.index_dir / rel).write_bytes(data)
    for i in range(KEEP_VERSIONS + 2):  # enough new versions that old ones and their segments go
        (usru.sources / f"extra_{i}.txt").write_text(
            f"Diplomats met in round {i} of the talks.\n\nThey agreed to meet again soon.\n", "utf-8"
        )
        code, _, err = usru("index")
        assert code == 0, err
    code, _, err = usru("index", "--rebuild")
    assert code == 0, err
    for rel, data in foreign.items():
        assert (usru.index_dir / rel).read_bytes() == data, rel
    assert len(list((usru.index_dir / "versions").glob("v0*"))) == KEEP_VERSIONS, "old versions still go"
    assert (usru.index_dir / MARKER).is_file(), "a new index folder is marked as usru's"
    still_answers(usru)


def test_an_index_of_an_earlier_usru_is_accepted_and_marked(usru: Usru) -> None:
    (usru.index_dir / MARKER).unlink()  # as an index written before the marker existed
    code, _, err = usru("index")
    assert code == 0, err
    assert (usru.index_dir / MARKER).is_file()
    still_answers(usru)


# --------------------------------------------------------- 10: a CURRENT that is not UTF-8 at all


@pytest.mark.parametrize("command", [("ask", QUESTION), ("ask", "--json", QUESTION), ("sources",), ("chat",)])
def test_current_with_bytes_that_are_not_utf8_is_one_line_naming_the_rebuild(
    usru: Usru, command: tuple[str, ...]
) -> None:
    (usru.index_dir / "CURRENT").write_bytes(b"v\xff\xfe\xfd0001\n")
    line = one_usru_line(*usru(*command))
    assert REBUILD in line and "damaged" in line
    code, _, err = usru("index", "--rebuild")
    assert code == 0, err
    still_answers(usru)


# -------------------------------------------- 11: an update that cannot read most articles is refused


def write_articles(sources: Path, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"talks_{i:02d}.txt"
        (sources / name).write_text(
            f"Envoys held round {i} of the Geneva talks.\n\nThe round {i} ended without a deal.\n", "utf-8"
        )
        names.append(name)
    return names


def test_a_rebuild_that_cannot_read_most_files_keeps_the_live_version(usru: Usru) -> None:
    names = write_articles(usru.sources, 5)
    code, _, err = usru("index")
    assert code == 0, err
    live = current_version(usru.index_dir)
    for name in names + SEED_NAMES[1:]:  # 9 of 10 articles now read as binary files
        (usru.sources / name).write_bytes(b"\0" * 64)
    line = one_usru_line(*usru("index", "--rebuild"))
    assert f"Kept version {live}" in line and "9 of its 10 articles" in line and "--allow-shrink" in line
    assert current_version(usru.index_dir) == live
    assert len(load_index(usru.index_dir).articles) == 10

    code, out, err = usru("index", "--rebuild", "--allow-shrink")
    assert code == 0, err
    assert "9 removed" in out
    assert [a.source for a in load_index(usru.index_dir).articles] == [SEED_NAMES[0]]


def test_a_rebuild_while_the_files_vanish_keeps_the_live_version(usru: Usru) -> None:
    write_articles(usru.sources, 5)
    code, _, err = usru("index")
    assert code == 0, err
    live = current_version(usru.index_dir)
    gone: list[str] = []

    def vanish(stage: str, done: int, total: int) -> None:
        # After the scan listed every file, before the first is read: the folder empties under us.
        if stage == "read" and not gone:
            for f in sorted(usru.sources.iterdir())[1:]:
                f.unlink()
                gone.append(f.name)

    with pytest.raises(SourcesError, match=r"9 of its 10 articles could not be read.*--allow-shrink"):
        build_index(usru.sources, usru.index_dir, HashingEmbedder(), rebuild=True, progress=vanish)
    assert len(gone) == 9
    assert current_version(usru.index_dir) == live
    assert len(load_index(usru.index_dir).articles) == 10


def test_a_rebuild_that_loses_a_few_files_says_how_many_it_removed(usru: Usru) -> None:
    (usru.sources / SEED_NAMES[4]).write_bytes(b"\0" * 64)
    code, out, err = usru("index", "--rebuild")
    assert code == 0, err
    assert "1 removed" in out, "a rebuild reports the articles it dropped, not 0 removed"
    assert len(load_index(usru.index_dir).articles) == 4


# ------------------------------------------ 12: nothing read from or written outside the index folder


def outside_copy_of_the_segment(usru: Usru) -> Path:
    """A segment usru would load if a manifest could name a path: proof that it is never read."""
    target = usru.root / "elsewhere" / "seg"
    shutil.copytree(usru.segment(), target)
    return target


@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_a_manifest_naming_a_segment_outside_the_index_is_damage(usru: Usru, form: str) -> None:
    target = outside_copy_of_the_segment(usru)
    name = os.path.relpath(target, usru.index_dir / "segments") if form == "relative" else str(target)
    manifest = usru.version() / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["segments"][0]["name"] = name
    manifest.write_text(json.dumps(data), "utf-8")
    for command in (("ask", QUESTION), ("sources",)):
        line = one_usru_line(*usru(*command))
        assert REBUILD in line
    code, _, err = usru("index", "--rebuild")
    assert code == 0, err
    assert target.is_dir() and (target / "segment.json").is_file(), "the outside folder is not touched"
    still_answers(usru)


def test_current_naming_a_path_is_damage_not_a_lookup(usru: Usru) -> None:
    outside = usru.root / "elsewhere" / "v9"
    shutil.copytree(usru.version(), outside)
    data = json.loads((outside / "manifest.json").read_text("utf-8"))
    data["version"] = os.path.relpath(outside, usru.index_dir / "versions")
    (outside / "manifest.json").write_text(json.dumps(data), "utf-8")
    (usru.index_dir / "CURRENT").write_text(data["version"] + "\n", "utf-8")
    line = one_usru_line(*usru("ask", QUESTION))
    assert REBUILD in line


def test_a_live_version_that_is_a_link_out_of_the_folder_is_damage_not_read(usru: Usru) -> None:
    # CURRENT names a plain version, but versions/<it> is a link to a copy elsewhere: its manifest, merged
    # postings and stored IVF were all read from outside the index folder, as a segment link is not.
    live = usru.version()
    outside = usru.root / "elsewhere" / live.name
    shutil.move(live, outside)
    live.symlink_to(outside)
    line = one_usru_line(*usru("ask", QUESTION))
    assert REBUILD in line
    code, _, err = usru("index", "--rebuild")
    assert code == 0, err
    assert (outside / "manifest.json").is_file(), "the outside folder is not touched"
    still_answers(usru)


@pytest.mark.parametrize("name", [".lock", "filecache.sqlite"])
def test_a_link_in_place_of_a_file_usru_writes_is_refused(usru: Usru, name: str) -> None:
    target = usru.root / "elsewhere" / f"planted-{name}"
    target.parent.mkdir()
    path = usru.index_dir / name
    path.unlink()
    path.symlink_to(target)
    line = one_usru_line(*usru("index"))
    assert "symbolic link" in line and name in line
    assert not target.exists(), "nothing is created through the link"
    still_answers(usru)  # answering only reads, so the index still answers


def test_a_link_in_place_of_the_segments_folder_is_refused(usru: Usru) -> None:
    target = usru.root / "elsewhere" / "segments"
    shutil.move(usru.index_dir / "segments", target)
    (usru.index_dir / "segments").symlink_to(target)
    before = tree(target)
    line = one_usru_line(*usru("index", "--rebuild"))
    assert "symbolic link" in line
    assert tree(target) == before


# ---------------------------------------------------- 13b: our sentence, never numpy's unsafe advice


@pytest.mark.parametrize("name", ["sentence_vecs.npy", "chunks.npy", "bm25_tfs.npy"])
def test_a_damaged_npy_is_our_sentence_without_numpys_advice(usru: Usru, name: str) -> None:
    path = usru.segment() / name
    path.write_bytes(b"#" * path.stat().st_size)  # same size, so only reading it tells
    line = one_usru_line(*usru("ask", QUESTION))
    assert REBUILD in line and name.split("_")[0] in line
    for advice in ("allow_pickle", "unsafely", "pickle.load", "trust"):
        assert advice not in line


def test_a_damaged_postings_file_of_an_older_segment_is_one_sentence_on_update(usru: Usru) -> None:
    # Asking reads the version's merged postings, not the segments' (merged_bm25.py), so the damage shows
    # first when `usru index` reads the segments for the next version: that was a ValueError traceback.
    assert usru("index")[0] == 0
    (usru.sources / "extra1.txt").write_text(
        "Envoys from Moscow and Washington met in Vienna on Tuesday to talk about arms control.\n", "utf-8"
    )
    assert usru("index")[0] == 0
    segment = usru.segment()
    meta = json.loads((segment / "segment.json").read_text("utf-8"))
    meta.pop("sampled_sha256", None)  # a segment written before its files' digests were recorded
    (segment / "segment.json").write_text(json.dumps(meta), "utf-8")
    vocab = segment / "bm25_vocab.json"
    vocab.write_bytes(b"#" * vocab.stat().st_size)
    still_answers(usru)
    (usru.sources / "extra2.txt").write_text(
        "Diplomats said on Friday that the sanctions would stay in place for another year.\n", "utf-8"
    )
    code, out, err = usru("index")
    assert code == 2 and out == "" and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("usru: ") and REBUILD in err  # after the progress line
    still_answers(usru)
