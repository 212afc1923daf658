"""Running the real bot against the fake Bot API (bench/fakebotapi/)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from bench.fakebotapi import started_application
from bot.bot_settings import BotSettings
from bot.telegram.state import BotApp
from retrieval.settings import Settings

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI, SentMessage

QUESTION = "What did Putin say about relations with the United States?"
OFF_TOPIC = "What is the recipe for borscht soup?"
GROUP = -100500


def bot_settings(api: FakeBotAPI, **overrides: Any) -> BotSettings:
    """Settings pointing at the fake server, with short timeouts so faults are quick to survive."""
    values: dict[str, Any] = {
        "bot_token": api.token,
        "api_base_url": api.base_url,
        "poll_timeout_s": 1,
        "read_timeout_s": 3.0,
        "retry_backoff_s": 0.05,
        "chat_messages_per_second": 50.0,
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotAPI, service: Any, settings: Settings, **overrides: Any
) -> AsyncIterator[BotApp]:
    """Start the application the way run_polling does, and stop it the same way."""
    async with started_application(service, settings, bot_settings(api, **overrides)) as app:
        yield app


def answers_in(api: FakeBotAPI, chat_id: int) -> list[SentMessage]:
    """Messages in a chat that carry quotes."""
    return [m for m in api.sent(chat_id) if m.blockquotes()]


async def wait_sent(api: FakeBotAPI, chat_id: int, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:
    """Wait until at least `count` messages reached a chat."""
    result: list[SentMessage] = await api.wait_for(
        lambda: len(api.sent(chat_id)) >= count and api.sent(chat_id),
        timeout,
        f"{count} messages in {chat_id}",
    )
    return result


async def press_context_and_more(
    api: FakeBotAPI, reply: SentMessage
) -> tuple[str, SentMessage, str, SentMessage]:
    """Press an answer's context button, then its more button: each query id and the message it sent."""
    ctx = next(b for b in reply.buttons() if b["callback_data"].startswith("ctx:"))
    context_query = api.press(reply, ctx["callback_data"])
    (_, context_msg) = await wait_sent(api, reply.chat_id, 2)
    more = next(b for b in reply.buttons() if b["callback_data"].startswith("more:"))
    more_query = api.press(reply, more["callback_data"])
    (_, _, more_msg) = await wait_sent(api, reply.chat_id, 3)
    return context_query, context_msg, more_query, more_msg


def message_update(
    api: FakeBotAPI, update_id: int, text: str = QUESTION, chat_id: int = 111
) -> dict[str, Any]:
    """A Telegram update holding one private text message, to post to a webhook as Telegram would."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": api.chat(chat_id),
            "from": api.user(chat_id),
            "text": text,
        },
    }
