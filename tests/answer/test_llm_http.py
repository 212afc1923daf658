"""LLM mode end to end: the real langchain-openai client against a scripted OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from retrieval.conversation import conversation_with
from retrieval.service import AnsweringService
from retrieval.settings import Settings
from tests.support.corpus import file_text

pytest.importorskip("langchain_openai")

QUESTION = "Is Russia ready to resume arms control talks?"
FENCED = re.compile(
    r"<<<(ARTICLE-[0-9a-f]+) passage_id=(\d+) \| [^\n]*>>>\n(.*?)\n<<<END \1 passage_id=\2>>>", re.DOTALL
)


@dataclass
class Step:
    """What the server does with the next request: reply with content, fail with a status, or stall."""

    content: str | Callable[[list[dict[str, Any]]], str] = ""
    status: int = 200
    stall_s: float = 0.0


@dataclass
class FakeOpenAI:
    """A scripted /v1/chat/completions on 127.0.0.1 (JSON replies and server-sent-event streams)."""

    steps: list[Step] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        step = self.steps.pop(0) if self.steps else Step(status=500)
        if step.stall_s:
            await asyncio.sleep(step.stall_s)
        if step.status != 200:
            return web.json_response(
                {"error": {"message": f"scripted {step.status}", "type": "server_error", "code": None}},
                status=step.status,
                headers={"retry-after-ms": "1"},
            )
        content = step.content(body["messages"]) if callable(step.content) else step.content
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        pieces = re.findall(r"\S+\s*|\s+", content)
        for i, piece in enumerate(pieces):
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        last = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        await response.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
        await response.write_eof()
        return response


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.completions)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    started = threading.Event()

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    assert started.wait(10)
    yield fake
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)

    async def cancel_rest() -> None:
        # A stalled handler may still be sleeping: cancel it rather than leave it pending.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel_rest(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def service_for(base: AnsweringService, fake: FakeOpenAI, **overrides: Any) -> AnsweringService:
    values: dict[str, Any] = {
        "llm": "openai:test-model",
        "llm_base_url": f"http://127.0.0.1:{fake.port}/v1",
        "llm_timeout": 2.0,
        "llm_max_retries": 0,
        **overrides,
    }
    settings: Settings = base.settings.model_copy(update=values)
    return AnsweringService(settings, base.embedder, base.index)


def good_content(messages: list[dict[str, Any]]) -> str:
    """A reply quoting one real sentence about arms from the passages the server was sent."""
    for m in FENCED.finditer(messages[1]["content"]):
        for sentence in re.split(r"(?<=[.!?])\s+", m.group(3)):
            if "arms" in sentence.lower() and len(sentence) > 20:
                return json.dumps(
                    {
                        "answer": "The articles report on arms control [1].",
                        "citations": [{"n": 1, "passage_id": int(m.group(2)), "quote": sentence}],
                    }
                )
    raise AssertionError("no passage about arms was sent")


def test_an_answer_over_http_is_verified(hashing_service: AnsweringService, server: FakeOpenAI) -> None:
    server.steps = [Step(good_content)]
    service = service_for(hashing_service, server)
    answer = service.answer(QUESTION)
    assert answer.mode == "llm" and answer.status == "answered" and len(answer.citations) == 1
    c = answer.citations[0]
    assert c.quote == file_text(service, c.source)[c.start : c.end]
    (request,) = server.requests
    assert request["model"] == "test-model" and not request.get("stream")
    assert request["response_format"]["type"] == "json_schema"
    assert request["messages"][0]["role"] == "system"


def test_a_streamed_answer_over_http_reports_drafts(
    hashing_service: AnsweringService, server: FakeOpenAI
) -> None:
    server.steps = [Step(good_content)]
    drafts: list[str] = []
    answer = service_for(hashing_service, server).answer(QUESTION, on_text=drafts.append)
    assert server.requests[0]["stream"] is True
    assert len(drafts) > 2 and drafts[-1] == answer.lead
    assert answer.mode == "llm" and len(answer.citations) == 1


def test_fabricated_quotes_over_http_retry_then_fall_back(
    hashing_service: AnsweringService, server: FakeOpenAI
) -> None:
    fake = json.dumps(
        {
            "answer": "Peace is here [1].",
            "citations": [{"n": 1, "passage_id": 1, "quote": "Peace has finally arrived today."}],
        }
    )
    server.steps = [Step(fake), Step(fake)]
    answer = service_for(hashing_service, server).answer(QUESTION)
    assert len(server.requests) == 2
    assert "Peace has finally arrived today." in server.requests[1]["messages"][-1]["content"]
    assert answer.mode == "llm+fallback" and answer.citations


@pytest.mark.parametrize("status", [429, 500])
def test_server_errors_fall_back_to_quotes(
    hashing_service: AnsweringService, server: FakeOpenAI, status: int
) -> None:
    server.steps = [Step(status=status)]
    answer = service_for(hashing_service, server).answer(QUESTION)
    assert answer.mode == "llm+fallback" and answer.status == "answered" and answer.citations
    assert len(server.requests) == 1


def test_a_rate_limit_is_retried_by_the_client(hashing_service: AnsweringService, server: FakeOpenAI) -> None:
    server.steps = [Step(status=429), Step(good_content)]
    answer = service_for(hashing_service, server, llm_max_retries=1).answer(QUESTION)
    assert answer.mode == "llm" and len(server.requests) == 2


def test_a_timeout_falls_back_to_quotes(hashing_service: AnsweringService, server: FakeOpenAI) -> None:
    server.steps = [Step(good_content, stall_s=3.0)]
    t0 = time.perf_counter()
    answer = service_for(hashing_service, server, llm_timeout=0.3).answer(QUESTION)
    assert time.perf_counter() - t0 < 2.5
    assert answer.mode == "llm+fallback" and answer.citations


def test_an_unreachable_server_falls_back_to_quotes(hashing_service: AnsweringService) -> None:
    fake = FakeOpenAI(port=9)  # the discard port: nothing listens there
    answer = service_for(hashing_service, fake, llm_timeout=0.5).answer(QUESTION)
    assert answer.mode == "llm+fallback" and answer.citations


def test_a_follow_up_is_condensed_over_http(hashing_service: AnsweringService, server: FakeOpenAI) -> None:
    server.steps = [
        Step(good_content),
        Step("Is Russia ready to resume arms control talks in 2021?"),
        Step(good_content),
    ]
    service = service_for(hashing_service, server)
    chat = conversation_with(service)
    chat.ask(QUESTION)
    follow = chat.ask("what about 2021?")
    assert follow.question == "Is Russia ready to resume arms control talks in 2021?"
    assert "response_format" not in server.requests[1]
    assert follow.mode == "llm"


# ---------------------------------------------------------------------------- claims held to their quotes

GOOD = "The articles report on arms control [1]."
# Kinds of unsupported claim a model makes; each cites the real quote [1] unless the kind is about markers.
UNSUPPORTED = {
    "made-up quote in single curly marks": "The talks were called ‘a final offer for everyone’ [1].",
    "made-up quote in straight single marks": "The talks were called 'a final offer for everyone' [1].",
    "made-up quote in guillemets": "The talks were called «a final offer for everyone» [1].",
    "made-up quote in low-high marks": "The talks were called „a final offer for everyone“ [1].",
    "made-up quote in curly double marks": "The talks were called “a final offer for everyone” [1].",
    "made-up quote in straight double marks": 'The talks were called "a final offer for everyone" [1].',
    "a real marker on a made-up claim": "The answer is: Russia and the US signed a peace treaty in 2030 [1].",
    "a number the quote lacks": "Exactly 455 warheads will be cut [1].",
    "a percentage the quote lacks": "The support for the talks rose by 40% [1].",
    "a spelled-out number": "Twelve rounds of talks are planned [1].",
    "a year the quote lacks": "The talks resume in 2031 [1].",
    "a month the quote lacks": "The talks resume in March [1].",
    "a weekday the quote lacks": "The talks resume on Friday [1].",
    "a person the quote does not name": "Angela Merkel will chair the talks [1].",
    "a place the quote does not name": "The talks will be held in Reykjavik [1].",
    "an organisation the quote does not name": "OPEC approved the talks [1].",
    "no marker at all": "Russia has already signed a new treaty with Japan.",
    "a marker with no citation": "The treaty was signed [7].",
    "a marker on a made-up citation": "The treaty was signed [2].",
}


def claims_content(claim: str) -> Callable[[list[dict[str, Any]]], str]:
    """A reply with one supported sentence and one unsupported claim (and a made-up citation [2])."""

    def content(messages: list[dict[str, Any]]) -> str:
        real = json.loads(good_content(messages))["citations"][0]
        made_up = {"n": 2, "passage_id": real["passage_id"], "quote": "The treaty was signed in secret."}
        return json.dumps({"answer": f"{GOOD} {claim}", "citations": [real, made_up]})

    return content


@pytest.mark.parametrize("kind", list(UNSUPPORTED))
def test_an_unsupported_claim_never_reaches_the_user(
    hashing_service: AnsweringService, server: FakeOpenAI, kind: str
) -> None:
    server.steps = [Step(claims_content(UNSUPPORTED[kind]))]
    answer = service_for(hashing_service, server).answer(QUESTION)
    assert answer.mode == "llm" and answer.status == "answered"
    assert answer.lead == GOOD
    claim_words = UNSUPPORTED[kind].rstrip(".").split()
    assert " ".join(claim_words[-4:]) not in answer.answer
    c = answer.citations[0]
    assert len(answer.citations) == 1 and c.quote == file_text(hashing_service, c.source)[c.start : c.end]


def test_a_made_up_claim_with_a_real_marker_alone_is_retried_then_quotes_are_shown(
    hashing_service: AnsweringService, server: FakeOpenAI
) -> None:
    def content(messages: list[dict[str, Any]]) -> str:
        real = json.loads(good_content(messages))["citations"][0]
        claim = UNSUPPORTED["a real marker on a made-up claim"]
        return json.dumps({"answer": claim, "citations": [real]})

    server.steps = [Step(content), Step(content)]
    answer = service_for(hashing_service, server).answer(QUESTION)
    assert "2030" in server.requests[1]["messages"][-1]["content"], "the retry says what was unsupported"
    assert answer.mode == "llm+fallback" and "2030" not in answer.answer and "treaty" not in answer.answer


def test_a_claim_whose_names_numbers_and_dates_are_in_its_quote_is_kept(
    hashing_service: AnsweringService, server: FakeOpenAI
) -> None:
    def content(messages: list[dict[str, Any]]) -> str:
        pid, sentence = next(
            (int(m.group(2)), s)
            for m in FENCED.finditer(messages[1]["content"])
            for s in re.split(r"(?<=[.!?])\s+", m.group(3))
            if "United States" in s and "arms" in s
        )
        claim = "The United States wants to resume arms control talks, Russia's president said [1]."
        return json.dumps({"answer": claim, "citations": [{"n": 1, "passage_id": pid, "quote": sentence}]})

    server.steps = [Step(content)]
    answer = service_for(hashing_service, server).answer(QUESTION)
    assert answer.mode == "llm" and answer.lead.startswith("The United States wants to resume arms control")
