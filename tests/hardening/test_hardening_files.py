"""Bad files through the indexer: each is skipped with its reason or read as the article it is, the rest
is indexed, and nothing indexed before is lost.

Every case starts from an index of the seeds, adds one file and re-indexes, the way a user drops a file
into the folder. Offsets of what is indexed are checked against the file decoded independently here.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from retrieval.article import MAX_ARTICLE_BYTES
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index, load_index
from retrieval.service import AnsweringService, build_service
from tests.conftest import SEED_NAMES, hashing_settings_for
from tests.support.cli import QUESTION, QUOTE, Folders, make_folders, usru

BODY = (
    "Envoys from Washington and Moscow met in Vienna on Tuesday to discuss strategic stability and "
    "prisoner exchanges, officials said.\n"
)
ENVOYS = "What did the envoys discuss in Vienna?"
RUSSIAN = (
    "Посланники Вашингтона и Москвы встретились в Вене во вторник, чтобы обсудить стратегическую "
    "стабильность и обмен заключёнными, сообщили официальные лица.\n"
)
RUSSIAN_QUESTION = "Что обсудили посланники Вашингтона и Москвы в Вене?"


@dataclass(frozen=True)
class Case:
    """One kind of bad file: how to write it, and either the reason it is skipped or how to ask for it."""

    name: str
    write: Callable[[Path], None]
    reason: str | None = None  # a fragment of the skip reason; None: the file is an article
    question: str = ENVOYS
    encoding: str = "utf-8"  # how this test decodes the file to check quote offsets


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def _random_bytes(path: Path) -> None:
    rng = random.Random(7)  # no NUL among them, so this is about decoding, not the binary check
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(6000)))


def _fifty_megabytes(path: Path) -> None:
    with path.open("wb") as fh:
        line = BODY.encode()
        for _ in range(50_000_000 // len(line) + 1):
            fh.write(line)


def _one_megabyte_line(path: Path) -> None:
    line = " ".join(f"Weather note {i} says the capital stayed cold and grey." for i in range(20_000))
    path.write_text(line[: line.rfind(".", 0, 1_000_000) + 1], encoding="utf-8")


def _symlink_to_itself(path: Path) -> None:
    os.symlink(path.name, path)


def _dangling_symlink(path: Path) -> None:
    os.symlink("nowhere.txt", path)


SCRIPTS_ONLY = (
    b"<!doctype html><html><head><title>Live</title><script>var s = 'Russia';</script></head>"
    b"<body><script>document.write('<p>' + s + ' and the United States met in Vienna.</p>')</script>"
    b"<noscript>Enable JavaScript.</noscript></body></html>"
)

CASES = [
    Case("empty.txt", _bytes(b""), "the file is empty"),
    Case("whitespace.txt", _bytes(b"  \n\t\r\n \xc2\xa0\n"), "the file is empty"),
    Case("image.txt", _bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4), "binary file"),
    Case("nul.txt", _bytes(BODY.encode().replace(b" ", b"\x00")), "binary file (contains NUL bytes)"),
    Case("undecodable.txt", _random_bytes, "not a text file in any encoding we can detect"),
    Case("broken-utf16.txt", _bytes(b"\xff\xfe" + "Vienna".encode("utf-16-le") + b"\x00\xd8"), "UTF-16"),
    Case("cp1251.txt", _bytes(RUSSIAN.encode("cp1251")), question=RUSSIAN_QUESTION, encoding="cp1251"),
    Case("utf16.txt", _bytes(BODY.encode("utf-16")), encoding="utf-16"),
    Case("fifty-megabytes.txt", _fifty_megabytes, f"larger than {MAX_ARTICLE_BYTES // 1_000_000} MB"),
    Case("one-megabyte-line.txt", _one_megabyte_line, question="Did the capital stay cold and grey?"),
    Case("scripts-only.html", _bytes(SCRIPTS_ONLY), "no article text found in the HTML page"),
    Case(
        "bad-yaml.md",
        _bytes(b"---\ntitle: [unclosed\ndate: 2024-01-01\n---\n" + BODY.encode()),
        "does not parse",
    ),
    Case("list-front-matter.md", _bytes(b"---\n- a\n- b\n---\n" + BODY.encode()), "not a mapping"),
    Case(
        "impossible-date.md",
        _bytes(b"---\ntitle: Envoys meet\ndate: 2021-02-30\n---\n" + BODY.encode()),
        "impossible date",
    ),
    Case(
        "wrong-date.md",
        _bytes(b"---\ntitle: Envoys meet\ndate: next Tuesday\n---\n" + BODY.encode()),
        "'next Tuesday' is not a date",
    ),
    Case("loop.txt", _symlink_to_itself, "symbolic link"),
    Case("dangling.txt", _dangling_symlink, "symbolic link"),
    Case("name with spaces.txt", _bytes(BODY.encode())),
    Case("new\nline.txt", _bytes(BODY.encode())),
    Case("Переговоры – 会谈 é.txt", _bytes(BODY.encode())),
]


def seeds_still_answer(service: AnsweringService) -> None:
    """Every seed is listed and the seed question is still answered with its known quote."""
    assert set(SEED_NAMES) <= {a.source for a in service.list_articles()}
    answer = service.answer(QUESTION)
    assert answer.status == "answered" and QUOTE in [c.quote for c in answer.citations]


@pytest.mark.parametrize("case", CASES, ids=[re.sub(r"\W+", "-", c.name) for c in CASES])
def test_a_bad_file_is_skipped_with_its_reason_or_read_and_nothing_is_lost(
    corpus: Path, tmp_path: Path, case: Case
) -> None:
    index_dir = tmp_path / "idx"
    first = build_index(corpus, index_dir, HashingEmbedder())
    assert first.articles == 5 and first.skipped == []
    path = corpus / case.name
    case.write(path)

    summary = build_index(corpus, index_dir, HashingEmbedder())
    service = build_service(hashing_settings_for(corpus, index_dir))
    seeds_still_answer(service)
    if case.reason is not None:
        assert [name for name, _ in summary.skipped] == [case.name]
        assert case.reason in summary.skipped[0][1], summary.skipped
        assert (summary.articles, summary.new, summary.removed) == (5, [], [])
        return
    assert (summary.skipped, summary.new, summary.articles) == ([], [case.name], 6)
    answer = service.answer(case.question)
    cited = [c for c in answer.citations if c.source == case.name]
    assert cited, f"{case.name} is not quoted for {case.question!r}: {answer.answer}"
    text = path.read_bytes().decode(case.encoding)
    for c in cited:
        assert c.quote == text[c.start : c.end] and len(c.quote) > 20


def test_an_indexed_file_that_goes_bad_keeps_its_indexed_version(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, HashingEmbedder())
    seed = corpus / SEED_NAMES[1]  # the article QUOTE comes from
    for bad in (b"", b"\x00\x01\x02binary", b"---\ndate: 2021-02-30\n---\nGone.\n"):
        seed.write_bytes(bad)
        summary = build_index(corpus, index_dir, HashingEmbedder())
        assert [name for name, _ in summary.skipped] == [SEED_NAMES[1]]
        assert summary.skipped[0][1].endswith("kept the version indexed before")
        assert (summary.articles, summary.removed) == (5, [])
        seeds_still_answer(build_service(hashing_settings_for(corpus, index_dir)))


def test_a_file_removed_while_indexing_is_reported_and_the_rest_indexed(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    build_index(corpus, index_dir, HashingEmbedder())
    (corpus / "aa_vanishing.txt").write_text(BODY, encoding="utf-8")
    (corpus / "ab_staying.txt").write_text(BODY.replace("Vienna", "Geneva"), encoding="utf-8")
    removed: list[str] = []

    def remove_before_it_is_read(stage: str, done: int, total: int) -> None:
        # The indexer reports "read" just before reading file number `done`, in name order.
        if stage == "read" and done == 0 and not removed:
            (corpus / "aa_vanishing.txt").unlink()
            removed.append("aa_vanishing.txt")

    summary = build_index(corpus, index_dir, HashingEmbedder(), progress=remove_before_it_is_read)
    assert removed == ["aa_vanishing.txt"]
    assert [name for name, _ in summary.skipped] == ["aa_vanishing.txt"]
    assert "cannot read the file" in summary.skipped[0][1]
    assert summary.new == ["ab_staying.txt"] and summary.articles == 6
    seeds_still_answer(build_service(hashing_settings_for(corpus, index_dir)))


def test_folder_link_loops_end_and_index_each_article_once(corpus: Path, tmp_path: Path) -> None:
    (corpus / "sub").mkdir()
    (corpus / "sub" / "envoys.txt").write_text(BODY, encoding="utf-8")
    os.symlink("..", corpus / "sub" / "up")  # sub/up/sub/up/… would never end
    os.symlink("sub", corpus / "again")  # the same folder under a second name
    summary = build_index(corpus, tmp_path / "idx", HashingEmbedder())
    assert summary.articles == 6 and summary.skipped == []
    sources = [a.source for a in load_index(tmp_path / "idx").articles]
    assert sorted(sources) == sorted([*SEED_NAMES, "sub/envoys.txt"])


# ---------------------------------------------------------------------------- through `usru index`


def run_index(folders: Folders, *args: str) -> str:
    result = usru(folders, "index", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_usru_index_lists_every_bad_file_with_its_reason_on_one_line_each(tmp_path: Path) -> None:
    folders = make_folders(tmp_path)
    run_index(folders)
    bad = [c for c in CASES if c.reason is not None and "fifty" not in c.name]
    for case in bad:
        case.write(folders.sources / case.name)
    _bytes(b"")(folders.sources / "bad\nname.txt")
    out = run_index(folders)
    assert "0 new, 0 changed, 0 removed" in out
    listed = out.split(f"Skipped {len(bad) + 1} files:\n", 1)[1].splitlines()
    assert len(listed) == len(bad) + 1, out  # a newline in a name must not make a line of its own
    by_name = dict(line.strip().split(": ", 1) for line in listed)
    for case in bad:
        assert case.reason is not None and case.reason in by_name[case.name], out
    assert by_name["bad\\nname.txt"] == "the file is empty"
    answered = usru(folders, "ask", QUESTION)
    assert answered.returncode == 0 and QUOTE in answered.stdout
