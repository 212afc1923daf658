"""The `usru` command's input and output edges (issue 16.5, 16.13a).

Questions that are not UTF-8 are refused in one sentence (a batch answers the other lines); a batch on
stdin is answered line by line as the lines arrive, so `usru ask --json` works as a co-process; and
output into a closed pipe ends quietly with status 0.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading

import pytest

from tests.support.cli import COMMAND, QUESTION, QUOTE, Folders, make_folders, usru


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    folders = make_folders(tmp_path_factory.mktemp("cli_io"))
    result = usru(folders, "index")
    assert result.returncode == 0, result.stderr
    return folders


def run_bytes(folders: Folders, *args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*COMMAND, *args], input=stdin, capture_output=True, cwd=folders.root, env=folders.env(), timeout=120
    )


def one_error_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8")
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: "), text
    return lines[0]


def test_a_question_argument_that_is_not_utf8_is_one_line_and_exit_2(indexed: Folders) -> None:
    result = run_bytes(indexed, "ask", b"Is Russia \xff\xfe ready to talk?")
    assert result.returncode == 2 and result.stdout == b""
    assert "not valid UTF-8" in one_error_line(result.stderr)
    result = run_bytes(indexed, "ask", "--json", b"arms \xc3 control")
    assert result.returncode == 2 and result.stdout == b""
    assert "byte 0xc3" in one_error_line(result.stderr)


def test_a_batch_line_that_is_not_utf8_gets_an_error_object_and_the_rest_are_answered(
    indexed: Folders,
) -> None:
    stdin = QUESTION.encode() + b"\n\xff\xfe broken\n" + QUESTION.encode() + b"\n"
    result = run_bytes(indexed, "ask", "--json", stdin=stdin)
    assert "Traceback" not in result.stderr.decode(), result.stderr
    assert result.returncode == 1, "a refused line makes the batch report a failure"
    replies = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(replies) == 3
    assert replies[1]["question"] == "\\xff\\xfe broken" and "not valid UTF-8" in replies[1]["error"]
    for reply in (replies[0], replies[2]):
        assert QUOTE in [c["quote"] for c in reply["citations"]]
    # As text: the answers on stdout, one `usru:` line for the bad one on stderr.
    result = run_bytes(indexed, "ask", stdin=stdin)
    assert result.returncode == 1
    assert "not valid UTF-8" in one_error_line(result.stderr)
    assert result.stdout.decode("utf-8").count(QUOTE) == 2


def test_the_chat_refuses_a_line_that_is_not_utf8_and_goes_on(indexed: Folders) -> None:
    result = run_bytes(indexed, "chat", stdin=b"\xff\xfe?\n" + QUESTION.encode() + b"\n")
    assert result.returncode == 0 and result.stderr == b""
    out = result.stdout.decode("utf-8")
    assert "not valid UTF-8" in out and QUOTE in out


def test_usru_ask_json_answers_each_line_as_it_arrives(indexed: Folders) -> None:
    process = subprocess.Popen(
        [*COMMAND, "ask", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=indexed.root,
        env=indexed.env(),
    )
    assert process.stdin is not None and process.stdout is not None
    answers: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=lambda: [answers.put(line) for line in process.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        for question in (QUESTION, "Lavrov", QUESTION):
            process.stdin.write(question.encode() + b"\n")
            process.stdin.flush()
            # The pipe stays open: the answer must come before any end of input.
            reply = json.loads(answers.get(timeout=60))
            assert reply["question"] == question
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def closed_pipe_run(folders: Folders, *args: str, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    """`usru ARGS` writing into a pipe whose reader is already gone, as after `| head -c 10`."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*COMMAND, *args],
            input=stdin.encode(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=folders.root,
            env=folders.env(),
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args, stdin",
    [
        (("sources",), ""),
        (("ask", QUESTION), ""),
        (("ask", "--json", QUESTION), ""),
        (("ask",), f"{QUESTION}\n" * 5),
        (("ask", "--json"), f"{QUESTION}\n" * 5),
        (("chat",), f"{QUESTION}\n/sources\n" * 5),
    ],
    ids=["sources", "ask", "ask --json", "ask batch", "ask --json batch", "chat"],
)
def test_output_into_a_closed_pipe_ends_quietly_with_status_0(
    indexed: Folders, args: tuple[str, ...], stdin: str
) -> None:
    result = closed_pipe_run(indexed, *args, stdin=stdin)
    assert result.stderr == b"", result.stderr.decode()
    assert result.returncode == 0


def test_usru_sources_piped_into_head_is_quiet(indexed: Folders) -> None:
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {' '.join(COMMAND)} sources | head -c 10"],
        capture_output=True,
        cwd=indexed.root,
        env=indexed.env(),
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == b""
    assert len(result.stdout) == 10


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("ask", QUESTION), ("ask", "--json", QUESTION), ("sources",)])
def test_output_to_a_full_disk_is_one_line_and_exit_2(indexed: Folders, args: tuple[str, ...]) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [*COMMAND, *args],
            stdout=full,
            stderr=subprocess.PIPE,
            cwd=indexed.root,
            env=indexed.env(),
            timeout=120,
        )
    assert result.returncode == 2
    assert "No space left on device" in one_error_line(result.stderr)
