"""Hardening (issue 7): the Bot API misbehaving in every way the fake server can script.

Each fault hits one call of one method (bench/fakebotapi/ `plan`); the bot must recover and answer
every question exactly once, and a restart with updates still pending must lose none and repeat none.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from bench.fakebotapi import Fault
from retrieval.service import AnsweringService
from tests.support.telegram import QUESTION, answers_in, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


# Short enough that a held response outlasts it quickly; the fakes answer in milliseconds otherwise.
READ_TIMEOUT_S = 0.6
HANG_S = READ_TIMEOUT_S * 2.5

FAULTS = {
    "429 retry_after": [Fault.http(429, retry_after=1)],
    "5xx burst": [Fault.http(502), Fault.http(503), Fault.http(500)],
    "timeout": [Fault.hang(HANG_S)],
    "connection reset": [Fault.connection_reset()],
    "malformed JSON": [Fault.malformed_json()],
    "all of them in a row": [
        Fault.connection_reset(),
        Fault.malformed_json(),
        Fault.http(500),
    ],
}


def planned(faults: list[Fault]) -> dict[int, Fault]:
    """Faults on consecutive calls, starting with the next one."""
    return dict(enumerate(faults, start=1))


def good_polls(api: FakeBotAPI) -> int:
    """getUpdates calls the fake server answered."""
    return sum(r.status == 200 for r in api.calls("getUpdates"))


async def settle(api: FakeBotAPI) -> None:
    """Give a duplicate reply, if the bot were to send one, the time to arrive."""
    polls = good_polls(api)
    await api.wait_for(lambda: good_polls(api) >= polls + 2, timeout=15, what="two more answered polls")


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_faulty_send_is_retried_and_the_question_answered_once(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, name: str
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings, read_timeout_s=READ_TIMEOUT_S):
        api.plan("sendMessage", planned(FAULTS[name]))
        api.send_text(QUESTION, user_id=21, chat_id=21)
        await wait_sent(api, 21, timeout=15)
        await settle(api)
    assert api.planned_left() == [], "every scripted fault was hit"
    assert len(api.sent(21)) == 1 and len(answers_in(api, 21)) == 1
    assert api.rejected == []


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_faulty_poll_loses_no_update_and_repeats_none(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, name: str
) -> None:
    api, service = fake_bot_api, hashing_service
    # getUpdates is retried by PTB's polling loop for ever, with its own backoff (1 s, 1.5 s, ...).
    faults = FAULTS[name]
    async with running_bot(api, service, service.settings, read_timeout_s=READ_TIMEOUT_S):
        await api.wait_for(lambda: api.call_count("getUpdates") >= 1, what="polling")
        api.plan("getUpdates", planned(faults))
        first = api.send_text(QUESTION, user_id=22, chat_id=22)
        second = api.send_text("Is Russia ready for dialogue with Washington?", user_id=23, chat_id=23)
        await wait_sent(api, 22, timeout=20)
        await wait_sent(api, 23, timeout=20)
        await settle(api)
    assert api.planned_left() == []
    assert len(api.sent(22)) == 1 and len(api.sent(23)) == 1
    assert len(answers_in(api, 22)) == 1 and len(answers_in(api, 23)) == 1
    assert api.confirmed_offset == max(first["update_id"], second["update_id"]) + 1


async def test_typing_and_button_answers_that_fail_do_not_cost_the_answer(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings, read_timeout_s=READ_TIMEOUT_S):
        api.plan("sendChatAction", planned([Fault.connection_reset(), Fault.malformed_json()] * 3))
        api.send_text(QUESTION, user_id=24, chat_id=24)
        (reply,) = await wait_sent(api, 24, timeout=15)
        api.plan("answerCallbackQuery", planned([Fault.malformed_json(), Fault.connection_reset()]))
        query = api.press(reply, reply.buttons()[0]["callback_data"], user_id=24)
        await wait_sent(api, 24, 2, timeout=15)
        await settle(api)
    answer, passage = api.sent(24)
    assert answer is reply and passage.reply_to_message_id == reply.message_id
    assert [r.status for r in api.callback_answers(query)] == [200, 0, 200]
    assert api.rejected == []


async def test_a_failed_confirmation_on_stop_does_not_repeat_answers_after_a_restart(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings):
        await api.wait_for(lambda: api.call_count("getUpdates") >= 1, what="the first long poll")
        # The long poll in flight delivers the question; the poll that would confirm it fails, and so
        # do the one PTB makes on stop to confirm it and the first of the bot's own retries.
        api.plan("getUpdates", planned([Fault.http(502), Fault.connection_reset(), Fault.malformed_json()]))
        update = api.send_text(QUESTION, user_id=25, chat_id=25)
        await wait_sent(api, 25)
    cleanup = [r for r in api.calls("getUpdates") if str(r.params.get("timeout")) == "0"]
    assert cleanup and cleanup[0].status != 200, "PTB's own confirmation on stop failed"
    assert api.confirmed_offset == update["update_id"] + 1
    async with running_bot(api, service, service.settings):
        await settle(api)
    assert len(api.sent(25)) == 1


USERS = 16


async def test_a_restart_mid_stream_answers_every_pending_update_exactly_once(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    # Two updates per poll, each poll slowed: when the first bot stops, most updates have not even been
    # delivered. Without the delay a fast machine fetched all of them before the third answer was out.
    api.batch_limit = 2
    api.delay_next("getUpdates", 0.3, times=USERS)
    questions = [QUESTION, "Is Russia ready for dialogue with Washington?"]
    updates = [
        api.send_text(questions[u % len(questions)], user_id=300 + u, chat_id=300 + u) for u in range(USERS)
    ]
    async with running_bot(api, service, service.settings):
        await api.wait_for(lambda: len(api.sent()) >= 3, timeout=15, what="the first answers")
    answered_by_first = len(api.sent())
    assert 0 < answered_by_first < USERS, "the bot stopped mid-stream"
    assert api.pending_updates(), "updates were still waiting when it stopped"
    async with running_bot(api, service, service.settings):
        await api.wait_for(lambda: len(api.sent()) >= USERS, timeout=30, what="every answer")
        await settle(api)
    for u in range(USERS):
        assert len(api.sent(300 + u)) == 1 and len(answers_in(api, 300 + u)) == 1, f"user {u}"
    assert api.pending_updates() == []
    assert api.confirmed_offset == updates[-1]["update_id"] + 1


async def test_a_restart_while_telegram_misbehaves_still_answers_each_update_once(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    api.batch_limit = 3
    updates = [api.send_text(QUESTION, user_id=400 + u, chat_id=400 + u) for u in range(9)]
    # The first bot's sends fail in every way, and so does the poll that confirms its offset on stop.
    api.plan(
        "sendMessage",
        planned([Fault.connection_reset(), Fault.http(502), Fault.malformed_json(), Fault.hang(HANG_S)]),
    )
    async with running_bot(api, service, service.settings, read_timeout_s=READ_TIMEOUT_S):
        await api.wait_for(lambda: len(api.sent()) >= 2, timeout=20, what="the first answers")
        api.plan("getUpdates", planned([Fault.http(500), Fault.connection_reset()]))
    async with running_bot(api, service, service.settings, read_timeout_s=READ_TIMEOUT_S):
        await api.wait_for(lambda: len(api.sent()) >= len(updates), timeout=30, what="every answer")
        await settle(api)
    assert [len(api.sent(400 + u)) for u in range(9)] == [1] * 9
    assert api.pending_updates() == []


async def test_the_fake_servers_faults_are_real_http_failures(fake_bot_api: FakeBotAPI) -> None:
    """The scripted faults reach an HTTP client as resets, garbage and timeouts, not as clean errors."""
    import httpx

    api = fake_bot_api
    url = f"{api.base_url}{api.token}/getMe"
    api.plan("getMe", {1: Fault.connection_reset(), 2: Fault.malformed_json(), 3: Fault.hang(1.0)})
    async with httpx.AsyncClient() as http:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await http.post(url)
        garbled = await http.post(url)
        assert garbled.status_code == 200
        with pytest.raises(ValueError):
            garbled.json()
        with pytest.raises(httpx.ReadTimeout):
            await http.post(url, timeout=0.2)
        ok = await http.post(url)
    assert ok.json()["ok"] is True
    await asyncio.sleep(0)
