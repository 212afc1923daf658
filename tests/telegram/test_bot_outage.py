"""`usru bot` when Telegram cannot be reached: it waits, retries with one log line per failure, and answers
again once the Bot API is back (the fake one here, down for OUTAGE_S at start and again while running)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import InvalidToken, NetworkError

from bench.fakebotapi import FakeBotAPI
from bot.outage import initialize_when_reachable, install_one_line_network_errors
from retrieval.service import AnsweringService
from tests.conftest import REPO

# The drill is 20 s down; USRU_TEST_OUTAGE_S=20 runs it, the default keeps the suite quick.
OUTAGE_S = float(os.environ.get("USRU_TEST_OUTAGE_S", "3"))
QUESTION = "What did Putin say about relations with the United States?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(api: FakeBotAPI, port: int) -> AsyncIterator[None]:
    """Serve this fake Bot API (keeping its state across outages) on a fixed port for the block."""
    api._changed = asyncio.Condition()
    api._closing = False
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", api._handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    api.port = port
    try:
        yield
    finally:
        api._closing = True
        async with api._changed:
            api._changed.notify_all()
        await runner.cleanup()


async def wait(
    predicate: object, proc: asyncio.subprocess.Process, log: Path, timeout: float, what: str
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"the bot {'exited' if proc.returncode is not None else 'stalled'} before {what}:\n{log.read_text()}"
            )
        await asyncio.sleep(0.05)


async def test_the_bot_waits_out_an_outage_at_start_and_while_running(
    hashing_service: AnsweringService, tmp_path: Path
) -> None:
    settings = hashing_service.settings
    api = FakeBotAPI()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "USRU_", "EMBEDDING_"))}
    env.update(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
        TELEGRAM_POLL_TIMEOUT_S="1",
        TELEGRAM_READ_TIMEOUT_S="2",
        TELEGRAM_RETRY_BACKOFF_S="0.2",
        USRU_SOURCES=str(settings.sources),
        USRU_INDEX_DIR=str(settings.index_dir),
        EMBEDDING_MODEL="hashing",
    )
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "bot", cwd=tmp_path, env=env, stdout=out, stderr=out
        )
        try:
            # Down at start: nothing listens on the port.
            failed_once = lambda: "Cannot reach Telegram at start" in log.read_text()  # noqa: E731
            await wait(failed_once, proc, log, 60, "its first attempt")
            await asyncio.sleep(OUTAGE_S)
            assert proc.returncode is None, log.read_text()
            at_start = log.read_text().count("Cannot reach Telegram at start")
            assert at_start >= 2, log.read_text()
            async with serving(api, port):
                await wait(lambda: api.calls("getUpdates"), proc, log, 90, "polling")
                api.send_text(QUESTION, user_id=201)
                await wait(lambda: api.sent(201), proc, log, 30, "the first answer")
            # Down while running.
            await asyncio.sleep(OUTAGE_S)
            assert proc.returncode is None, log.read_text()
            async with serving(api, port):
                api.send_text(QUESTION, user_id=202)
                await wait(lambda: api.sent(202), proc, log, 90, "an answer after the outage")
                proc.send_signal(signal.SIGTERM)
                rc = await asyncio.wait_for(proc.wait(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = log.read_text()
    print(f"outage of {OUTAGE_S:.0f} s twice: exit {rc}; {at_start} start retries; log lines:\n{text}")
    assert rc == 0, text
    assert "Traceback" not in text
    assert "Cannot reach Telegram while polling" in text
    assert len(api.sent(201)) == 1 and len(api.sent(202)) == 1


async def test_start_retries_back_off_and_a_rejected_token_is_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pauses: list[float] = []
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls < 6:
            raise NetworkError("httpx.ConnectError: All connection attempts failed")

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    caplog.set_level(logging.WARNING, "bot.outage")
    assert await initialize_when_reachable(flaky, 1.0, 5.0, sleep) == 5
    assert pauses == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len([r for r in caplog.records if "Cannot reach Telegram" in r.getMessage()]) == 5

    async def rejected() -> None:
        raise InvalidToken("Unauthorized")

    with pytest.raises(InvalidToken):
        await initialize_when_reachable(rejected, 1.0, 5.0, sleep)
    assert len(pauses) == 5


def test_network_errors_are_logged_as_one_line(caplog: pytest.LogCaptureFixture) -> None:
    undo = install_one_line_network_errors()
    try:
        try:
            raise NetworkError("Connection refused")
        except NetworkError as exc:
            logging.getLogger("telegram.ext.Updater").error("Exception happened while polling", exc_info=exc)
        try:
            raise ValueError("a bug")
        except ValueError as exc:
            logging.getLogger("bot").error("Error while handling an update", exc_info=exc)
    finally:
        undo()
    network, bug = caplog.records[-2:]
    assert network.exc_info is None and "NetworkError: Connection refused" in network.getMessage()
    assert bug.exc_info is not None, "other errors keep their tracebacks"
