"""Hardening (issue 7): security. Nothing is unpickled, the token never reaches a log or a chat, the
allowlist and admin checks hold for every kind of update, and callback data is treated as hostile.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from bench.fakebotapi import Fault
from bot.bot_settings import BotSettings
from bot.telegram.logs import configure_logging
from bot.telegram.replies import REFUSAL, STALE, UNKNOWN_BUTTON, WENT_WRONG
from retrieval.index import IndexSummary
from retrieval.service import AnsweringService, build_service
from tests.conftest import REPO, copy_seeds, hashing_settings_for
from tests.hardening.test_hardening_faults import settle
from tests.support.telegram import GROUP, QUESTION, answers_in, running_bot, wait_sent

if TYPE_CHECKING:
    from bench.fakebotapi import FakeBotAPI, SentMessage
    from retrieval.index import IndexSummary


# ----- (a) nothing is ever unpickled ----------------------------------------------------------------

# Ways code can turn bytes into live objects: pickle and the libraries and options built on it.
UNSAFE_LOADING = re.compile(
    r"\bimport\s+(c?pickle|dill|cloudpickle|joblib|shelve|marshal)\b"
    r"|\bfrom\s+(c?pickle|dill|cloudpickle|joblib|shelve|marshal)\b"
    r"|\b(c?pickle|dill|cloudpickle|joblib|marshal)\.(loads?|Unpickler)\b"
    r"|allow_pickle\s*=\s*True"
    r"|allow_dangerous_deserialization"
    r"|\btorch\.load\b"
    r"|^(?!.*SafeLoader).*\byaml\.(unsafe_)?load\("
    r"|^(?!.*allow_pickle=False).*\bnp\.load\("
)


def code_files() -> list[Path]:
    """The application's own Python files."""
    return sorted(p for folder in ("retrieval", "bot") for p in (REPO / folder).rglob("*.py"))


def test_the_code_never_unpickles() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in code_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if UNSAFE_LOADING.search(line)
    ]
    assert offenders == []


def test_the_unsafe_loading_pattern_catches_what_it_should() -> None:
    """The grep above is only as good as its pattern: it must flag each way of unpickling."""
    for bad in (
        "import pickle",
        "from joblib import load",
        "data = pickle.loads(raw)",
        "np.load(path, allow_pickle=True)",
        "np.load(path)",
        "FAISS.load_local(p, e, allow_dangerous_deserialization=True)",
        "torch.load(f)",
        "yaml.load(text)",
    ):
        assert UNSAFE_LOADING.search(bad), bad
    for fine in ("np.load(path, allow_pickle=False)", "yaml.safe_load(text)", "# never pickled"):
        assert not UNSAFE_LOADING.search(fine), fine


def check_safe_file(path: Path) -> str:
    """Load one index file with a loader that cannot run code; return the format it was read as."""
    import faiss

    suffix = path.suffix
    if suffix == ".faiss":
        assert faiss.read_index(str(path)).ntotal >= 0
        return "faiss"
    if suffix == ".npy":
        arr = np.load(path, allow_pickle=False)
        assert arr.dtype != object
        return "npy"
    if suffix == ".json":
        json.loads(path.read_text(encoding="utf-8"))
        return "json"
    if suffix == ".sqlite":
        assert path.read_bytes()[:16] == b"SQLite format 3\x00"
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert con.execute("PRAGMA quick_check").fetchone() == ("ok",)
        finally:
            con.close()
        return "sqlite"
    if path.name in ("CURRENT", ".lock"):
        text = path.read_text(encoding="ascii")
        assert text == "" or re.fullmatch(r"v\d+\n", text)
        return "text"
    if path.name == ".usru-index":  # the marker that claims the folder for usru
        assert path.read_text(encoding="ascii") == "usru index folder, format 2\n"
        return "text"
    raise AssertionError(f"{path} is in no known safe format")


def test_every_index_file_is_in_a_safe_format(tmp_path: Path) -> None:
    settings = hashing_settings_for(copy_seeds(tmp_path / "sources"), tmp_path / "idx")
    service = build_service(settings)
    (settings.sources / "extra.txt").write_text(
        "American and Russian envoys met in Geneva to discuss arms control.\n", encoding="utf-8"
    )
    service.reindex()
    formats = {
        p.relative_to(settings.index_dir): check_safe_file(p)
        for p in settings.index_dir.rglob("*")
        if p.is_file()
    }
    assert {"faiss", "npy", "json", "sqlite", "text"} <= set(formats.values())


# ----- (b) the token never reaches a log or a chat -----------------------------------------------------


