"""The real `usru` command in a subprocess, with the hashing embedder and temporary folders."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SEED_NAMES
from tests.support.cli import QUESTION, QUOTE, Folders, indexed_folders, make_folders, usru
from tests.support.corpus import file_text

OFF_TOPIC = "sourdough bread recipe"


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("usru: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    """A copy of the seeds indexed once by `usru index`; tests only read it."""
    return indexed_folders(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def folders(tmp_path: Path) -> Folders:
    """A private copy of the seeds with no index yet."""
    return make_folders(tmp_path)


# ---------------------------------------------------------------------------- index


def test_index_prints_a_summary_and_reuses_vectors_the_second_time(folders: Folders) -> None:
    first = usru(folders, "index")
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert re.search(
        r"Indexed 5 articles \(\d+ chunks, \d+ sentences\) in [\d.]+ s as version v000001: "
        r"5 new, 0 changed, 0 removed, 5 embedded, 0 reused\.",
        first.stdout,
    ), first.stdout
    assert "Skipped 0 files." in first.stdout
    assert (folders.index_dir / "CURRENT").read_text().strip() == "v000001"

    second = usru(folders, "index")
    assert second.returncode == 0, second.stderr
    # Nothing changed: the live version stays, no new one is written.
    assert "as version v000001: 0 new, 0 changed, 0 removed, 0 embedded, 5 reused." in second.stdout
    assert (folders.index_dir / "CURRENT").read_text().strip() == "v000001"


def test_index_lists_skipped_files_with_their_reasons(folders: Folders) -> None:
    (folders.sources / "broken.txt").write_bytes(b"\x00\x01binary\x00")
    result = usru(folders, "index")
    assert result.returncode == 0, result.stderr
    assert "Indexed 5 articles" in result.stdout
    assert "Skipped 1 file:" in result.stdout
    assert re.search(r"broken\.txt: binary file", result.stdout)


def test_index_flags_on_the_command_line_override_the_environment(folders: Folders, tmp_path: Path) -> None:
    elsewhere = tmp_path / "other-idx"
    env = folders.env()
    env["USRU_SOURCES"] = str(tmp_path / "does-not-exist")
    result = usru(folders, "index", "--sources", str(folders.sources), "--index-dir", str(elsewhere), env=env)
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "CURRENT").is_file()
    assert not folders.index_dir.exists()


# ---------------------------------------------------------------------------- ask


def test_ask_json_prints_one_json_object(indexed: Folders) -> None:
    result = usru(indexed, "ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)  # the whole output is one object
    assert set(data) == {"question", "status", "answer", "citations", "mode", "timings_ms", "groups", "note"}
    assert data["question"] == QUESTION
    assert data["status"] == "answered"
    assert data["citations"]
    for c in data["citations"]:
        assert set(c) == {"n", "source", "title", "publisher", "date", "quote", "start", "end"}
        assert c["quote"] == file_text(indexed, c["source"])[c["start"] : c["end"]]
    assert QUOTE in [c["quote"] for c in data["citations"]]


def test_ask_json_reads_one_question_per_line_and_prints_json_lines(indexed: Folders) -> None:
    questions = [QUESTION, OFF_TOPIC, "What did Putin say about relations with the United States?"]
    result = usru(indexed, "ask", "--json", stdin="\n".join(questions) + "\n\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == questions
    assert [a["status"] for a in answers] == ["answered", "not_found", "answered"]
    for a in answers:
        for c in a["citations"]:
            assert c["quote"] == file_text(indexed, c["source"])[c["start"] : c["end"]]


def test_ask_json_batch_reports_a_bad_line_and_goes_on(indexed: Folders) -> None:
    result = usru(indexed, "ask", "--json", stdin=f"{QUESTION}\n?!?\n{OFF_TOPIC}\n")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 3
    assert answers[0]["status"] == "answered" and answers[2]["status"] == "not_found"
    assert set(answers[1]) == {"question", "error"} and answers[1]["question"] == "?!?"


def test_an_error_object_repeats_only_the_start_of_a_long_question(indexed: Folders) -> None:
    long = "why " * 250_000  # a megabyte, which came back whole inside the error object
    result = usru(indexed, "ask", "--json", stdin=f"{long}\n")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert "too long" in error["error"]
    assert error["question"] == long[:200] + "…"


def test_ask_and_chat_say_what_the_articles_lack(indexed: Folders) -> None:
    question = "What did Putin say about the 2031 invasion of Ukraine?"
    result = usru(indexed, "ask", "--json", stdin=f"{question}\n{QUESTION}\n")
    assert result.returncode == 0, result.stderr
    refused, answered = (json.loads(line) for line in result.stdout.splitlines())
    assert refused["status"] == "not_found" and "2031" in refused["note"]
    assert answered["status"] == "answered" and answered["note"] is None
    text = usru(indexed, "ask", question)
    assert text.returncode == 0, text.stderr
    notes = [line for line in text.stdout.splitlines() if line.startswith("Note: ")]
    assert len(notes) == 1 and "2031" in notes[0], text.stdout
    chat = usru(indexed, "chat", stdin=f"{question}\n{QUESTION}\n")
    assert chat.returncode == 0, chat.stderr
    assert [line for line in chat.stdout.splitlines() if line.startswith("Note: ")] == notes, chat.stdout


def test_ask_prints_the_answer_as_text(indexed: Folders) -> None:
    result = usru(indexed, "ask", QUESTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("One article speaks to this: China News Service.")
    assert f"[1] “{QUOTE}”" in result.stdout
    assert "— China News Service, undated," in result.stdout


def test_ask_builds_the_index_first_if_there_is_none(folders: Folders) -> None:
    assert not folders.index_dir.exists()
    result = usru(folders, "ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "answered"
    assert (folders.index_dir / "CURRENT").read_text().strip() == "v000001"


# ---------------------------------------------------------------------------- sources and chat


def test_sources_lists_the_five_files(indexed: Folders) -> None:
    result = usru(indexed, "sources")
    assert result.returncode == 0, result.stderr
    assert "5 indexed articles" in result.stdout
    for name in SEED_NAMES:
        assert name in result.stdout, f"{name} is not listed whole:\n{result.stdout}"


def test_chat_answers_commands_and_questions_from_stdin(indexed: Folders) -> None:
    stdin = (
        f"/help\n\n{QUESTION}\n/sources\n/nonsense\n/since 2019-13\n/2019 sanctions\n?!\n{OFF_TOPIC}\n/sources extra\n/quit now\n"
        f"/quit\n/help\n{QUESTION}\n"
    )
    result = usru(indexed, "chat", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.count("Commands:") == 1, "nothing after /quit is read"
    assert "/sources" in out and "/quit" in out
    assert out.count(f"“{QUOTE}”") == 1
    assert "5 indexed articles" in out
    assert "Unknown command /nonsense" in out
    # An unknown command with words after it is no question either (a28: "/since 2019-13" was answered).
    assert "Unknown command /since;" in out and "Unknown command /2019;" in out
    # A command with words after it is neither asked as a question nor run.
    assert "/sources takes nothing after it" in out and "/quit takes nothing after it" in out
    assert out.count("5 indexed articles") == 1
    assert "Please ask a question in words" in out
    assert "The indexed articles don't cover this question" in out


def test_chat_ends_at_end_of_input(indexed: Folders) -> None:
    result = usru(indexed, "chat", stdin=QUESTION)  # no newline, no /quit
    assert result.returncode == 0, result.stderr
    assert f"“{QUOTE}”" in result.stdout


# ---------------------------------------------------------------------------- mistakes


def test_a_missing_sources_folder_is_one_line_on_stderr(folders: Folders, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = usru(folders, "index", "--sources", str(missing))
    assert result.returncode == 2
    assert_one_line_error(result, str(missing), "does not exist")
    assert result.stdout == ""

    env = folders.env()
    env["USRU_SOURCES"] = str(missing)
    result = usru(folders, "ask", QUESTION, env=env)  # no index yet: ask tries to build one
    assert result.returncode == 2
    assert_one_line_error(result, "does not exist")


def test_a_missing_sources_folder_is_found_before_the_model_loads(folders: Folders, tmp_path: Path) -> None:
    # Loading the model writes its ONNX export (87 MB) into the index folder; a mistyped folder must not
    # leave that behind. A model path that does not exist shows which check ran first.
    env = folders.env() | {
        "USRU_SOURCES": str(tmp_path / "nowhere"),
        "USRU_EMBEDDING_MODEL": str(tmp_path / "nomodel"),
    }
    result = usru(folders, "ask", QUESTION, env=env)
    assert result.returncode == 2
    assert_one_line_error(result, "nowhere", "does not exist")
    assert not folders.index_dir.exists()


@pytest.mark.parametrize("question", ["", "   ", "?!"])
def test_an_empty_question_is_one_line_on_stderr(indexed: Folders, question: str) -> None:
    result = usru(indexed, "ask", question)
    assert result.returncode == 2
    assert_one_line_error(result, "Please ask a question")
    assert result.stdout == ""


def test_no_questions_on_stdin_is_one_line_on_stderr(indexed: Folders) -> None:
    result = usru(indexed, "ask", "--json", stdin="\n  \n")
    assert result.returncode == 2
    assert_one_line_error(result, "No questions")


def test_a_too_long_question_is_one_line_on_stderr(indexed: Folders) -> None:
    result = usru(indexed, "ask", "why " * 400)
    assert result.returncode == 2
    assert_one_line_error(result, "too long")


def test_an_invalid_setting_is_one_line_on_stderr(indexed: Folders) -> None:
    env = indexed.env()
    env["USRU_MAX_QUOTES"] = "lots"
    result = usru(indexed, "ask", QUESTION, env=env)
    assert result.returncode == 2
    assert_one_line_error(result, "USRU_MAX_QUOTES is 'lots'", "a valid integer")


def test_a_setting_with_choices_names_them_not_a_regular_expression(indexed: Folders) -> None:
    env = indexed.env() | {"USRU_EMBED_PRECISION": "bfloat16"}
    result = usru(indexed, "ask", QUESTION, env=env)
    assert result.returncode == 2
    assert_one_line_error(result, "USRU_EMBED_PRECISION is 'bfloat16'", "one of fp32, int8, bf16")
    assert "pattern" not in result.stderr and "^(" not in result.stderr


def test_a_damaged_index_is_one_line_on_stderr_and_rebuild_fixes_it(folders: Folders) -> None:
    assert usru(folders, "index").returncode == 0
    faiss_file = folders.index_dir / "segments" / "s000001" / "chunks.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:64])
    for args in (("ask", QUESTION), ("ask", "--json", QUESTION), ("sources",)):
        result = usru(folders, *args)
        assert result.returncode == 2, args
        assert_one_line_error(result, "damaged", "usru index --rebuild")
        assert result.stdout == ""

    rebuilt = usru(folders, "index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "5 embedded, 0 reused" in rebuilt.stdout
    result = usru(folders, "ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "answered"


def test_an_unknown_command_is_a_usage_error(indexed: Folders) -> None:
    result = usru(indexed, "frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "usage: usru" in result.stderr


def test_a_duplicate_file_is_reported_and_listed_beside_its_original(folders: Folders) -> None:
    (folders.sources / "copy.txt").write_bytes((folders.sources / SEED_NAMES[3]).read_bytes())
    result = usru(folders, "index")
    assert result.returncode == 0, result.stderr
    assert f"copy.txt: the same article as {SEED_NAMES[3]}; indexed once" in result.stdout
    listing = usru(folders, "sources").stdout
    assert "5 indexed articles" in listing
    assert f"{SEED_NAMES[3]} (also copy.txt)" in listing
