"""End to end, `usru bot` as a process: token errors, signals, a port in use."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from bot.bot_settings import BotSettings, BotSettingsError
from bot.telegram.app import build_application, run_bot
from bot.telegram.update_gate import OnceApplication
from bot.telegram.webhook import serving_webhook
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.support.telegram import (
    QUESTION,
    answers_in,
    bot_settings,
)

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI


REPO = Path(__file__).resolve().parents[2]


def test_missing_or_malformed_token_exits_2_with_one_sentence(
    seeded: tuple[Settings, AnsweringService], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = seeded
    for token in (None, "", "12345:too-short", "not a token at all, but long enough to look like one"):
        assert run_bot(settings, BotSettings(_env_file=None, bot_token=token)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err
        if token:
            assert token not in err


def _bot_env(api: FakeBotAPI, settings: Settings, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "USRU_", "EMBEDDING_"))}
    env.update(
        PYTHONPATH=str(REPO),
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_POLL_TIMEOUT_S="1",
        USRU_SOURCES=str(settings.sources),
        USRU_INDEX_DIR=str(settings.index_dir),
        EMBEDDING_MODEL="hashing",
    )
    return env


async def alive_until(
    proc: asyncio.subprocess.Process, log_path: Path, predicate: Any, timeout: float, what: str
) -> None:
    """Wait for predicate() while the bot process runs; fail with its log if it exits or stalls."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
            state = f"exited with {proc.returncode}" if proc.returncode is not None else "stalled"
            raise AssertionError(f"the bot {state} before {what}:\n{log_path.read_text()}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_usru_bot_starts_answers_and_stops_cleanly_on_a_signal(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], tmp_path: Path, stop_signal: int
) -> None:
    api, (settings, _) = fake_bot_api, seeded
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "bot",
            cwd=tmp_path,
            env=_bot_env(api, settings, api.token),
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await alive_until(proc, log_path, lambda: api.commands and api.calls("getUpdates"), 30, "polling")
            update = api.send_text(QUESTION)
            await alive_until(proc, log_path, lambda: api.sent(111), 10, "an answer")
            proc.send_signal(stop_signal)
            rc = await asyncio.wait_for(proc.wait(), 15)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    log = log_path.read_text()
    assert rc == 0, log
    assert len(answers_in(api, 111)) == 1
    assert api.confirmed_offset == update["update_id"] + 1, "the offset was committed on shutdown"
    assert api.token not in log and api.token.split(":")[1] not in log
    assert "Traceback" not in log


async def test_usru_bot_with_a_token_telegram_rejects_exits_2(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], tmp_path: Path
) -> None:
    api, (settings, _) = fake_bot_api, seeded
    wrong = "7000001:" + "Z" * 35
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "bot",
        env=_bot_env(api, settings, wrong),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    text = err.decode()
    assert "rejected TELEGRAM_BOT_TOKEN" in text and wrong.split(":")[1] not in text


async def test_a_webhook_port_in_use_is_reported_in_one_sentence(
    fake_bot_api: FakeBotAPI, seeded: tuple[Settings, AnsweringService], unused_tcp_port: int
) -> None:
    api, (settings, service) = fake_bot_api, seeded
    port = unused_tcp_port
    bs = bot_settings(
        api, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_listen="127.0.0.1", webhook_port=port
    )
    app = build_application(service, settings, bs)
    await app.initialize()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(BotSettingsError, match=r"cannot listen on 127\.0\.0\.1:\d+ .*REUSE_PORT=true"):
            async with serving_webhook(cast(OnceApplication, app), bs, "s" * 32, asyncio.Event()):
                pass
    assert api.webhook == {}  # nothing registered with Telegram for a server that never listened
