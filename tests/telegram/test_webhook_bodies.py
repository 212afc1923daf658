"""Webhook requests with the right secret but a body that is no update: 400, no error logged, the bot goes on."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, cast

import aiohttp
import pytest

from bot.telegram.app import build_application
from bot.telegram.update_gate import OnceApplication
from bot.telegram.webhook import serving_webhook, webhook_secret
from retrieval.service import AnsweringService
from tests.support.telegram import answers_in, bot_settings, message_update

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI

QUESTION = "Is Russia ready to resume arms control talks?"


@pytest.mark.parametrize(
    "body",
    [
        "null",
        "[1, 2]",
        '"text"',
        '{"update_id": "abc"}',
        '{"update_id": 1.5}',
        # Telegram's ids are positive and far below 2**63; these broke the claims' bigint done-mark.
        '{"update_id": 9223372036854775808}',
        '{"update_id": 100000000000000000000000000000}',
        '{"update_id": -1}',
    ],
)
async def test_a_body_that_is_not_an_update_is_refused_with_400(
    fake_bot_api: FakeBotAPI,
    hashing_service: AnsweringService,
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
    body: str,
) -> None:
    api, port = fake_bot_api, unused_tcp_port
    bs = bot_settings(
        api, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_listen="127.0.0.1", webhook_port=port
    )
    app = build_application(hashing_service, hashing_service.settings, bs)
    secret = webhook_secret(bs)
    update = message_update(api, 7, QUESTION)
    await app.initialize()
    url, headers = f"http://127.0.0.1:{port}/hook", {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        serving_webhook(cast(OnceApplication, app), bs, secret, asyncio.Event()),
        aiohttp.ClientSession() as http,
    ):
        bad = await http.post(url, data=body, headers=headers | {"Content-Type": "application/json"})
        assert bad.status == 400
        good = await http.post(url, data=json.dumps(update), headers=headers)
        assert good.status == 200
        assert len(answers_in(api, 111)) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_body_far_larger_than_any_update_is_not_read(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, unused_tcp_port: int
) -> None:
    api, port = fake_bot_api, unused_tcp_port
    bs = bot_settings(
        api, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_listen="127.0.0.1", webhook_port=port
    )
    app = build_application(hashing_service, hashing_service.settings, bs)
    secret = webhook_secret(bs)
    url = f"http://127.0.0.1:{port}/hook"
    await app.initialize()
    async with (
        serving_webhook(cast(OnceApplication, app), bs, secret, asyncio.Event()),
        aiohttp.ClientSession() as http,
    ):
        # Anyone can send this (the secret is checked only once the body is read): 20 MB, where an update
        # is a few KB, was buffered whole in the worker's memory, 100 MB per request by tornado's default.
        try:
            async with http.post(
                url, data=b" " * (20 * 1024 * 1024), headers={"Content-Type": "application/json"}
            ) as r:
                status = r.status
        except aiohttp.ClientError:
            status = None  # the server closed the connection without reading the body: refused too
        assert status is None or status in (400, 413), status
        update = message_update(api, 8, QUESTION)
        good = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert good.status == 200
