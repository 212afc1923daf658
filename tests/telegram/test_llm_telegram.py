"""LLM mode in Telegram: the draft is streamed into one message, edited at most about once a second."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from retrieval.service import AnsweringService
from tests.answer.test_llm import ScriptedChatModel, sentence_with
from tests.support.telegram import running_bot

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


QUESTION = "Is Russia ready to resume arms control talks?"
LONG_ANSWER = "The articles report on arms control, " + "and they say a good deal more about it " * 8 + "[1]."


class SlowStreamingModel(ScriptedChatModel):
    """The scripted fake model, streaming its reply a word every few milliseconds."""

    delay_s: float = 0.012

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay_s)
            yield chunk


def long_reply(messages: list[BaseMessage]) -> str:
    pid, sentence = sentence_with(messages, "arms")
    return json.dumps({"answer": LONG_ANSWER, "citations": [{"n": 1, "passage_id": pid, "quote": sentence}]})


async def test_a_streamed_answer_is_one_message_edited_at_most_once_a_second(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api = fake_bot_api
    model = SlowStreamingModel(messages=iter([long_reply]))
    service = AnsweringService(
        hashing_service.settings, hashing_service.embedder, hashing_service.index, model
    )
    async with running_bot(api, service, service.settings):
        api.send_text(QUESTION, user_id=21, chat_id=21)
        await api.wait_for(
            lambda: any(m.blockquotes() for m in api.sent(21)), 15.0, "the final answer with its quotes"
        )
    (message,) = api.sent(21)
    assert message.edits >= 2, "the draft was shown and then edited"
    assert LONG_ANSWER.strip() in message.text
    assert len(message.blockquotes()) == 1 and "arms" in message.blockquotes()[0].lower()
    assert message.buttons(), "the final message carries the passage buttons"
    updates = [c.at for c in api.calls("sendMessage") + api.calls("editMessageText")]
    drafts = sorted(updates)[:-1]  # the last edit is the final answer, sent as soon as it is ready
    gaps = [b - a for a, b in itertools.pairwise(drafts)]
    assert gaps and min(gaps) >= 0.9, gaps


async def test_extractive_answers_in_telegram_are_not_streamed(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api = fake_bot_api
    async with running_bot(api, hashing_service, hashing_service.settings):
        api.send_text(QUESTION, user_id=22, chat_id=22)
        await api.wait_for(lambda: api.sent(22), 10.0, "the answer")
    assert api.calls("editMessageText") == []
    assert all(m.edits == 0 for m in api.sent(22))
