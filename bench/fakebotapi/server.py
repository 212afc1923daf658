"""The fake Bot API's state and its HTTP front: routing, faults on the wire, the server's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.fakebotapi.methods import BadRequest, BotMethods, Conflict
from bench.fakebotapi.records import (
    BOT_USERNAME,
    JSON_PARAMS,
    MESSAGE_METHODS,
    TOKEN,
    Fault,
    FloodLimits,
    Recorded,
    SentMessage,
    SentPhoto,
)
from bench.fakebotapi.scripting import Scripting
from bench.fakebotapi.telegram_html import utf16_len
from bench.fakebotapi.updates import UpdateInjection


@dataclass
class FakeBotAPI(Scripting, UpdateInjection, BotMethods):
    """State and behaviour of the fake Bot API; tests drive it through the public methods."""

    token: str = TOKEN
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    rejected: list[Recorded] = field(default_factory=list)
    unknown_methods: list[str] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    photos: list[SentPhoto] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _next_update_id: int = 100
    _confirmed: int = 0
    _msg_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _user_msg_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _open_callbacks: set[str] = field(default_factory=set)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _planned: dict[tuple[str, int], Fault] = field(default_factory=dict)
    _call_counts: Counter[str] = field(default_factory=Counter)
    # At most this many updates per getUpdates, so that a test can stop the bot with some undelivered.
    batch_limit: int | None = None
    flood: FloodLimits | None = None
    flood_refusals: list[Recorded] = field(default_factory=list)
    _buckets: dict[Any, tuple[float, float]] = field(default_factory=dict)
    # When each update was first handed to the bot, by update_id (time.monotonic()).
    delivered_at: dict[int, float] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None
    _wakers: set[asyncio.Task[None]] = field(default_factory=set)
    _closing: bool = False
    # Called with each injected update (bench/fakewebhook.py pushes it to the webhook).
    on_push: Callable[[dict[str, Any]], None] | None = None

    bot_username: str = BOT_USERNAME
    utf16_len = staticmethod(utf16_len)

    @property
    def base_url(self) -> str:
        """What the bot should use as TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ----- reading what happened ---------------------------------------------------------------

    def calls(self, method: str) -> list[Recorded]:
        """Every request of one method, in arrival order (failed ones included)."""
        return [r for r in self.requests if r.method == method]

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Messages delivered (to one chat), in order."""
        return [m for m in self.messages if chat_id is None or m.chat_id == chat_id]

    def replies_to(self, update: dict[str, Any]) -> list[SentMessage]:
        """Delivered messages that reply to the message in an injected update."""
        mid = update["message"]["message_id"]
        return [m for m in self.messages if m.reply_to_message_id == mid]

    def callback_answers(self, query_id: str) -> list[Recorded]:
        """answerCallbackQuery calls for one query."""
        return [r for r in self.calls("answerCallbackQuery") if r.params.get("callback_query_id") == query_id]

    def send_times(self, chat_id: int | None = None, methods: frozenset[str] | None = None) -> list[float]:
        """When accepted sends (messages and edits, or `methods`) arrived, for one chat or all."""
        wanted = methods or MESSAGE_METHODS
        return [
            r.at
            for r in self.requests
            if r.method in wanted
            and r.status == 200
            and (chat_id is None or str(r.params.get("chat_id")) == str(chat_id))
        ]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"
    ) -> Any:
        """Poll until predicate() is truthy (returning it) or fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.02)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot through an offset."""
        return [u for u in self._updates if u["update_id"] >= self._confirmed]

    @property
    def confirmed_offset(self) -> int:
        """The highest offset the bot has confirmed."""
        return self._confirmed

    # ----- HTTP ------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            params = await _read_params(request)
        except ConnectionResetError:  # the client gave up while sending (PTB cancels its long poll on stop)
            return web.Response(status=499)
        rec = Recorded(
            method=method, params=params, at=time.monotonic(), via=request.match_info.get("via", "")
        )
        self.requests.append(rec)
        if token != self.token:
            return _error(rec, 401, "Unauthorized")
        self._call_counts[method] += 1
        fault = self._planned.pop((method, self._call_counts[method]), None)
        faults = self._faults.get(method)
        if fault is None and faults:
            fault = faults.pop(0)
        if fault and fault.reset:
            return await _reset_midway(request, rec)
        if fault and fault.garbled:
            rec.status, rec.error = 200, "garbled body"
            return web.Response(
                status=200,
                text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                content_type="text/html",
            )
        if fault and fault.delay_s:
            await asyncio.sleep(fault.delay_s)
            transport = request.transport
            if transport is None or transport.is_closing():
                # The client gave up waiting: like a request that never reached Telegram.
                rec.status, rec.error = 0, "client went away"
                return web.Response(status=499)
        elif fault and fault.status == 429:
            return _error(
                rec,
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        elif fault:
            return _error(rec, fault.status, "Internal Server Error")
        wait = self._flood_check(method, params, rec.at)
        if wait is not None:
            self.flood_refusals.append(rec)
            return _error(rec, 429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.unknown_methods.append(method)
            return _error(rec, 404, "Not Found")
        try:
            result = await handler(params)
        except Conflict as exc:
            return _error(rec, 409, f"Conflict: {exc}")
        except BadRequest as exc:
            self.rejected.append(rec)
            return _error(rec, 400, f"Bad Request: {exc}")
        rec.status, rec.answered_at = 200, time.monotonic()
        try:
            return web.json_response({"ok": True, "result": result})
        except (ConnectionResetError, asyncio.CancelledError):  # pragma: no cover - client went away
            return web.Response(status=499)


def _error(
    rec: Recorded, status: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    rec.status, rec.error = status, description
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


async def _reset_midway(request: web.Request, rec: Recorded) -> web.StreamResponse:
    """Send headers and half a body, then reset the TCP connection (RST, not a clean close)."""
    rec.status, rec.error = 0, "connection reset"
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = 200
    await response.prepare(request)
    await response.write(b'{"ok":true,"result":{"message_id":')
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 makes close() send RST, which the client sees as "connection reset by peer".
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return response


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        raw: dict[str, Any] = await request.json()
    else:
        form = await request.post()
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
        # Uploads (sendPhoto's picture) arrive as file parts: keep their bytes.
        raw.update({k: v.file.read() for k, v in form.items() if isinstance(v, web.FileField)})
        raw.update(request.query)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in JSON_PARAMS and isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                raise web.HTTPBadRequest(text=f"{key} is not JSON") from exc
        else:
            params[key] = value
    return params


@contextlib.asynccontextmanager
async def started_application(service: Any, settings: Any, bot_settings: Any) -> AsyncIterator[Any]:
    """Start the bot's real Application the way run_polling does, and stop it the same way."""
    from bot.telegram.app import build_application, polling_options
    from bot.telegram.lifecycle import stop_application

    app = build_application(service, settings, bot_settings)
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_polling(**polling_options(bot_settings))
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await stop_application(app)


@contextlib.asynccontextmanager
async def serve_fake_bot_api(token: str = TOKEN) -> AsyncIterator[FakeBotAPI]:
    """Run a FakeBotAPI on 127.0.0.1 at a free port for the duration of the block."""
    api = FakeBotAPI(token=token)
    api._changed = asyncio.Condition()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", api._handle)
    app.router.add_route("*", "/{via}/bot{token}/{method}", api._handle)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    api.port = server.sockets[0].getsockname()[1]
    try:
        yield api
    finally:
        # Long polls abandoned by the bot are still parked here; release them so shutdown is quick.
        api._closing = True
        async with api._changed:
            api._changed.notify_all()
        await runner.cleanup()
