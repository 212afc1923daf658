"""Issue 15's smaller items: hanging indents, closing quotation marks, a quiet faiss loader."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

from rich.console import Console

from bot.render import print_answer
from retrieval.answer import Answer, Citation
from retrieval.citations import display_quote
from tests.conftest import REPO


def test_a_quote_ending_in_a_straight_mark_still_gets_its_closing_mark() -> None:
    assert display_quote('Putin said the "experts should meet"') == '“Putin said the "experts should meet"”'
    assert display_quote("He called it a 'reset'") == "“He called it a 'reset'”"
    # A quote that brings its own marks is shown as it is.
    assert display_quote('"We have a common agenda."') == '"We have a common agenda."'
    assert display_quote("plain words") == "“plain words”"
    # One that opens with a mark but runs on past its close is wrapped too, or the marks do not pair (a17).
    peskov = "“Of course it was his decision,” Peskov told reporters."
    assert display_quote(peskov) == f"“{peskov}”"


def test_wrapped_quote_and_source_lines_hang_under_their_first_line() -> None:
    quote = "Putin said that Russia is ready to work with the US on arms control issues " * 2
    c = Citation(
        1, "a.txt", "A rather long title of the article", "China News Service", None, quote, 0, len(quote)
    )
    answer = Answer("q", "answered", "One article speaks to this.", "…", (c,), "extractive", {})
    out = io.StringIO()
    print_answer(Console(file=out, width=50, force_terminal=True, color_system=None), answer)
    lines = [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]
    quote_at = next(i for i, line in enumerate(lines) if line.startswith("[1] "))
    source_at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("— "))
    assert source_at - quote_at > 2, "the quote wrapped"
    for line in lines[quote_at + 1 : source_at]:
        assert line.startswith("    ") and not line.startswith("     "), line
    assert len(lines) > source_at + 1, "the source line wrapped"
    for line in lines[source_at + 1 :]:
        assert line.startswith("      "), line


def test_a_terminal_shows_the_note_under_the_lead_escaped() -> None:
    note = "The articles run from 2014-01-01 to 2019-12-31; none mentions 2031 [bold]x[/bold]."
    refusal = Answer(
        "q", "not_found", "Nothing to quote.", "Nothing to quote.", (), "extractive", {}, note=note
    )
    c = Citation(1, "a.txt", "T", "P", None, "Quoted.", 0, 7)
    answered = Answer("q", "answered", "One article.", "…", (c,), "extractive", {}, note=note)
    for answer, after in ((refusal, "Type /sources"), (answered, "[1] ")):
        out = io.StringIO()
        print_answer(Console(file=out, width=200, force_terminal=True, color_system=None), answer)
        lines = out.getvalue().splitlines()
        at = lines.index(f"Note: {note}")
        assert lines[at - 1] == answer.lead
        assert any(line.startswith(after) for line in lines[at + 1 :]), lines
    out = io.StringIO()
    print_answer(Console(file=out, width=200, force_terminal=True), dataclasses.replace(answered, note=None))
    assert "Note:" not in out.getvalue()


def test_faiss_does_not_log_its_loader_misses_at_info() -> None:
    code = (
        "import logging; logging.basicConfig(level=logging.INFO); "
        "import retrieval.vector_index, faiss; print(faiss.IndexFlatIP(4).d)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "4", result.stderr
    assert "Could not load library" not in result.stderr and "faiss.loader" not in result.stderr
