"""The interactive chat loop (`usru chat`): reads questions from stdin, so tests can pipe them in."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console

from bot.render import print_answer, print_sources
from retrieval.errors import UsruError
from retrieval.service import AnsweringService

HELP = """Ask any question about US–Russia relations; answers quote the indexed articles word for word.
Commands: /sources  list the indexed articles
          /help     show this help
          /quit     leave (Ctrl-D works too)"""
HISTORY = Path.home() / ".usru_history"


def _enable_history() -> None:
    try:
        import readline
    except ImportError:  # not on every platform; history is a nicety
        return
    with contextlib.suppress(OSError):  # no history yet
        readline.read_history_file(HISTORY)
    readline.set_history_length(1000)
    import atexit

    atexit.register(_save_history, readline)


def _save_history(readline: object) -> None:
    with contextlib.suppress(OSError):  # a read-only home must not spoil the exit
        readline.write_history_file(HISTORY)  # type: ignore[attr-defined]


def run_chat(service: AnsweringService, console: Console, stdin: TextIO | None = None) -> int:
    """Answer questions until /quit or end of input; return the exit code."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty() and console.is_terminal
    if interactive:
        _enable_history()
        stats = service.stats()
        console.print(
            f"usru — {stats.articles} articles from {len(stats.publishers)} outlets. Type /help for help.",
            markup=False,
        )
    while True:
        try:
            line = input("usru> ") if interactive else stdin.readline()
        except EOFError:
            break
        except KeyboardInterrupt:
            console.print()
            continue
        if not interactive and line == "":
            break
        question = line.strip()
        if not question:
            continue
        command = question.lower()
        if command in ("/quit", "/exit", "/q"):
            break
        if command == "/help":
            console.print(HELP, markup=False, highlight=False)
        elif command == "/sources":
            print_sources(console, service.list_articles())
        elif command.startswith("/") and " " not in command:
            console.print(f"Unknown command {question}; type /help for the commands.", markup=False)
        else:
            try:
                print_answer(console, service.answer(question))
            except UsruError as exc:
                console.print(str(exc), markup=False, highlight=False)
        console.print()
    return 0
