"""Hostile and odd questions through every front end: `usru ask`, the REPL and the Telegram bot.

Each gets a sane answer or a one-sentence refusal, never a traceback; nothing in a question is run,
interpreted as markup or as a command; Telegram replies are always HTML that Telegram accepts.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from bench.fakebotapi import ALLOWED_TAGS, FakeBotAPI, parse_html
from bot.cli import ECHOED_CHARS, main
from bot.repl import run_chat
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.answer.test_llm import tty_repl
from tests.support.cli import QUESTION, QUOTE, Folders, indexed_folders, usru
from tests.support.telegram import running_bot, wait_sent

SHELL_MARK = "usru-shell-mark"
# name -> (question, what must happen): "answer" (the seed quote), "refuse" (one sentence), "reply" (either
# a sane answer or not found; the question is odd but harmless).
QUESTIONS: dict[str, tuple[str, str]] = {
    "empty": ("", "refuse"),
    "whitespace": (" \t \u00a0 ", "refuse"),
    "100k characters": ("Is Russia ready to talk? " * 4000, "refuse"),
    "control characters": ("Is Russia\x00 ready\x07 to resume\u200b arms control\x1b talks?\u202e", "answer"),
    "only emoji": ("🇷🇺🤝🇺🇸😀", "refuse"),
    "RTL Arabic": ("هل روسيا مستعدة لاستئناف محادثات الحد من التسلح؟", "reply"),
    "RTL Hebrew with an override": ("\u202eהאם רוסיה מוכנה לשיחות?", "reply"),
    "HTML injection": (
        "<b>Is Russia ready</b></blockquote><script>alert(1)</script> to resume arms control talks?",
        "reply",
    ),
    "Markdown link injection": (
        "[x](javascript:alert(1)) **Is Russia ready** to resume arms control talks?",
        "reply",
    ),
    "Rich markup": (
        "[bold red]Is Russia ready[/] to resume arms control talks? [/] [link=file:///etc]x[/link]",
        "reply",
    ),
    "bot command": ("/reindex", "reply"),
    "CLI command": ("index --rebuild", "reply"),
    "Russian": ("Готова ли Россия возобновить переговоры по контролю над вооружениями?", "reply"),
    "mixed scripts": ("Is Россия ready to resume arms control переговоры?", "reply"),
    "a whole article sentence": (QUOTE, "answer"),
    "SQL": ("'; DROP TABLE articles; -- arms control", "reply"),
    "shell": (f"$(touch {SHELL_MARK}) `touch {SHELL_MARK}` arms control; touch {SHELL_MARK}", "reply"),
}
NAMES = sorted(QUESTIONS)


def in_process(
    folders: Folders, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """`usru ARGS` through the console script's entry point in this process: (exit code, stdout, stderr)."""
    monkeypatch.chdir(folders.root)
    for key, value in folders.env().items():
        if key.startswith(("USRU_", "EMBEDDING_")):
            monkeypatch.setenv(key, value)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    """A copy of the seeds indexed once by `usru index`; tests only read it."""
    return indexed_folders(tmp_path_factory.mktemp("questions"))


def check_nothing_ran(folders: Folders) -> None:
    assert not any(p.name == SHELL_MARK for p in folders.root.rglob("*")), "a question was run by a shell"
    assert not Path(SHELL_MARK).exists()


@pytest.mark.parametrize("name", NAMES)
def test_usru_ask_answers_or_refuses_in_one_sentence(
    indexed: Folders, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    question, expect = QUESTIONS[name]
    code, out, err = in_process(indexed, monkeypatch, capsys, "ask", "--json", question)
    if expect == "refuse":
        assert code == 2 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("usru: "), err
        assert "Please ask a question" in lines[0] or "too long" in lines[0], err
        return
    assert code == 0 and err == "", err
    answer = json.loads(out)
    assert answer["status"] in ("answered", "not_found")
    assert "\x00" not in answer["question"] and "\u202e" not in answer["question"]
    for c in answer["citations"]:
        text = (indexed.sources / c["source"]).read_text("utf-8")
        assert c["quote"] == text[c["start"] : c["end"]]
    if expect == "answer":
        assert answer["status"] == "answered" and QUOTE in [c["quote"] for c in answer["citations"]]
    # The same question as plain text: markup in it is never interpreted on the way out.
    code, plain, err = in_process(indexed, monkeypatch, capsys, "ask", question)
    assert code == 0 and err == "" and plain.strip()
    check_nothing_ran(indexed)
    code, listing, _ = in_process(indexed, monkeypatch, capsys, "sources")
    assert code == 0 and "5 indexed articles" in listing, "the SQL question dropped nothing"


def test_the_real_usru_ask_reads_every_question_from_stdin(indexed: Folders) -> None:
    lines = [q for q, _ in QUESTIONS.values() if "\x00" not in q and q.strip()]
    result = usru(indexed, "ask", "--json", stdin="\n".join(lines) + "\n")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, "some lines are refused, so the batch reports a failure"
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(lines)
    refused = [r for r in replies if "error" in r]
    # An error object repeats at most the question's first ECHOED_CHARS characters (the 100k one is cut).
    assert {r["question"] for r in refused} == {
        q if len(q) <= ECHOED_CHARS else q[:ECHOED_CHARS] + "…"
        for q, expect in QUESTIONS.values()
        if expect == "refuse" and q in lines
    }
    check_nothing_ran(indexed)


def test_the_repl_answers_every_question_and_runs_no_command(hashing_service: AnsweringService) -> None:
    stdin = "".join(f"{q}\n" for q, _ in QUESTIONS.values() if "\n" not in q) + "/quit\n"
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100, color_system=None)
    assert run_chat(hashing_service, console, io.StringIO(stdin)) == 0
    text = out.getvalue()
    assert "Unknown command /reindex" in text
    assert text.count(f"“{QUOTE}”") >= 2, "the pasted sentence and the question with controls both answered"
    # Blank lines are skipped without a word; the emoji-only line is refused in one sentence.
    assert text.count("Please ask a question in words") == 1 and "too long" in text
    assert hashing_service.stats().articles == 5, "index --rebuild typed in the chat is only a question"


