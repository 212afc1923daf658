"""`usru import`: news dumps (JSON Lines, CSV, gzip) become id-named article files, idempotently."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from bench.corpora import corpus_path, read_corpus
from retrieval.article import parse_article, read_article
from retrieval.embedding import load_embedder
from retrieval.errors import UsruError
from retrieval.importer import ImportError_, ImportOptions, file_name, import_dump, render_record
from retrieval.index import build_index
from retrieval.settings import HASHING_MODEL
from tests.cli.test_cli import Folders, assert_one_line_error, usru

TEXT_A = (
    "MOSCOW (Reuters) - Russia said on Friday it was ready to resume arms control talks with the "
    "United States. The Kremlin said the talks could start next month."
)
TEXT_B = "WASHINGTON (AP) — The Senate voted to keep sanctions on Russia in place.\n\nThe vote was 98 to 2."


def jsonl(path: Path, lines: list[Any], *, gz: bool = False) -> Path:
    """Write records (dicts as JSON, bytes or str as they are) one per line."""
    data = b"".join(
        (x if isinstance(x, bytes) else (x if isinstance(x, str) else json.dumps(x)).encode("utf-8")) + b"\n"
        for x in lines
    )
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def imported(sources: Path, stem: str) -> dict[str, str]:
    folder = sources / "imported" / stem
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.suffix == ".md"}


GOOD = [
    {
        "id": "r1",
        "title": "Russia ready for talks",
        "text": TEXT_A,
        "date": "2017-12-01",
        "publisher": "Reuters",
    },
    {
        "id": "r2",
        "title": "Senate keeps sanctions",
        "text": TEXT_B,
        "date": "December 5, 2017 ",
        "url": "http://x/2",
    },
]


def test_jsonl_records_become_articles_with_front_matter_and_the_text_unchanged(tmp_path: Path) -> None:
    dump = jsonl(tmp_path / "news.jsonl", GOOD)
    sources = tmp_path / "src"
    sources.mkdir()
    summary = import_dump(dump, sources)
    assert (summary.records, len(summary.written), summary.skipped) == (2, 2, [])
    assert summary.folder == "imported/news"
    files = imported(sources, "news")
    assert sorted(files) == ["r1.md", "r2.md"]
    assert files["r1.md"].endswith("---\n" + TEXT_A), "the body is the record's text, byte for byte"
    a = read_article(sources / "imported/news/r1.md", "imported/news/r1.md")
    assert (a.title, a.publisher, a.date) == ("Russia ready for talks", "Reuters", "2017-12-01")
    b = read_article(sources / "imported/news/r2.md", "imported/news/r2.md")
    assert (b.date, b.url) == ("2017-12-05", "http://x/2"), "a dump's 'December 5, 2017' is stored as ISO"
    # No publisher in the dump: the dateline "(AP)" gives it, and the dateline is not quoted.
    assert b.publisher == "AP"
    assert b.text[b.paragraphs[0].start :].startswith("The Senate voted")


def test_bad_records_are_skipped_with_their_reasons_and_the_rest_imported(tmp_path: Path) -> None:
    lines: list[Any] = [
        GOOD[0],
        {"id": "r3", "title": "Empty", "text": "   "},
        {"id": "r4", "title": "Bad date", "text": TEXT_A, "date": "sometime in spring"},
        b'{"id": "r5", "title": "bad byte \xff", "text": "x"}',
        "{not json",
        {"title": "No id", "text": TEXT_A, "id": ""},
        [1, 2, 3],
        {**GOOD[1], "id": "r1"},
        GOOD[1],
    ]
    sources = tmp_path / "src"
    sources.mkdir()
    summary = import_dump(jsonl(tmp_path / "d.jsonl", lines), sources)
    reasons = dict(summary.skipped)
    assert summary.records == 9
    assert sorted(imported(sources, "d")) == ["r1.md", "r2.md"]
    assert reasons["line 2"] == "no text"
    assert "is not a date" in reasons["line 3 (id r4)"]
    assert reasons["line 4"] == "not valid UTF-8"
    assert reasons["line 5"].startswith("not valid JSON")
    assert reasons["line 6"] == "no id"
    assert reasons["line 7"] == "not a JSON object"
    assert "the same id as line 1" in reasons["line 8 (id r1)"]
    assert len(summary.skipped) == 7


def test_reimporting_rewrites_nothing_and_keeps_what_was_imported_before(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    dump = jsonl(tmp_path / "d.jsonl", GOOD)
    import_dump(dump, sources)
    r1, r2 = sources / "imported/d/r1.md", sources / "imported/d/r2.md"
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (r1, r2)}
    os.utime(r1, ns=(1, 1))  # a rewrite would reset the time
    os.utime(r2, ns=(1, 1))
    again = import_dump(dump, sources)
    assert (again.written, again.unchanged) == ([], 2)
    assert r1.stat().st_mtime_ns == 1 and r2.stat().st_ino == before[r2][1]
    # The next dump changes r2 and lacks r1: r2 is rewritten, r1 stays.
    changed = jsonl(tmp_path / "d.jsonl", [{**GOOD[1], "title": "Senate keeps sanctions on Russia"}])
    third = import_dump(changed, sources)
    assert third.written == ["imported/d/r2.md"]
    assert r1.exists() and "Senate keeps sanctions on Russia" in r2.read_text(encoding="utf-8")
    assert not [p for p in (sources / "imported/d").iterdir() if p.suffix == ".tmp"], "no temp files left"


def test_gzip_is_detected_by_content_and_csv_fields_are_detected_or_named(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    # gzip under a plain .jsonl name
    import_dump(jsonl(tmp_path / "wire.jsonl", GOOD, gz=True), sources)
    assert sorted(imported(sources, "wire")) == ["r1.md", "r2.md"]
    csv_text = (
        "ID,headline,body,published,outlet,link,bias\n"
        'a-1,"Talks, at last","' + TEXT_A + '",2018-03-04,The Hill,http://h/1,center\n'
        'a-2,Two lines,"First paragraph about Russia and sanctions.\n\nSecond one.",2018-03-05,Vox,,left\n'
        "a-3,No text,,2018-03-05,Vox,,left\n"
    )
    (tmp_path / "allsides.csv.gz").write_bytes(gzip.compress(csv_text.encode("utf-8")))
    summary = import_dump(tmp_path / "allsides.csv.gz", sources)
    assert summary.fields == {
        "id": "ID",
        "title": "headline",
        "text": "body",
        "date": "published",
        "publisher": "outlet",
        "url": "link",
        "leaning": "bias",
    }
    assert summary.skipped == [("line 6", "no text")], "the line the record starts on, counting the text's"
    a = read_article(sources / "imported/allsides/a-1.md", "a-1.md")
    assert (a.title, a.publisher, a.date, a.url, a.leaning) == (
        "Talks, at last",
        "The Hill",
        "2018-03-04",
        "http://h/1",
        "center",
    )
    b = read_article(sources / "imported/allsides/a-2.md", "a-2.md")
    assert b.text.endswith("First paragraph about Russia and sanctions.\n\nSecond one.")
    # Field names given by the user win over detection.
    named = tmp_path / "named.csv"
    named.write_text("key,summary,story\nk1,short,The real story is here and it is about Russia.\n")
    s = import_dump(named, sources, ImportOptions(fields={"id": "key", "text": "story"}))
    assert s.fields["text"] == "story" and s.written == ["imported/named/k1.md"]


def test_match_since_and_until_choose_records(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    records = [
        {"id": f"n{i}", "title": t, "text": f"{t}. This is the text of article {i}.", "date": d}
        for i, (t, d) in enumerate(
            [
                ("Kremlin says no", "2016-05-01"),
                ("Weather", "2017-02-01"),
                ("PUTIN speaks", "2017-06-30"),
                ("Russia again", "2018-01-01"),
                ("Moscow undated", ""),
            ]
        )
    ]
    dump = jsonl(tmp_path / "m.jsonl", records)
    s = import_dump(
        dump,
        sources,
        ImportOptions(match=r"\b(russia|putin|kremlin|moscow)\b", since="2017", until="2017-12"),
    )
    assert s.written == ["imported/m/n2.md"] and s.filtered == 4
    with pytest.raises(ImportError_, match="--since"):
        import_dump(dump, sources, ImportOptions(since="2017-13"))
    with pytest.raises(ImportError_, match="--match"):
        import_dump(dump, sources, ImportOptions(match="(unclosed"))


def test_a_truncated_gzip_keeps_what_was_read_and_says_where_it_stopped(tmp_path: Path) -> None:
    many = [{**GOOD[0], "id": f"r{i}", "text": TEXT_A + f" Item {i} " + "x" * 3000} for i in range(40)]
    data = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in many))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    sources = tmp_path / "src"
    sources.mkdir()
    s = import_dump(tmp_path / "cut.jsonl.gz", sources)
    assert 0 < len(s.written) < 40
    assert s.skipped[-1][0] == "end of file" and "damaged" in s.skipped[-1][1]


def test_a_dump_without_a_text_field_is_refused(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    with pytest.raises(ImportError_, match="--text"):
        import_dump(jsonl(tmp_path / "x.jsonl", [{"id": "1", "headline": "h"}]), sources)
    assert not (sources / "imported").exists() or not any((sources / "imported").rglob("*.md"))


@pytest.mark.parametrize(
    "ids",
    [
        ["a/b", "a?b", "a_b"],
        ["A1", "a1"],
        ["..", ".hidden", "x" * 300, "x" * 301],
        ["ünïcode", "unicode"],
    ],
)
def test_file_names_are_safe_and_never_collide(ids: list[str]) -> None:
    names = [file_name(i) for i in ids]
    assert len({n.lower() for n in names}) == len(ids), names
    for raw, n in zip(ids, names, strict=True):
        assert n and not n.startswith(".") and "/" not in n and len(n) <= 100
        assert n == file_name(raw), "the same id always gives the same name"


def test_reimporting_then_indexing_embeds_nothing(tmp_path: Path) -> None:
    sources, index_dir = tmp_path / "src", tmp_path / "idx"
    sources.mkdir()
    dump = jsonl(tmp_path / "d.jsonl", GOOD)
    embedder = load_embedder(HASHING_MODEL, index_dir, False)
    import_dump(dump, sources)
    first = build_index(sources, index_dir, embedder)
    assert first.embedded_articles == 2
    import_dump(dump, sources)
    second = build_index(sources, index_dir, embedder)
    assert (second.embedded_articles, second.reused_articles, second.skipped) == (0, 2, [])


# ---------------------------------------------------------------------------- the shared archives

needs_corpora = pytest.mark.skipif(
    not corpus_path("reuters-2016-2017").exists() or not corpus_path("allsides-2014-2019").exists(),
    reason=f"the shared archives are not at {corpus_path('reuters-2016-2017').parent} (set USRU_CORPORA)",
)


@needs_corpora
@pytest.mark.parametrize("name", ["reuters-2016-2017", "allsides-2014-2019"])
def test_a_slice_of_each_archive_imports_with_its_metadata(tmp_path: Path, name: str) -> None:
    records = list(read_corpus(name, limit=60))
    dump = jsonl(tmp_path / f"{name}.jsonl.gz", records, gz=True)
    sources = tmp_path / "src"
    sources.mkdir()
    s = import_dump(dump, sources)
    assert (len(s.written), s.skipped) == (60, [])
    for r in records:
        path = sources / "imported" / name / f"{file_name(r['id'])}.md"
        a = read_article(path, path.name)
        assert a.text.endswith(r["text"])
        assert (a.date, a.url) == (r["date"], r.get("url"))
        if r["title"].strip():
            assert a.title == " ".join(r["title"].split())
        if r["publisher"]:
            assert a.publisher == r["publisher"]
        assert a.leaning == r.get("bias")


@needs_corpora
def test_reuters_datelines_give_the_publisher_from_the_text_alone() -> None:
    records = [r for r in read_corpus("reuters-2016-2017", limit=200) if r["publisher"]]
    found = 0
    for r in records:
        values = {
            "id": r["id"],
            "title": r["title"],
            "text": r["text"],
            "date": "",
            "publisher": "",
            "url": "",
            "leaning": "",
        }
        a = parse_article(render_record(values), "x.md")
        assert a.date is None, f"{r['id']}: no date is invented from a dateline without one"
        assert a.publisher in (None, "Reuters"), f"{r['id']}: {a.publisher!r}"
        found += a.publisher == "Reuters"
    assert found >= 0.97 * len(records), f"the dateline named Reuters for {found} of {len(records)}"


# ---------------------------------------------------------------------------- the command


def test_usru_import_prints_a_summary_lists_skips_and_indexes(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    (root / "src").mkdir(parents=True)
    folders = Folders(root, root / "src", root / "idx")
    dump = jsonl(tmp_path / "d.jsonl", [*GOOD, {"id": "r9", "text": ""}])
    result = usru(folders, "import", str(dump))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Imported d.jsonl into imported/d: 3 records, 2 written, 0 unchanged")
    assert "Skipped 1 record:" in lines and "  line 3: no text" in lines
    assert any(ln.startswith("Indexed 2 articles") for ln in lines)
    again = usru(folders, "import", str(dump), "--no-index")
    assert "0 written, 2 unchanged" in again.stdout and "Indexed" not in again.stdout


def test_usru_import_without_a_chosen_sources_folder_is_refused(tmp_path: Path) -> None:
    folders = Folders(tmp_path, tmp_path / "src", tmp_path / "idx")
    folders.sources.mkdir()
    env = {k: v for k, v in folders.env().items() if k != "USRU_SOURCES"}
    result = usru(folders, "import", str(jsonl(tmp_path / "d.jsonl", GOOD)), env=env)
    assert_one_line_error(result, "sources folder")
    missing = usru(folders, "import", str(tmp_path / "nope.jsonl"))
    assert_one_line_error(missing, "does not exist")


def test_a_file_with_no_importable_record_is_refused_and_nothing_is_indexed(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    (root / "src").mkdir(parents=True)
    folders = Folders(root, root / "src", root / "idx")
    assert usru(folders, "import", str(jsonl(tmp_path / "good.jsonl", GOOD))).returncode == 0
    noise = bytes(range(128, 256)) * 40
    cases = [
        ("noise.csv.gz", gzip.compress(noise)),
        ("noise.jsonl", noise + b"\n" + noise),
        ("rows.csv", b"a,b\n" + noise + b"," + noise + b"\n"),
    ]
    for name, data in cases:
        (tmp_path / name).write_bytes(data)
        result = usru(folders, "import", str(tmp_path / name))
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert name in last and last.startswith(("usru: Nothing in ", "usru: No records found")), last
        assert "Indexed" not in result.stdout
    listed = usru(folders, "sources")
    assert listed.returncode == 0 and "Russia ready for talks" in listed.stdout


def test_usru_import_creates_a_sources_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    folders = Folders(tmp_path, tmp_path / "new" / "archive", tmp_path / "idx")
    result = usru(folders, "import", str(jsonl(tmp_path / "d.jsonl", GOOD)), "--no-index")
    assert result.returncode == 0, result.stderr
    assert len(list((folders.sources / "imported").rglob("*.md"))) == 2


def test_usru_import_into_a_sources_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    folders = Folders(tmp_path, tmp_path / "archive", tmp_path / "idx")
    folders.sources.write_text("not a folder", encoding="utf-8")
    result = usru(folders, "import", str(jsonl(tmp_path / "d.jsonl", GOOD)), "--no-index")
    assert_one_line_error(result, "is not a folder")
    assert folders.sources.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize("link", ["imported", "imported/news"])
def test_an_import_folder_that_links_out_of_the_sources_folder_is_refused(tmp_path: Path, link: str) -> None:
    # The records were written through the link into the outside folder, which the index then does not walk
    # ("a link to a folder outside the sources folder"): written, yet never indexed, and written elsewhere.
    dump = jsonl(tmp_path / "news.jsonl", GOOD)
    sources = tmp_path / "src"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (sources / link).parent.mkdir(parents=True, exist_ok=True)
    (sources / link).symlink_to(outside)
    with pytest.raises(ImportError_, match="outside the sources folder"):
        import_dump(dump, sources)
    assert list(outside.rglob("*")) == [], "nothing is written outside"


def test_a_record_with_a_nul_byte_is_skipped_not_written_for_the_index_to_reject(tmp_path: Path) -> None:
    # The fifth session's attacker: counted as written, then skipped by the index as a binary file.
    sources = tmp_path / "src"
    sources.mkdir()
    lines: list[Any] = [{"id": "n1", "title": "NUL", "text": "Putin spoke.\x00 Trump replied."}, GOOD[0]]
    summary = import_dump(jsonl(tmp_path / "d.jsonl", lines), sources)
    assert dict(summary.skipped)["line 1"] == "a NUL byte in the record (binary data)"
    assert list(imported(sources, "d")) == ["r1.md"]


def test_a_record_with_a_lone_surrogate_is_skipped_and_the_rest_imported(tmp_path: Path) -> None:
    # The fifth session's second attack: a traceback part-way, the later records never read.
    sources = tmp_path / "src"
    sources.mkdir()
    dump = tmp_path / "d.jsonl"
    dump.write_text(
        '{"id": "s1", "title": "Half a pair", "text": "Lavrov met Pompeo \\ud800 in Sochi."}\n'
        + json.dumps(GOOD[0])
        + "\n",
        encoding="utf-8",
    )
    summary = import_dump(dump, sources)
    assert dict(summary.skipped)["line 1"] == "not valid Unicode (a lone surrogate)"
    assert list(imported(sources, "d")) == ["r1.md"]


def test_a_field_option_naming_no_field_of_the_dump_is_refused_and_nothing_is_rewritten(
    tmp_path: Path,
) -> None:
    # An outside tester's re-import with --publisher nosuch stripped the publisher of an article imported before.
    dump = tmp_path / "d.csv"
    dump.write_bytes(
        b'\xef\xbb\xbfid,text,date,publisher\nb1,"Multi\nline text, about Russia",2018-07-16,Foo\n'
    )
    sources = tmp_path / "src"
    import_dump(dump, sources)
    article = sources / "imported/d/b1.md"
    before = article.read_bytes()
    for key in ("publisher", "date", "text", "id"):
        with pytest.raises(ImportError_) as raised:
            import_dump(dump, sources, ImportOptions(fields={key: "nosuch"}))
        assert str(raised.value) == (
            f"No field 'nosuch' in d.csv for --{key} (its fields: id, text, date, publisher)."
        )
    assert article.read_bytes() == before
    # JSON records may each have other fields: a field in any record counts, one in none is refused.
    lines = [{"id": "j1", "text": TEXT_A}, {"id": "j2", "text": TEXT_B, "outlet": "AP"}]
    s = import_dump(
        jsonl(tmp_path / "j.jsonl", lines), sources, ImportOptions(fields={"publisher": "outlet"})
    )
    assert len(s.written) == 2
    with pytest.raises(
        ImportError_, match=r"No field 'site' in j.jsonl for --publisher \(its fields: id, text, outlet\)"
    ):
        import_dump(tmp_path / "j.jsonl", sources, ImportOptions(fields={"publisher": "site"}))


def test_usru_import_with_a_field_the_dump_lacks_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    folders = Folders(tmp_path, tmp_path / "src", tmp_path / "idx")
    result = usru(folders, "import", str(jsonl(tmp_path / "d.jsonl", GOOD)), "--no-index", "--date", "nosuch")
    assert result.returncode == 2
    assert_one_line_error(result, "No field 'nosuch' in d.jsonl for --date")
    assert not (folders.sources / "imported").exists() or not any(
        (folders.sources / "imported").rglob("*.md")
    )


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_imported_articles_get_the_usual_mode_under_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    # An outside tester found every imported article 0600 whatever the umask.
    sources = tmp_path / "src"
    old = os.umask(umask)
    try:
        import_dump(jsonl(tmp_path / "d.jsonl", GOOD), sources)
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in (sources / "imported/d").iterdir()} == {
        "r1.md": mode,
        "r2.md": mode,
        ".dump": mode,
    }


def test_a_dump_of_the_same_name_never_replaces_another_dumps_articles(tmp_path: Path) -> None:
    # An outside tester imported a/news.jsonl, then b/news.jsonl: b's record 1 silently replaced a's.
    sources = tmp_path / "src"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = jsonl(tmp_path / "a/news.jsonl", GOOD)
    import_dump(first, sources)
    before = imported(sources, "news")
    other = jsonl(tmp_path / "b/news.jsonl", [{**GOOD[0], "title": "Another outlet's r1"}])
    (tmp_path / "a/news.csv").write_text(f"id,text\nr1,{TEXT_B}\n", encoding="utf-8")
    for dump in (other, tmp_path / "a/news.csv"):
        with pytest.raises(ImportError_) as raised:
            import_dump(dump, sources)
        assert str(raised.value).startswith(
            f"imported/news in {sources} holds the records of {first}, another dump of the same name; "
            f"rename {dump.name} to import it beside them"
        )
    assert imported(sources, "news") == before
    # The same dump again, also through a link to it, is the same dump: idempotent as before.
    assert import_dump(first, sources).unchanged == 2
    (tmp_path / "c").mkdir()
    (tmp_path / "c/news.jsonl").symlink_to(first)
    again = import_dump(tmp_path / "c/news.jsonl", sources)
    assert (again.written, again.unchanged) == ([], 2)
    renamed = tmp_path / "b/news-b.jsonl"
    other.rename(renamed)
    assert import_dump(renamed, sources).written == ["imported/news-b/r1.md"]


def test_a_folder_imported_before_the_marker_keeps_working_and_is_then_claimed(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    dump = jsonl(tmp_path / "news.jsonl", GOOD)
    import_dump(dump, sources)
    (sources / "imported/news/.dump").unlink()  # as an import before the marker left it
    assert import_dump(dump, sources).unchanged == 2
    assert (sources / "imported/news/.dump").read_bytes() == os.fsencode(dump.resolve()) + b"\n"
    (tmp_path / "b").mkdir()
    with pytest.raises(ImportError_, match="another dump of the same name"):
        import_dump(jsonl(tmp_path / "b/news.jsonl", GOOD), sources)


@pytest.mark.parametrize("path", ["imported", "imported/news"])
def test_an_import_folder_that_is_a_file_is_one_sentence_and_exit_2(tmp_path: Path, path: str) -> None:
    # `imported/<dump name>` as a file was a FileExistsError traceback.
    folders = Folders(tmp_path, tmp_path / "src", tmp_path / "idx")
    (folders.sources / path).parent.mkdir(parents=True, exist_ok=True)
    (folders.sources / path).write_text("x", encoding="utf-8")
    result = usru(folders, "import", str(jsonl(tmp_path / "news.jsonl", GOOD)), "--no-index")
    assert result.returncode == 2
    assert_one_line_error(result, f"{path} in {folders.sources} is a file, not a folder")
    assert (folders.sources / path).read_text(encoding="utf-8") == "x"


def test_a_reversed_date_range_is_refused_as_ask_refuses_it(tmp_path: Path) -> None:
    # An outside tester's `import --since 2019 --until 2017` filtered out every record and exited 0.
    folders = Folders(tmp_path, tmp_path / "src", tmp_path / "idx")
    dump = jsonl(tmp_path / "d.jsonl", GOOD)
    result = usru(folders, "import", str(dump), "--no-index", "--since", "2019", "--until", "2017")
    assert result.returncode == 2
    assert_one_line_error(result, "usru: --since 2019 is after --until 2017: no record can be in between.")
    assert not (folders.sources / "imported").exists()
    s = import_dump(dump, folders.sources, ImportOptions(since="2017-12-05", until="2017-12"))
    assert s.written == ["imported/d/r2.md"], "one day, inside the month, is a range"


def test_a_json_value_that_is_no_string_or_number_is_skipped_not_coerced(tmp_path: Path) -> None:
    # An outside tester's {"id": ["x"]} was imported as id "x", a publisher {"name": "X"} as '{"name": "X"}'.
    sources = tmp_path / "src"
    lines: list[Any] = [
        {"id": ["x"], "text": TEXT_A},
        {"id": "p1", "text": TEXT_A, "publisher": {"name": "X"}},
        {"id": "t1", "text": TEXT_A, "title": True},
        {"id": "d1", "text": TEXT_A, "date": [2018, 7, 16]},
        {"id": "u1", "text": TEXT_A, "url": {"href": "http://x"}},
        {"id": "b1", "text": {"body": TEXT_A}},
        {"id": 7, "text": ["First paragraph on Russia.", "Second one."], "title": 1984, "publisher": None},
    ]
    summary = import_dump(jsonl(tmp_path / "d.jsonl", lines), sources)
    assert summary.skipped == [
        ("line 1", "the id field 'id' holds a list, not text"),
        ("line 2", "the publisher field 'publisher' holds an object, not text"),
        ("line 3", "the title field 'title' holds true or false, not text"),
        ("line 4", "the date field 'date' holds a list, not text"),
        ("line 5", "the url field 'url' holds an object, not text"),
        ("line 6", "the text field 'text' holds an object, not text"),
    ]
    assert summary.written == ["imported/d/7.md"], "numbers are values, a text may be a list of paragraphs"
    a = read_article(sources / "imported/d/7.md", "7.md")
    assert a.text.endswith("First paragraph on Russia.\n\nSecond one.") and a.title == "1984"


def test_an_id_too_large_for_a_number_is_skipped_and_a_year_is_a_date(tmp_path: Path) -> None:
    # A second outside attack: 1e400 and 1e500 both became id "inf", the second skipped as the same id; a
    # date of "2018" was "not a date" though front matter and the filters take a year.
    dump = tmp_path / "d.jsonl"
    dump.write_text(
        f'{{"id": 1e400, "text": "{TEXT_A}"}}\n{{"id": "y1", "text": "{TEXT_A}", "date": "2018"}}\n'
        f'{{"id": "y2", "text": "{TEXT_A}", "date": 2017}}\n',
        encoding="utf-8",
    )
    summary = import_dump(dump, tmp_path / "src")
    assert summary.skipped == [("line 1", "the id field 'id' holds no finite number, not text")]
    assert summary.written == ["imported/d/y1.md", "imported/d/y2.md"]
    assert read_article(tmp_path / "src/imported/d/y1.md", "y1.md").date == "2018"


def test_a_reimport_keeps_the_metadata_a_record_lacks(tmp_path: Path) -> None:
    # a36: re-imported with --publisher naming a field only record 2 has, record 1 lost "publisher: Reuters".
    sources = tmp_path / "src"
    first = [{"id": "r1", "text": TEXT_A, "publisher": "Reuters --- Wire"}, {"id": "r2", "text": TEXT_B}]
    import_dump(jsonl(tmp_path / "d.jsonl", first), sources)
    again = [{"id": "r1", "text": TEXT_A}, {"id": "r2", "text": TEXT_B, "outlet": "TASS"}]
    summary = import_dump(
        jsonl(tmp_path / "d.jsonl", again), sources, ImportOptions(fields={"publisher": "outlet"})
    )
    assert read_article(sources / "imported/d/r1.md", "r1.md").publisher == "Reuters --- Wire"
    assert read_article(sources / "imported/d/r2.md", "r2.md").publisher == "TASS"
    assert summary.unchanged == 1 and summary.written == ["imported/d/r2.md"]


def test_a_dump_in_utf16_without_a_byte_order_mark_is_refused_in_one_sentence(tmp_path: Path) -> None:
    # a36: its CSV header was shown as "\x00d\x00a\x00t\x00e", a JSON Lines file was "3 records skipped".
    (tmp_path / "le.jsonl").write_bytes((json.dumps(GOOD[0]) + "\n").encode("utf-16-le"))
    (tmp_path / "be.csv").write_bytes(f'id,text\r\nc1,"{TEXT_B}"\r\n'.encode("utf-16-be"))
    for name in ("le.jsonl", "be.csv"):
        with pytest.raises(UsruError, match="without a byte order mark"):
            import_dump(tmp_path / name, tmp_path / "src")
    assert not (tmp_path / "src" / "imported").exists()


def test_a_dump_in_utf16_or_utf32_with_a_byte_order_mark_is_read_as_such(tmp_path: Path) -> None:
    # An outside tester's UTF-16 dump of one record was refused as "not valid UTF-8", "2 records skipped".
    sources = tmp_path / "src"
    line = json.dumps({**GOOD[0], "title": "Путин и Трамп"}, ensure_ascii=False) + "\n"
    (tmp_path / "le.jsonl").write_bytes(line.encode("utf-16"))
    (tmp_path / "wide.jsonl").write_bytes((line + line.replace('"r1"', '"r3"')).encode("utf-32"))
    (tmp_path / "be.csv").write_bytes(b"\xfe\xff" + f'id,text\r\nc1,"{TEXT_B}"\r\n'.encode("utf-16-be"))
    for name, written in [("le", 1), ("wide", 2), ("be", 1)]:
        s = import_dump(tmp_path / f"{name}.{'csv' if name == 'be' else 'jsonl'}", sources)
        assert (s.records, len(s.written), s.skipped) == (written, written, []), name
    assert read_article(sources / "imported/le/r1.md", "r1.md").title == "Путин и Трамп"
    assert read_article(sources / "imported/be/c1.md", "c1.md").text.endswith(TEXT_B)
    # Other encodings stay refused record by record, as before.
    (tmp_path / "latin.jsonl").write_bytes(line.replace("Путин и Трамп", "Café").encode("latin-1"))
    assert import_dump(tmp_path / "latin.jsonl", sources).skipped == [("line 1", "not valid UTF-8")]


CARDED = (
    "Senate Majority Leader Mitch McConnell Addison (Mitch) Mitchell McConnellGOP senators balk at lengthy "
    "Russia trial Graham says Schiff should be a witness MORE (R-Ky.) had tried to defuse the uproar over "
    "the sanctions bill."
)


def test_link_cards_are_removed_before_matching_and_names_come_from_the_clean_text(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    records = [{"title": "Uproar", "text": CARDED}, {"id": "h2", "title": "Uproar", "text": CARDED}]
    dump = jsonl(tmp_path / "hill.jsonl", records)
    # "Russia" is only in the card's headline: no match, and nothing is left behind (no folder, no .dump).
    assert import_dump(dump, sources, ImportOptions(match="Russia")).filtered == 2
    assert not (sources / "imported").exists()
    summary = import_dump(dump, sources)
    assert (summary.link_cards, summary.carded, len(summary.written)) == (2, 2, 2)
    files = imported(sources, "hill")
    kept = "Senate Majority Leader Mitch McConnell (R-Ky.) had tried to defuse the uproar over the sanctions bill."
    assert all(body.endswith("---\n" + kept) for body in files.values())
    assert sorted(files) == sorted(
        ["h2.md", file_name(hashlib.sha256(kept.encode()).hexdigest()[:20]) + ".md"]
    )
    # A later scrape's card shows other headlines: the same files, unchanged, and no card counted as removed.
    rescraped = [{**r, "text": CARDED.replace("Russia trial", "Ukraine trial")} for r in records]
    again = import_dump(jsonl(tmp_path / "hill.jsonl", rescraped), sources)
    assert (again.unchanged, again.written, again.link_cards) == (2, [], 0)
    assert imported(sources, "hill") == files


def test_keep_link_cards_imports_the_text_as_the_dump_has_it(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    dump = jsonl(tmp_path / "hill.jsonl", [{"id": "h1", "text": CARDED}])
    summary = import_dump(dump, sources, ImportOptions(keep_link_cards=True))
    assert summary.link_cards == 0
    assert imported(sources, "hill")["h1.md"].endswith("---\n" + CARDED)
    # Without an id the file is named from the text without its cards, kept or not: importing again without
    # --keep-link-cards rewrites the same file (a38: each story was imported two and three times).
    noid = jsonl(tmp_path / "noid.jsonl", [{"text": CARDED}])
    import_dump(noid, sources, ImportOptions(keep_link_cards=True))
    kept = imported(sources, "noid")
    again = import_dump(noid, sources)
    assert len(again.written) == 1 and sorted(imported(sources, "noid")) == sorted(kept)


def test_usru_import_says_how_many_link_cards_it_removed(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    (root / "src").mkdir(parents=True)
    folders = Folders(root, root / "src", root / "idx")
    dump = jsonl(tmp_path / "hill.jsonl", [{"id": "h1", "text": CARDED}, *GOOD])
    result = usru(folders, "import", str(dump), "--no-index")
    assert result.returncode == 0, result.stderr
    said = "Removed 1 inline link card (a linked name's hover text: full name, other headlines, MORE) from 1 record written."
    assert said in result.stdout.splitlines()
    # Nothing written, nothing removed; --keep-link-cards writes the card back.
    assert "Removed" not in usru(folders, "import", str(dump), "--no-index").stdout
    kept = usru(folders, "import", str(dump), "--no-index", "--keep-link-cards")
    assert "1 written" in kept.stdout and "Removed" not in kept.stdout
    assert (root / "src/imported/hill/h1.md").read_text(encoding="utf-8").endswith(CARDED)
