"""The consoles the CLI prints through: no markup or emoji codes, and a quiet end when the reader goes away."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

from rich.console import Console


class PipeConsole(Console):
    """A rich Console that raises BrokenPipeError for the caller to end on, instead of exiting with 1."""

    def on_broken_pipe(self) -> None:
        """Stop writing and let the command end the way `usru` ends on a closed pipe."""
        self.quiet = True
        raise BrokenPipeError


def make_console(stderr: bool = False) -> Console:
    """A console for the CLI; article text is printed as Text, so markup and emoji codes are off anyway."""
    return PipeConsole(stderr=stderr, highlight=False, markup=False, emoji=False)


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's last flush cannot complain."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class QuestionLine:
    """One line of stdin: the question, or why it cannot be one (`text` then shows the bytes escaped)."""

    def __init__(self, raw: bytes) -> None:
        raw = raw.rstrip(b"\r\n")
        try:
            self.text = raw.decode("utf-8")
            self.error: str | None = None
        except UnicodeDecodeError as exc:
            self.text = raw.decode("utf-8", "backslashreplace")
            self.error = invalid_utf8_message(raw[exc.start : exc.start + 1])


def invalid_utf8_message(byte: bytes) -> str:
    """The one sentence for a question that is not UTF-8."""
    return (
        f"The question is not valid UTF-8 text (byte 0x{byte.hex() or '??'}); "
        "please type it again or check the terminal's encoding."
    )


def require_utf8(question: str) -> str:
    """The question unchanged; QuestionError when it came from bytes that were not UTF-8.

    Python decodes undecodable argument (and, in the REPL, stdin) bytes as lone surrogates:
    0xFF becomes U+DCFF.
    """
    from retrieval.errors import QuestionError

    for ch in question:
        if "\ud800" <= ch <= "\udfff":
            byte = bytes([ord(ch) - 0xDC00]) if "\udc80" <= ch <= "\udcff" else b""
            raise QuestionError(invalid_utf8_message(byte))
    return question


def read_question_lines(stream: BinaryIO) -> Iterator[QuestionLine]:
    """The non-blank lines of a byte stream, each as soon as it arrives (so usru can be a co-process).

    Blank lines are spacing and get no reply: a co-process that waits for one reply per line must not
    send them.
    """
    for raw in iter(stream.readline, b""):
        line = QuestionLine(raw)
        if line.error or line.text.strip():
            yield line