# Questions made only of what terminals and `tput` write; each left letters or punctuation behind.
ESCAPES_ONLY = {
    "tput sgr0 (charset, then CSI)": "\x1b(B\x1b[m",
    "tput smkx (CSI, then keypad)": "\x1b[?1h\x1b=",
    "an arrow key in application mode": "\x1bOA",
    "save and restore the cursor": "\x1b7\x1b8",
    "a device string": "\x1bP1$r\x1b\\",
    "colour and control characters": "\x1b[31m\x01\x1b[0m",
    "a terminal reset": "\x1bc",
    "index, reverse index, next line": "\x1bD\x1bM\x1bE",
    "an announcer with its space": "\x1b F",
    "a single shift": "\x1bN",
    "a string terminator alone": "\x1b\\",
    "8-bit colour": "\x9b31m\x9b0m",
    "an 8-bit title": "\x9d0;t\x9c",
}


@pytest.mark.parametrize("name", sorted(ESCAPES_ONLY))
def test_usru_ask_and_the_repl_refuse_a_question_of_escape_sequences_alike(
    name: str,
    indexed: Folders,
    hashing_service: AnsweringService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """\x1b[31m alone was "empty" but \x1b= "no letters or digits" and \x1bOA answered as the word "OA"."""
    question = ESCAPES_ONLY[name]
    empty = "Please ask a question: the text was empty."
    code, out, err = in_process(indexed, monkeypatch, capsys, "ask", question)
    assert (code, out, err) == (2, "", f"usru: {empty}\n")
    said = io.StringIO()
    run_chat(hashing_service, Console(file=said, width=100, color_system=None), io.StringIO(question + "\n"))
    assert said.getvalue().strip() == empty


def test_the_repl_on_a_terminal_shows_markup_in_questions_as_text(
    hashing_service: AnsweringService, monkeypatch: pytest.MonkeyPatch
) -> None:
    markup = QUESTIONS["Rich markup"][0]
    out = tty_repl(hashing_service, [QUESTION, f"and {markup}", "/quit"], monkeypatch)
    assert f"“{QUOTE}”" in out
    # The follow-up is echoed as "(taken as: …)": its markup is shown as typed, not applied or choked on.
    assert f"and {markup})" in out


# ---------------------------------------------------------------------------- Telegram


def telegram_text(question: str) -> str:
    """What Telegram could deliver: no message is empty or over 4,096 characters."""
    return question[:4096] if question.strip() else "\u2063"


async def test_telegram_replies_to_every_question_with_well_formed_html(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    settings: Settings = service.settings
    chats = {name: 5000 + i for i, name in enumerate(NAMES)}
    async with running_bot(api, service, settings, rate_limit_per_minute=1000):
        for name in NAMES:
            api.send_text(telegram_text(QUESTIONS[name][0]), user_id=chats[name], chat_id=chats[name])
        for name in NAMES:
            await wait_sent(api, chats[name], timeout=15)
    assert api.rejected == [], [r.error for r in api.rejected]
    for name in NAMES:
        replies = api.sent(chats[name])
        assert replies, name
        for m in replies:
            text, entities = parse_html(m.html)  # Telegram's own rules: balanced, known tags, escaped
            assert text == m.text and {e["type"] for e in entities} <= set(ALLOWED_TAGS), name
            assert all(e["href"].startswith("https://") for e in entities if e["type"] == "a"), name
    quotes = {name: [q for m in api.sent(chats[name]) for q in m.blockquotes()] for name in NAMES}
    assert QUOTE in quotes["a whole article sentence"] and QUOTE in quotes["control characters"]
    assert "Only the bot's admins" in api.sent(chats["bot command"])[0].text
    assert "characters or fewer" in api.sent(chats["100k characters"])[0].text
    assert service.stats().articles == 5
    assert not Path(SHELL_MARK).exists() and not os.path.exists(settings.sources / SHELL_MARK)


class _InterruptedAfter(io.StringIO):
    """Standard input that Ctrl-C interrupts once, after the given lines; then its end, as a pipe's reader sees it."""

    interrupted = False

    def readline(self, size: int | None = -1) -> str:
        line = super().readline()
        if not line and not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return line


def test_ctrl_c_stops_a_chat_fed_by_a_pipe(hashing_service: AnsweringService) -> None:
    # At a prompt Ctrl-C only clears the line; fed by a pipe the chat ignored it and read on (a22).
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100, color_system=None)
    with pytest.raises(KeyboardInterrupt):
        run_chat(hashing_service, console, _InterruptedAfter(f"{QUESTION}\n"))
    assert QUOTE in out.getvalue()  # the question before it was answered
