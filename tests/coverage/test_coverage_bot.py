"""/compare and /timeline end to end: the real PTB Application against the fake Bot API (sendPhoto)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PIL import Image

from bot.telegram.coverage import COMPARE_USAGE, MAX_CAPTION
from retrieval import api as core
from retrieval.service import AnsweringService
from tests.support.telegram import running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

CHAT = 111


async def test_compare_sends_each_leanings_quotes(
    fake_bot_api: FakeBotAPI, slice_service: AnsweringService
) -> None:
    api, service = fake_bot_api, slice_service
    question = "What did Trump and Putin say at the Helsinki summit?"
    async with running_bot(api, service, service.settings):
        api.send_text(f"/compare {question}")
        await wait_sent(api, CHAT, 1, timeout=30)
        api.send_text("/compare")
        await wait_sent(api, CHAT, len(api.sent(CHAT)) + 1, timeout=10)
    *replies, usage = api.sent(CHAT)
    text = "\n".join(m.text for m in replies)
    comparison = core.compare_leanings(service, question)
    for g in comparison.groups:
        assert f"{g.leaning.capitalize()} ({g.articles} articles)" in text
    quotes = [q for m in replies for q in m.blockquotes()]
    assert quotes == [c.quote for g in comparison.groups for c in g.citations]
    assert "/compare" in usage.html and usage.html == COMPARE_USAGE


async def test_timeline_sends_the_chart_as_a_photo_then_the_peak_quotes(
    fake_bot_api: FakeBotAPI, slice_service: AnsweringService
) -> None:
    api, service = fake_bot_api, slice_service
    async with running_bot(api, service, service.settings):
        api.send_text("/timeline Helsinki summit")
        await api.wait_for(lambda: api.photos and api.sent(CHAT), 30, "the chart and the peak quotes")
    timeline = core.topic_timeline(service, "Helsinki summit")
    (photo,) = api.photos
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "PNG" and image.width >= 600
    assert len(photo.caption) <= MAX_CAPTION and "Helsinki summit" in photo.caption
    assert f"{timeline.total} (" in photo.caption
    quotes = [q for m in api.sent(CHAT) for q in m.blockquotes()]
    assert quotes == [p.citation.quote for p in timeline.peaks if p.citation]
    assert api.calls("sendPhoto")[0].params["chat_id"] == str(CHAT)
