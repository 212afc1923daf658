"""More quotes never repeats a sentence the answer shows: a dropped wire copy is no runner-up (fifth session's attack)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.lexical import tokenize
from retrieval.quote_policy import RESTATES, _overlap
from retrieval.service import build_service
from retrieval.settings import Settings
from tests.support.telegram import running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

SENTENCE = (
    "Russian President Vladimir Putin said on Sunday that 755 U.S. diplomatic staff must leave Russia, "
    "in response to new sanctions passed by Congress."
)
QUESTION = "How many US diplomatic staff did Putin say must leave Russia?"


def _hashing_settings(tmp_path: Path, sources: Path) -> Settings:
    """Settings over the folder with the hashing embedder, every passage relevant."""
    return Settings(
        _env_file=None,
        sources=sources,
        index_dir=tmp_path / "idx",
        embedding_model="hashing",
        min_relevance=0.0,
    )


async def test_more_quotes_adds_no_sentence_already_shown(fake_bot_api: FakeBotAPI, tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    for outlet in ("Fox News", "CNN (Web News)", "Associated Press"):
        (sources / f"{outlet.split()[0]}.md").write_text(
            f"---\ntitle: Russia expels US diplomats\npublisher: {outlet}\ndate: '2017-07-30'\n---\n"
            f"MOSCOW (AP) - {SENTENCE}\n\nThe move was the harshest since the Cold War, analysts said.\n\n"
            f"Story continues from {outlet} with its own commentary on the weather in Moscow today.\n",
            encoding="utf-8",
        )
    settings = _hashing_settings(tmp_path, sources)
    service = build_service(settings)
    expected = service.answer(QUESTION)
    assert expected.citations
    shown_quotes = {c.quote for c in expected.citations}
    assert not [m for m in expected.more if m.quote in shown_quotes], "a runner-up repeats a shown quote"
    async with running_bot(fake_bot_api, service, settings):
        fake_bot_api.send_text(QUESTION)
        (reply,) = await wait_sent(fake_bot_api, 111)
        more = [b for b in reply.buttons() if b["callback_data"].startswith("more:")]
        if not more:
            return
        fake_bot_api.press(reply, more[0]["callback_data"])
        (_, more_msg) = await wait_sent(fake_bot_api, 111, 2)
    shown = set(reply.blockquotes())
    repeated = [q for q in shown if any(q in m for m in more_msg.blockquotes())]
    assert not repeated, "More quotes repeats a sentence the answer already shows"


COPIES = (
    "Russian President Vladimir Putin said on Sunday that 755 U.S. diplomatic staff must leave Russia, in response "
    "to new sanctions passed by Congress.",
    "Putin said on Sunday 755 U.S. diplomatic staff must leave Russia in response to sanctions approved by the U.S. "
    "Congress.",
    "Vladimir Putin said 755 U.S. diplomatic staff would have to leave Russia, a response to the new U.S. sanctions.",
    "President Putin said on Sunday that 755 American diplomatic staff must leave Russia after Congress passed new "
    "sanctions.",
    "Putin said that 755 U.S. diplomatic and technical staff must leave Russia in response to the sanctions bill.",
    "Russia's Putin said 755 U.S. diplomatic staff must leave the country over new sanctions passed by Congress.",
)


def test_no_runner_up_restates_a_shown_quote(tmp_path: Path) -> None:
    # The fifth session's second attack (a15): six outlets' rewordings of one AP sentence; runners-up past the
    # answer's quotes were not checked against it, so More quotes showed more copies.
    sources = tmp_path / "sources"
    sources.mkdir()
    for i, sentence in enumerate(COPIES):
        (sources / f"o{i}.md").write_text(
            f"---\ntitle: Russia cuts US diplomats {i}\npublisher: Outlet{i}\ndate: '2017-07-{10 + i}'\n---\n"
            f"{sentence}\n\nThe Kremlin said the U.S. embassy in Moscow would have to cut its diplomatic staff to "
            f"455 people, number {i}.\n\nAnalysts in story {i} said relations were at their lowest since the Cold War.\n",
            encoding="utf-8",
        )
    settings = _hashing_settings(tmp_path, sources)
    answer = build_service(settings).answer(QUESTION)
    shown = [frozenset(tokenize(c.quote)) for c in answer.citations]
    assert shown
    copies = [
        m.quote
        for m in answer.more
        if any(_overlap(frozenset(tokenize(m.quote)), s) >= RESTATES for s in shown)
    ]
    assert not copies, copies
