"""Article text never drives the terminal (issue 16.2, 16.3): escapes, bidi and markup are shown as text.

Hostile titles, publishers, bodies and file names (escape and OSC sequences, OSC 8 links, C1 controls,
bidi overrides, zero-width and tag characters, rich markup, emoji codes, and mixes of them) go through
the renderers on a rich Console writing to a StringIO, through the REPL, and through the real `usru`
executable piped. Human output holds no raw unsafe character and shows the markup as typed; JSON output
holds the article text exactly.
"""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pytest
from rich.console import Console

from bot.render import print_answer, print_sources, print_summary
from bot.repl import run_chat
from retrieval.answer import Answer, Citation
from retrieval.citations import display_quote, render_answer
from retrieval.index import ArticleInfo, IndexSummary
from retrieval.service import AnsweringService, build_service
from retrieval.textsafety import UNSAFE, escape_unsafe, one_line
from tests.conftest import hashing_settings_for
from tests.support.cli import Folders, usru

ATOMS = [
    "\x1b[2J",
    "\x1b[H\x1b[3J",
    "\x1b]0;pwned title\x07",
    "\x1b]2;pwned\x1b\\",
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
    "\x1b[8mhidden text\x1b[0m",
    "\x1b[31;1mred\x1b[0m",
    "\x1bP+q544e\x1b\\",
    "\x9b2J",
    "\x9d0;c1 title\x9c",
    "\x07",
    "\x08\x08\x08",
    "\r",
    "\x7f",
    "\x0b\x0c",
    "\u202e",
    "\u202dLTR\u202c",
    "\u2066isolate\u2069",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u2060",
    "\ufeff",
    "\U000e0069\U000e0067\U000e006e",
    "\u2028",
    "\x85",
    "[/bold]",
    "[/]",
    "[bold red]styled[/]",
    "[link=https://evil.example]a link[/link]",
    "[link]",
    ":thumbs_up:",
    ":smiley:",
    ":red_heart:",
    "\\[bold]",
    "[",
    "]8;;",
]
WORDS = [
    "Russia",
    "talks",
    "Moscow",
    "Washington",
    "arms",
    "control",
    "Lavrov",
    "said",
    "treaty",
    "sanctions",
]
EMOJI = ("👍", "😃", "❤")
# Everything the rule covers except the line break that human output's layout keeps.
RAW = re.compile(f"(?![\n])[{UNSAFE}]")


def hostile(rng: random.Random) -> str:
    """A random mix of hostile atoms and words."""
    parts = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
    for _ in range(rng.randint(1, 4)):
        parts.insert(rng.randint(0, len(parts)), rng.choice(ATOMS))
    return " ".join(parts) if rng.random() < 0.7 else "".join(parts)


def hostile_strings(n: int, seed: int = 16) -> list[str]:
    rng = random.Random(seed)
    return list(ATOMS) + [hostile(rng) for _ in range(n - len(ATOMS))]


def assert_clean(output: str, tabs: bool = False) -> None:
    """No raw unsafe character (only the layout's line breaks, and tabs where promised) and no emoji."""
    allowed = output.replace("\t", "") if tabs else output
    m = RAW.search(allowed)
    assert m is None, (
        f"raw {m.group(0)!r} reached the output near {allowed[max(0, m.start() - 40) : m.end() + 40]!r}"
    )
    for emoji in EMOJI:
        assert emoji not in output, "an emoji code was turned into an emoji"


def consoles() -> list[tuple[Console, io.StringIO]]:
    """A terminal (no colour, so any escape would be the article's) and a pipe, both very wide."""
    out = []
    for terminal in (True, False):
        buffer = io.StringIO()
        out.append((Console(file=buffer, force_terminal=terminal, width=10_000, color_system=None), buffer))
    return out


def test_the_generator_makes_enough_hostile_strings() -> None:
    strings = hostile_strings(240)
    assert len(set(strings)) >= 200
    assert sum("\x1b" in s for s in strings) > 40 and sum("[" in s for s in strings) > 40


