"""Bot throughput: simulated users all ask at once through the fake Bot API while a re-index runs.

The real PTB Application and answering service run against bench/fakebotapi/, which enforces
Telegram's flood limits (about one message a second per chat, 30 a second in all) by answering 429
with retry_after, as Telegram does. An admin's /reindex, sent first, indexes extra articles while the
questions are answered. Measured: time from an update being handed to the bot to its reply arriving,
whether every question got exactly one reply, errors logged, send rates and peak memory.

    python -m bench.bot_load [--quick] [--users 200 --questions 5] [--hashing]

writes bench/results/bot_load.json. `run_bot_load(users, questions, ...)` returns the same dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.evaluation import ROOT, percentile
from bench.fakebotapi import (
    FLOOD_METHODS,
    MESSAGE_METHODS,
    FakeBotAPI,
    peak_count,
    serve_fake_bot_api,
    started_application,
)
from bot.bot_settings import BotSettings
from retrieval.index import IndexSummary
from retrieval.service import AnsweringService, build_service
from retrieval.settings import HASHING_MODEL, Settings

RESULT = ROOT / "bench" / "results" / "bot_load.json"
SEEDS = ROOT / "seeds"
QUESTIONS = [
    "What did Putin say about relations with the United States?",
    "Is Russia ready for dialogue with Washington?",
    "Is Russia ready to resume arms control talks?",
    "How bad are US-Russia relations, according to the articles?",
    "What did Lavrov say about the United States?",
]
ADMIN = 1
FIRST_USER = 10_000
REINDEX_STARTED = "Re-indexing the articles…"


class TimedService:
    """The answering service, noting when each re-index starts and ends."""

    def __init__(self, inner: AnsweringService) -> None:
        self.inner = inner
        self.reindex_spans: list[tuple[float, float]] = []

    def reindex(self, *args: Any, **kwargs: Any) -> IndexSummary:
        started = time.monotonic()
        try:
            return self.inner.reindex(*args, **kwargs)
        finally:
            self.reindex_spans.append((started, time.monotonic()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def current_rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def write_extra_articles(sources: Path, count: int) -> None:
    """`count` new articles, each with a text of its own (so none is taken for a duplicate)."""
    sentences = [
        s.strip() + "."
        for f in sorted(SEEDS.glob("*.txt"))
        for s in f.read_text(encoding="utf-8").split(".")
        if 60 < len(s.strip()) < 300
    ]
    for i in range(count):
        picked = [sentences[(i * 7 + k * 13) % len(sentences)] for k in range(12)]
        body = "\n\n".join(" ".join(picked[k : k + 3]) for k in range(0, len(picked), 3))
        (sources / f"load_{i:04d}.md").write_text(
            f"---\ntitle: Briefing number {i}\npublisher: Load Test Wire\ndate: 2024-06-{1 + i % 28:02d}\n---\n"
            f"Envoy {i} of the briefing series said talks between Moscow and Washington would go on.\n\n{body}\n",
            encoding="utf-8",
        )


async def _wait_until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _good_polls(api: FakeBotAPI) -> int:
    return sum(r.status == 200 for r in api.calls("getUpdates"))


async def _drive(
    service: TimedService, settings: Settings, users: int, questions: int, timeout_s: float
) -> dict[str, Any]:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    rss_peak = [current_rss_mib()]
    rss_start = rss_peak[0]
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.wait(0.1):
            rss_peak[0] = max(rss_peak[0], current_rss_mib())

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    try:
        async with serve_fake_bot_api() as api:
            api.enforce_flood_limits()
            bs = BotSettings(
                _env_file=None,
                bot_token=api.token,
                api_base_url=api.base_url,
                admins=[str(ADMIN)],
                rate_limit_per_minute=max(6, questions),
                poll_timeout_s=1,
                retry_backoff_s=0.2,
            )
            chats = [FIRST_USER + u for u in range(users)]
            async with started_application(service, settings, bs):
                await _wait_until(lambda: api.call_count("getUpdates") >= 1, 10)
                started = time.monotonic()
                api.send_text("/reindex", user_id=ADMIN, username="admin")
                asked: dict[int, list[int]] = {c: [] for c in chats}
                for q in range(questions):
                    for chat in chats:
                        update = api.send_text(QUESTIONS[q % len(QUESTIONS)], user_id=chat, username=None)
                        asked[chat].append(update["update_id"])

                def done() -> bool:
                    return len(api.sent(ADMIN)) >= 2 and all(len(api.sent(c)) >= questions for c in chats)

                finished_in_time = await _wait_until(done, timeout_s)
                finished = time.monotonic()
                # A duplicate reply, if any, would come within the next polls.
                polls = _good_polls(api)
                await _wait_until(lambda: _good_polls(api) >= polls + 2, 10)
            return _summarise(api, service, chats, asked, started, finished, finished_in_time, errors) | {
                "rss_mib": {
                    "start": round(rss_start, 1),
                    "peak_sampled": round(rss_peak[0], 1),
                    "growth": round(rss_peak[0] - rss_start, 1),
                    "ru_maxrss": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                },
            }
    finally:
        stop_sampling.set()
        sampler.join(1)
        logging.getLogger().removeHandler(errors)


def _summarise(
    api: FakeBotAPI,
    service: TimedService,
    chats: list[int],
    asked: dict[int, list[int]],
    started: float,
    finished: float,
    finished_in_time: bool,
    errors: ErrorLog,
) -> dict[str, Any]:
    latencies: list[float] = []
    replies_per_question: dict[str, int] = {"0": 0, "1": 0, "2+": 0}
    for chat in chats:
        replies = sorted(m.at for m in api.sent(chat))
        delivered = sorted(api.delivered_at.get(u, float("nan")) for u in asked[chat])
        # Replies are paired with questions in order within a chat (each reply is one message).
        latencies += [r - d for d, r in zip(delivered, replies, strict=False)]
        extra = len(replies) - len(asked[chat])
        replies_per_question["1"] += min(len(replies), len(asked[chat]))
        replies_per_question["0"] += max(0, -extra)
        replies_per_question["2+"] += max(0, extra)
    per_chat_peak = max((peak_count(api.send_times(c), 1.0) for c in chats), default=0)
    gaps = [
        b - a
        for c in chats
        for a, b in zip(api.send_times(c), api.send_times(c)[1:], strict=False)
        if api.send_times(c)
    ]
    all_sends = api.send_times(methods=FLOOD_METHODS)
    messages = api.send_times(methods=MESSAGE_METHODS)
    during = sum(
        1 for c in chats for m in api.sent(c) if any(lo <= m.at <= hi for lo, hi in service.reindex_spans)
    )
    admin = [m.text for m in api.sent(ADMIN)]
    return {
        "users": len(chats),
        "questions_per_user": len(asked[chats[0]]) if chats else 0,
        "questions": sum(len(v) for v in asked.values()),
        "finished_in_time": finished_in_time,
        "total_s": round(finished - started, 2),
        "latency_s": {
            "p50": round(percentile(latencies, 50), 3),
            "p95": round(percentile(latencies, 95), 3),
            "max": round(max(latencies, default=float("nan")), 3),
        },
        "replies_per_question": replies_per_question,
        "answered_exactly_once": replies_per_question["1"] == sum(len(v) for v in asked.values())
        and replies_per_question["2+"] == 0,
        "errors_logged": len(errors.records),
        "error_samples": [f"{r.name}: {r.getMessage()}"[:300] for r in errors.records[:5]],
        "flood_refusals_429": len(api.flood_refusals),
        "send_rates": {
            "max_messages_in_1s_one_chat": per_chat_peak,
            "min_gap_s_one_chat": round(min(gaps), 3) if gaps else None,
            "max_messages_in_1s_all_chats": peak_count(messages, 1.0),
            "max_requests_in_1s_all_chats": peak_count(all_sends, 1.0),
            "max_requests_per_s_over_10s": round(peak_count(all_sends, 10.0) / 10, 1),
            "typing_actions": len(api.send_times(methods=frozenset({"sendChatAction"}))),
        },
        "reindex": {
            "runs": len(service.reindex_spans),
            "seconds": [round(hi - lo, 2) for lo, hi in service.reindex_spans],
            "answers_delivered_meanwhile": during,
            "admin_saw": admin,
        },
    }


def run_bot_load(
    users: int = 200,
    questions: int = 5,
    *,
    embedding_model: str = HASHING_MODEL,
    extra_articles: int = 40,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Run the load once over a fresh copy of the seeds; return the measurements as a dict.

    `embedding_model` "" is the bundled real model; the default is the fast hashing fake.
    """
    root = Path(tempfile.mkdtemp(prefix="usru-bot-load-"))
    try:
        sources = root / "sources"
        shutil.copytree(SEEDS, sources)
        settings = Settings(
            _env_file=None, sources=sources, index_dir=root / "idx", embedding_model=embedding_model
        )
        service = TimedService(build_service(settings))
        # Written after the first build, so that the admin's /reindex has them to embed.
        write_extra_articles(sources, extra_articles)
        # Telegram allows 30 sends a second in all; each question costs a reply and a "typing…".
        budget = timeout_s if timeout_s is not None else 60 + users * questions * 2 / 30 * 3
        result = asyncio.run(_drive(service, settings, users, questions, budget))
        result["embedding_model"] = embedding_model or "all-MiniLM-L6-v2 (bundled)"
        result["extra_articles_indexed"] = extra_articles
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.bot_load`: run, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--extra-articles", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="20 users × 3 questions, hashing embedder")
    parser.add_argument("--hashing", action="store_true", help="the fast fake embedder instead of the model")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    users, questions, extra = args.users, args.questions, args.extra_articles
    model = "" if not (args.hashing or args.quick) else HASHING_MODEL
    if args.quick:
        users, questions, extra = 20, 3, 5
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    result = run_bot_load(users, questions, embedding_model=model, extra_articles=extra)
    from bench.run import machine  # imported late: bench.run may import this module

    result["command"] = "python -m bench.bot_load " + " ".join(argv if argv is not None else sys.argv[1:])
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["machine"] = machine()
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if result["answered_exactly_once"] and not result["errors_logged"] else 1


if __name__ == "__main__":
    sys.exit(main())
