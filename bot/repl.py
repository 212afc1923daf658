"""The interactive chat loop (`usru chat`): reads questions from stdin, so tests can pipe them in."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot.render import print_answer, print_citations, print_sources
from bot.terminal import require_utf8
from retrieval.answer import Answer
from retrieval.conversation import Conversation, conversation_with
from retrieval.errors import UsruError
from retrieval.service import AnsweringService
from retrieval.textsafety import error_line, escape_unsafe, one_line

HELP = """Ask any question about US–Russia relations; answers quote the indexed articles word for word.
Follow-up questions ("and what did Lavrov say?") continue the previous question.
Commands: /sources  list the indexed articles
          /new      start a new conversation (forget the previous questions)
          /help     show this help
          /quit     leave (Ctrl-D works too)"""
# The commands, each taking nothing after it.
COMMAND_WORDS = frozenset({"/sources", "/new", "/help", "/quit", "/exit", "/q"})
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


class DraftPrinter:
    """Prints a model's answer text as it is written; a withdrawn draft (a retry) starts a new line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown = ""
        self.printed = False

    def update(self, text: str) -> None:
        """Show the draft answer text so far (called from the answering thread, in order)."""
        if text.startswith(self.shown):
            new = text[len(self.shown) :]
        else:
            self.console.print()
            self.console.print(Text("(checking the quotes failed; asking again…)", style="dim"))
            new = text
        if new:
            self.console.print(Text(escape_unsafe(new, keep="\n"), end=""), end="", soft_wrap=True)
            self.printed = True
        self.shown = text

    def finish(self, answer: Answer) -> None:
        """End the draft with the verified citations, or with the verified answer when it differs."""
        self.console.print()
        if answer.mode == "llm" and answer.status == "answered" and answer.lead == self.shown:
            print_citations(self.console, answer)
            return
        note = (
            "Not every quote could be verified; the answer keeps only what the articles say:"
            if answer.mode == "llm"
            else "The model's quotes could not be verified; here are the article quotes instead:"
        )
        self.console.print()
        self.console.print(Text(note, style="yellow"))
        print_answer(self.console, answer)


def ask(service: AnsweringService, console: Console, question: str, chat: Conversation) -> None:
    """Answer one chat question, streaming the model's text on a terminal, then the verified quotes."""
    draft = DraftPrinter(console) if service.streams and console.is_terminal else None
    answer = chat.ask(question, on_text=draft.update if draft else None)
    if answer.question != chat.check(question):
        console.print(Text(f"(taken as: {one_line(answer.question)})", style="dim"))
    if draft is not None and draft.printed:
        draft.finish(answer)
    else:
        print_answer(console, answer)


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
    chat = conversation_with(service)
    while True:
        try:
            line = input("usru> ") if interactive else stdin.readline()
        except EOFError:
            break
        except KeyboardInterrupt:
            if not interactive:
                raise  # fed by a pipe or a file, Ctrl-C stops the run; at a prompt it only clears the line
            console.print()
            continue
        if not interactive and line == "":
            break
        question = line.strip()
        if not question:
            continue
        command = question.lower()
        word, *rest = command.split(maxsplit=1)
        if word in COMMAND_WORDS and rest:
            # "/sources extra" was asked as a question and answered with quotes about sources.
            console.print(Text(f"{word} takes nothing after it; type {word} alone."))
        elif command in ("/quit", "/exit", "/q"):
            break
        elif command == "/help":
            console.print(Text(HELP))
        elif command == "/sources":
            print_sources(console, service.list_articles())
        elif command == "/new":
            chat.forget()
            console.print("Starting a new conversation.", markup=False)
        elif word.startswith("/") and len(word) > 1:
            # "/since 2019-13", "/2019 sanctions": a command this chat lacks, not a question (a28, a30).
            console.print(
                Text(f"Unknown command {one_line(question.split()[0])}; type /help for the commands.")
            )
        else:
            try:
                ask(service, console, require_utf8(question), chat)
            except UsruError as exc:
                console.print(Text(error_line(exc)), soft_wrap=True)
            except KeyboardInterrupt:
                if not interactive:
                    raise
                # At a terminal Ctrl-C stops the answer, not the chat: the conversation so far stays (a23).
                console.print(Text("(stopped)", style="dim"))
        console.print()
    return 0