@pytest.mark.parametrize("seed", range(4))
def test_renderers_show_hostile_article_text_as_escaped_text(seed: int) -> None:
    strings = hostile_strings(240, seed)
    rng = random.Random(seed)
    citations = []
    for n, quote in enumerate(strings[:60], start=1):
        source = f"{n}{rng.choice(strings)}.txt".replace("/", "_")
        citations.append(
            Citation(
                n, source, rng.choice(strings), rng.choice(strings), rng.choice(strings), quote, 0, len(quote)
            )
        )
    articles = [
        ArticleInfo(
            f"{i}{s}.txt".replace("/", "_"),
            rng.choice(strings),
            rng.choice(strings),
            rng.choice(strings),
            None,
            1,
            "h",
            (rng.choice(strings),),
        )
        for i, s in enumerate(strings)
    ]
    summary = IndexSummary(
        version="v1",
        articles=1,
        chunks=1,
        sentences=1,
        seconds=0.1,
        new=[],
        changed=[],
        removed=[],
        skipped=[(s, rng.choice(strings)) for s in strings[:50]],
        duplicates=[(s, rng.choice(strings)) for s in strings[50:80]],
        embedded_articles=1,
        reused_articles=0,
    )
    for start in range(0, len(citations), 4):
        group = citations[start : start + 4]
        lead, text = render_answer(group, [])
        answer = Answer("q", "answered", lead, text, tuple(group), "extractive", {})
        for console, buffer in consoles():
            print_answer(console, answer)
            output = buffer.getvalue()
            assert_clean(output)
            for c in group:
                assert one_line(display_quote(c.quote)) in output, "the quote is not shown as written"
    for console, buffer in consoles():
        print_sources(console, articles)
        print_summary(console, summary)
        output = buffer.getvalue()
        assert_clean(output, tabs=not console.is_terminal)
        for a in articles:
            assert " ".join(one_line(a.title or "").split()) in output
            assert one_line(a.source) in output
        for name, reason in summary.skipped:
            assert f"  {one_line(name)}: {one_line(reason)}" in output


# ---------------------------------------------------------------------------- a hostile corpus


FILES = 60


def yaml_string(value: str) -> str:
    """A YAML double-quoted scalar holding exactly value (YAML refuses most controls written raw)."""
    return "".join(
        f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch == "\u2028" else ch
        for ch in json.dumps(value, ensure_ascii=False)
    ).replace("\\u005c", "\\\\")


def write_hostile_corpus(root: Path) -> Path:
    rng = random.Random(1616)
    sources = root / "sources"
    sources.mkdir(parents=True)
    for i in range(FILES):
        # File names take any character but "/" and NUL: escapes and markup included.
        name = f"{i:02d} {hostile(rng)}"[:80].replace("/", "_").replace("\x00", "") + ".txt"
        if i == 0:
            name = "[/]x.txt"  # a file "]x.txt" in a folder "[": its source reads as a closing tag
            (sources / "[").mkdir()
        title = "[/bold] a title" if i == 0 else hostile(rng)
        body = (
            f"{hostile(rng)} The codeword{i} negotiators from Russia and the United States met in Geneva "
            f"to discuss arms control {hostile(rng)} and sanctions. {hostile(rng)} They said the codeword{i} "
            f"talks on strategic stability would continue next month in Vienna {hostile(rng)}.\n\n"
            f"Officials described the codeword{i} meeting {hostile(rng)} as frank and useful for both sides."
        )
        front = f"---\ntitle: {yaml_string(title)}\npublisher: {yaml_string(hostile(rng))}\ndate: 2024-03-0{1 + i % 9}\n---\n"
        (sources / name).write_text(front + body + "\n", encoding="utf-8", newline="")
    return sources


@pytest.fixture(scope="module")
def hostile_folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    root = tmp_path_factory.mktemp("hostile_terminal")
    folders = Folders(root, write_hostile_corpus(root), root / "idx")
    result = usru(folders, "index")
    assert result.returncode == 0, result.stderr
    assert_clean(result.stdout + result.stderr)
    return folders