class LeakyService:
    """The real service, except that some questions fail the way libraries do, URL and all."""

    def __init__(self, inner: AnsweringService, url: str) -> None:
        self.inner, self.url = inner, url

    def answer(self, question: str) -> Any:
        if question == "crash please":
            raise RuntimeError(f"POST {self.url}/sendMessage failed")
        return self.inner.answer(question)

    def reindex(self, *args: Any, **kwargs: Any) -> IndexSummary:
        raise OSError(f"cannot reach {self.url}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def bot_logging(fake_bot_api: FakeBotAPI, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The bot's logging set up as `usru bot` does, then every logger opened up to DEBUG, and one more
    handler added afterwards, as a maintainer chasing a bug might."""
    undo = configure_logging(fake_bot_api.token)
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "telegram.ext", "bot", "retrieval", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        yield late
    finally:
        logging.getLogger().removeHandler(handler)
        undo()


async def test_the_token_never_appears_in_logs_or_replies(
    fake_bot_api: FakeBotAPI,
    hashing_service: AnsweringService,
    bot_logging: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api, service = fake_bot_api, hashing_service
    token, secret = api.token, api.token.split(":", 1)[1]
    leaky = LeakyService(service, f"{api.base_url}{token}")
    async with running_bot(api, leaky, service.settings, read_timeout_s=0.6, max_retries=1, admins=["999"]):
        api.send_text("crash please", user_id=31, chat_id=31)
        await wait_sent(api, 31)
        # Every kind of network failure, on sends and on polls, and one send that fails for good.
        api.plan("sendMessage", {1: Fault.connection_reset(), 2: Fault.malformed_json(), 3: Fault.hang(1.5)})
        api.plan("getUpdates", {1: Fault.http(502), 2: Fault.connection_reset(), 3: Fault.malformed_json()})
        api.send_text(QUESTION, user_id=32, chat_id=32)
        await wait_sent(api, 32, timeout=15)
        api.plan("sendMessage", {1: Fault.http(500), 2: Fault.http(500), 3: Fault.http(500)})
        api.send_text(QUESTION, user_id=33, chat_id=33)
        await api.wait_for(lambda: not api.planned_left(), timeout=15, what="the failed sends")
        api.send_text("/reindex", user_id=999, chat_id=999)
        await wait_sent(api, 999, 2)
    logged = [caplog.text, bot_logging.getvalue()]
    # What handlers print: the message, and the traceback text the record carries.
    logged += [f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records]
    assert "POST" in caplog.text and "failed" in caplog.text, "the failures were logged"
    assert any(r.name == "httpx" for r in caplog.records), "httpx logged its requests"
    sent = [m.text for m in api.sent()]
    assert WENT_WRONG in sent
    for text in logged + sent:
        assert token not in text and secret not in text


def test_a_missing_or_odd_token_setting_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.bot_settings import BotSettingsError

    for value in ("12345:short-secret-value", "no colon but long enough to be a secret value"):
        with pytest.raises(BotSettingsError) as failure:
            BotSettings(_env_file=None, bot_token=value).token()
        assert value not in str(failure.value) and value.split(":")[-1] not in str(failure.value)
        assert value not in repr(BotSettings(_env_file=None, bot_token=value))


# ----- (c) the allowlist and the admin check hold for every kind of update -----------------------------

ALLOWED, ADMIN, STRANGER = 111, 999, 666
ANONYMOUS_ADMIN_BOT = 1087968824


class CountingService:
    """The real service, counting re-index requests (which must come only from admins)."""

    def __init__(self, inner: AnsweringService) -> None:
        self.inner = inner
        self.reindexed = 0
        self._lock = threading.Lock()

    def reindex(self, *args: Any, **kwargs: Any) -> IndexSummary:
        with self._lock:
            self.reindexed += 1
        return self.inner.reindex(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def private_service(tmp_path: Path) -> AnsweringService:
    """A service whose index a test may re-index."""
    return build_service(hashing_settings_for(copy_seeds(tmp_path / "sources"), tmp_path / "idx"))


async def test_allowlist_and_admin_checks_hold_for_edits_buttons_channels_and_groups(
    fake_bot_api: FakeBotAPI, private_service: AnsweringService
) -> None:
    api, service = fake_bot_api, CountingService(private_service)
    g = {"chat_id": GROUP, "chat_type": "supergroup"}
    limits = {"allowed_users": [str(ALLOWED)], "admins": [str(ADMIN)]}
    async with running_bot(api, service, private_service.settings, **limits):
        # The allowed user asks in the group; the answer's buttons are visible to everyone there.
        ask = api.send_text(f"/ask {QUESTION}", user_id=ALLOWED, **g)
        await wait_sent(api, GROUP)
        (answer,) = api.replies_to(ask)
        context_button = answer.buttons()[0]["callback_data"]
        # A stranger in the same group tries every way in.
        stranger = {"user_id": STRANGER, "username": "mallory", **g}
        api.send_text(f"/ask {QUESTION}", **stranger)
        api.send_text(f"@{api.bot_username} {QUESTION}", **stranger)
        api.send_text("/reindex", **stranger)
        api.send_text(QUESTION, reply_to=answer, **stranger)
        pressed_in_group = api.press(answer, context_button, user_id=STRANGER, username="mallory")
        pressed_elsewhere = api.press(
            answer, context_button, user_id=STRANGER, username="mallory", chat_id=STRANGER
        )
        # An allowed user who is no admin, in the group and in private, and edits into /reindex.
        api.send_text("/reindex", user_id=ALLOWED, **g)
        plain = api.send_text("hello", user_id=ALLOWED)
        api.edit_text(plain, "/reindex")
        # Even the admin's edit is an edit: it is not run as a command.
        admin_plain = api.send_text("hello", user_id=ADMIN, username="boss")
        api.edit_text(admin_plain, "/reindex")
        # Channel posts carry no user; anonymous group admins come as a bot.
        api.channel_post("/reindex")
        api.channel_post(QUESTION)
        api.channel_post("/reindex", edited=True)
        api.inject(
            {
                "message": {
                    "message_id": 77,
                    "date": 0,
                    "chat": api.chat(GROUP, "supergroup"),
                    "from": {"id": ANONYMOUS_ADMIN_BOT, "is_bot": True, "first_name": "Group"},
                    "sender_chat": api.chat(GROUP, "supergroup"),
                    "text": "/reindex",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
                }
            }
        )
        await api.wait_for(
            lambda: api.callback_answers(pressed_in_group) and api.callback_answers(pressed_elsewhere),
            what="the refused button presses",
        )
        await settle(api)
    group_texts = [m.text for m in api.sent(GROUP)]
    assert group_texts.count(REFUSAL) == 1, "the stranger was refused once, and nothing more"
    assert len(answers_in(api, GROUP)) == 1, "only the allowed user's question was answered"
    assert any("Only the bot's admins" in t for t in group_texts)
    for query in (pressed_in_group, pressed_elsewhere):
        assert [r.params.get("text") for r in api.callback_answers(query)] == [REFUSAL]
    assert api.sent(STRANGER) == [] and api.sent(-100777) == []
    assert service.reindexed == 0, "nobody re-indexed: not the stranger, the non-admin, an edit or a channel"
    assert not any("Re-indexing" in m.text for m in api.sent())


# ----- (d) callback data is hostile input -----------------------------------------------------------------


def forged_data(key: str, other_key: str) -> list[str]:
    """Callback data no button of ours carries, some of it close to the real thing."""
    return [
        "",
        "x",
        ":",
        "ctx:",
        "ctx::",
        f"ctx:{key}",
        f"ctx:{key}:99",
        f"ctx:{key}:-1",
        f"ctx:{key}:²",
        f"ctx:{key}:٣",
        f"ctx:{key}:0:0",
        f"ctx:{key}x:0",
        f"ctm:{key}:7",
        f"more:{key}:1",
        "more:",
        "ex:²",
        "ex:99",
        "ex:-1",
        "ex:0x1",
        "ctx:" + "A" * 60,
        "💥" * 16,
        "\x00\x01",
        "<b>ctx</b>:{key}:0",
        f"ctx:{other_key}:0",
        f"more:{other_key}",
    ]


async def test_forged_callback_data_gets_a_short_notice_and_nothing_else(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService, caplog: pytest.LogCaptureFixture
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings):
        api.send_text(QUESTION, user_id=41, chat_id=41)
        api.send_text(QUESTION, user_id=42, chat_id=42)
        (mine,) = await wait_sent(api, 41)
        (theirs,) = await wait_sent(api, 42)
        key = mine.buttons()[0]["callback_data"].split(":")[1]
        other_key = theirs.buttons()[0]["callback_data"].split(":")[1]
        assert key != other_key
        queries = [api.press(mine, data, user_id=41) for data in forged_data(key, other_key)]
        # The other chat's real button, replayed in this chat.
        queries.append(api.press(theirs, theirs.buttons()[0]["callback_data"], user_id=41, chat_id=41))
        await api.wait_for(
            lambda: all(api.callback_answers(q) for q in queries), timeout=10, what="every forged press"
        )
        await settle(api)
    for query in queries:
        (reply,) = api.callback_answers(query)
        notice = reply.params.get("text")
        assert notice in (UNKNOWN_BUTTON, STALE) and len(notice) <= 200
    assert api.sent(41) == [mine] and api.sent(42) == [theirs], "no passage, quote or error was sent"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no handler failed"
    assert mine.edits == 0 and theirs.edits == 0


def sent_texts(messages: list[SentMessage]) -> list[str]:
    return [m.text for m in messages]


async def test_real_buttons_still_work_after_the_forgeries(
    fake_bot_api: FakeBotAPI, hashing_service: AnsweringService
) -> None:
    api, service = fake_bot_api, hashing_service
    async with running_bot(api, service, service.settings):
        api.send_text(QUESTION, user_id=43, chat_id=43)
        (mine,) = await wait_sent(api, 43)
        for button in mine.buttons():
            api.press(mine, button["callback_data"], user_id=43)
        await wait_sent(api, 43, 1 + len(mine.buttons()))
        api.send_text("/start", user_id=43, chat_id=43)
        (*_, start) = await wait_sent(api, 43, 2 + len(mine.buttons()))
        api.press(start, "ex:0", user_id=43)
        await wait_sent(api, 43, 3 + len(mine.buttons()))
    assert UNKNOWN_BUTTON not in sent_texts(api.sent(43)) and STALE not in sent_texts(api.sent(43))
