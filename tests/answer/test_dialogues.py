"""Scripted two- and three-turn dialogues (tests/dialogues/dialogues.yaml) through the REPL and the bot.

Each turn is judged on what the user sees: a new question gets exactly the answer it gets when asked
first, an off-topic one is refused, a follow-up is answered with the earlier subject carried over.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from rich.console import Console

from bot.repl import run_chat
from bot.telegram_format import NOT_FOUND
from retrieval.answer import Answer
from retrieval.prompts import load_prompt
from retrieval.service import AnsweringService, build_service
from retrieval.settings import Settings
from tests.conftest import REPO
from tests.support.telegram import running_bot

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

pytestmark = pytest.mark.model

DIALOGUES: list[list[dict[str, str]]] = yaml.safe_load(
    (REPO / "tests" / "dialogues" / "dialogues.yaml").read_text(encoding="utf-8")
)
AIM = 0.95


@dataclass(frozen=True)
class Seen:
    """What one turn showed the user."""

    rewritten: bool
    refused: bool
    quotes: tuple[str, ...]


@pytest.fixture(scope="module")
def real_service(real_seeds: Settings) -> AnsweringService:
    """The seeds indexed with the real model."""
    return build_service(real_seeds)


@pytest.fixture(scope="module")
def asked_first(real_service: AnsweringService) -> dict[str, Answer]:
    """Every new or first question's answer when it opens a conversation."""
    return {
        t["q"]: real_service.answer(t["q"]) for d in DIALOGUES for t in d if t["kind"] in ("first", "new")
    }


def flat(quote: str) -> str:
    """A quote on one line without the quotation marks around it, as compared between front ends."""
    return " ".join(quote.split()).strip('“”"')


def judge(turn: dict[str, str], seen: Seen, first: dict[str, Answer]) -> bool:
    """Whether the user saw the right thing for this turn."""
    kind = turn["kind"]
    if kind == "off_topic":
        return seen.refused
    if kind == "follow_up":
        return (not seen.refused) and any(turn.get("contains", "") in q for q in seen.quotes)
    expected = first[turn["q"]]
    quotes = tuple(flat(c.quote) for c in expected.citations)
    return not seen.rewritten and seen.refused == (expected.status != "answered") and seen.quotes == quotes


def score(results: list[list[bool]], label: str) -> float:
    """The share of dialogues with every turn right; prints the figures for the report."""
    right = sum(all(r) for r in results)
    print(f"{label}: {right}/{len(results)} dialogues handled right ({right / len(results):.1%})")
    return right / len(results)


def test_the_set_is_big_and_varied_enough() -> None:
    kinds = [t["kind"] for d in DIALOGUES for t in d]
    assert len(DIALOGUES) >= 40
    assert {len(d) for d in DIALOGUES} == {2, 3}
    assert min(kinds.count(k) for k in ("follow_up", "new", "off_topic")) >= 10


# ---------------------------------------------------------------------------- REPL

_LEAD = re.compile(
    "^(?:"
    + "|".join(
        re.escape(load_prompt(name)).replace(r"\{outlets\}", ".*").replace(r"\{count\}", r"\d+")
        for name in ("lead_one.txt", "lead_many.txt", "not_found.txt")
    )
    + ")$"
)
_QUOTE = re.compile(r"^\[\d+\] [“\"](.*)[”\"]$")


def repl_turns(output: str) -> list[Seen]:
    """Split a piped REPL transcript into what each question showed."""
    seen: list[dict[str, Any]] = []
    rewritten = False
    for line in output.splitlines():
        if line.startswith("(taken as: "):
            rewritten = True
        elif _LEAD.match(line):
            refused = line == load_prompt("not_found.txt")
            seen.append({"rewritten": rewritten, "refused": refused, "quotes": []})
            rewritten = False
        elif (m := _QUOTE.match(line)) and seen:
            seen[-1]["quotes"].append(flat(m.group(1)))
    return [Seen(s["rewritten"], s["refused"], tuple(s["quotes"])) for s in seen]


def test_dialogues_through_the_repl(real_service: AnsweringService, asked_first: dict[str, Answer]) -> None:
    results = []
    off_topic_refused = []
    for dialogue in DIALOGUES:
        out = io.StringIO()
        stdin = io.StringIO("".join(t["q"] + "\n" for t in dialogue))
        assert run_chat(real_service, Console(file=out, width=100_000), stdin) == 0
        seen = repl_turns(out.getvalue())
        assert len(seen) == len(dialogue), out.getvalue()
        results.append([judge(t, s, asked_first) for t, s in zip(dialogue, seen, strict=True)])
        off_topic_refused += [
            s.refused for t, s in zip(dialogue, seen, strict=True) if t["kind"] == "off_topic"
        ]
        for t, s in zip(dialogue, seen, strict=True):
            if t["kind"] == "follow_up":
                assert s.rewritten, f"the rewrite of {t['q']!r} is not shown"
    assert all(off_topic_refused)
    assert score(results, "REPL") >= AIM


# ---------------------------------------------------------------------------- Telegram


def bot_turn(api: FakeBotAPI, chat_id: int, before: int) -> Seen:
    """What the bot's newest reply in a chat showed."""
    reply = api.sent(chat_id)[before:]
    text = " ".join(m.text for m in reply)
    quotes = tuple(flat(q) for m in reply for q in m.blockquotes())
    return Seen(False, NOT_FOUND in text, quotes)


async def test_dialogues_through_the_bot(
    fake_bot_api: FakeBotAPI, real_service: AnsweringService, asked_first: dict[str, Answer]
) -> None:
    api, settings = fake_bot_api, real_service.settings
    results: list[list[bool]] = []
    off_topic_refused = []
    async with running_bot(api, real_service, settings, rate_limit_per_minute=100):

        async def run(n: int, dialogue: list[dict[str, str]]) -> list[bool]:
            chat = 5000 + n
            marks = []
            for turn in dialogue:
                before = len(api.sent(chat))
                api.send_text(turn["q"], user_id=chat, chat_id=chat)
                await api.wait_for(lambda b=before: len(api.sent(chat)) > b, 30.0, f"a reply in {chat}")
                await asyncio.sleep(0.05)  # a long answer may come in more than one message
                seen = bot_turn(api, chat, before)
                if turn["kind"] == "off_topic":
                    off_topic_refused.append(seen.refused)
                marks.append(
                    judge(turn, seen, asked_first)
                    if turn["kind"] != "new"
                    else _same(turn, seen, asked_first)
                )
            return marks

        results = list(await asyncio.gather(*(run(n, d) for n, d in enumerate(DIALOGUES))))
    assert all(off_topic_refused)
    assert score(results, "Telegram bot") >= AIM


def _same(turn: dict[str, str], seen: Seen, first: dict[str, Answer]) -> bool:
    """A new question in the bot: the same quotes as when asked first (the bot shows no rewrite)."""
    return judge(turn, Seen(False, seen.refused, seen.quotes), first)