@pytest.fixture(scope="module")
def hostile_service(hostile_folders: Folders) -> AnsweringService:
    settings = hashing_settings_for(hostile_folders.sources, hostile_folders.index_dir)
    return build_service(settings.model_copy(update={"min_relevance": 0.05}))


def questions() -> list[str]:
    return [f"What happened at the codeword{i} talks on arms control?" for i in range(FILES)]


def lenient(folders: Folders) -> dict[str, str]:
    """Quote whatever matches best: the hashing embedder's scores on this odd text are low."""
    return folders.env() | {"USRU_MIN_RELEVANCE": "0.05"}


def file_text(folders: Folders, source: str) -> str:
    return (folders.sources / source).read_bytes().decode("utf-8")


def test_the_real_usru_prints_hostile_articles_as_escaped_text_and_json_exactly(
    hostile_folders: Folders, hostile_service: AnsweringService
) -> None:
    stdin = "".join(q + "\n" for q in questions())
    as_json = usru(hostile_folders, "ask", "--json", stdin=stdin, env=lenient(hostile_folders))
    assert as_json.returncode == 0, as_json.stderr
    # JSON Lines end at "\n" only; U+2028 and U+0085 inside a string are the article's text.
    replies = [json.loads(line) for line in as_json.stdout.split("\n") if line]
    assert len(replies) == FILES
    quotes = []
    assert sum(r["status"] == "answered" for r in replies) == FILES
    for reply in replies:
        for c in reply["citations"]:
            assert c["quote"] == file_text(hostile_folders, c["source"])[c["start"] : c["end"]]
            quotes.append(c["quote"])
    assert sum("\x1b" in q for q in quotes) > 10, "JSON keeps the article's escapes exactly"
    assert sum("[" in q for q in quotes) > 10 and sum(":thumbs_up:" in q for q in quotes) > 0

    as_text = usru(hostile_folders, "ask", stdin=stdin, env=lenient(hostile_folders))
    assert as_text.returncode == 0, as_text.stderr
    assert_clean(as_text.stdout + as_text.stderr)
    for q in quotes:
        assert one_line(display_quote(q)) in as_text.stdout

    chat = usru(hostile_folders, "chat", stdin=stdin + "/sources\n", env=lenient(hostile_folders))
    assert chat.returncode == 0 and "Traceback" not in chat.stderr, chat.stderr
    assert_clean(chat.stdout + chat.stderr, tabs=True)
    for q in quotes:
        assert one_line(display_quote(q)) in chat.stdout

    listing = usru(hostile_folders, "sources")
    assert listing.returncode == 0, listing.stderr
    assert_clean(listing.stdout + listing.stderr, tabs=True)
    articles = hostile_service.list_articles()
    assert len(articles) == FILES
    for a in articles:
        assert one_line(a.source) in listing.stdout
        assert " ".join(one_line(a.title or "-").split()) in listing.stdout
    assert "[/]x.txt" in listing.stdout and "[/bold] a title" in listing.stdout


@pytest.mark.parametrize("terminal", [True, False])
def test_the_repl_lists_and_quotes_hostile_articles_without_crashing(
    hostile_service: AnsweringService, terminal: bool
) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=10_000, color_system=None)
    stdin = io.StringIO("/sources\n" + "".join(q + "\n" for q in questions()[:20]) + "/quit\n")
    assert run_chat(hostile_service, console, stdin) == 0
    output = buffer.getvalue()
    assert_clean(output, tabs=True)
    assert "[/]x.txt" in output and "[/bold] a title" in output
    assert output.count("codeword") >= 20


def test_escape_unsafe_keeps_only_what_the_layout_needs() -> None:
    assert escape_unsafe("a\x1b[2Jb\u202ec\nd\te", keep="\n") == "a\\x1b[2Jb\\u202ec\nd\\te"
    assert one_line("x\ny\u200bz\U000e0041") == "x\\ny\\u200bz\\U000e0041"
    assert one_line("Переговоры 会谈 é 👍 e\u0301") == "Переговоры 会谈 é 👍 e\u0301", (
        "real text is untouched"
    )
