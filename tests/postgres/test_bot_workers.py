"""Three real `usru bot` webhook workers on one loopback port, one SIGKILLed mid-run: no update lost.

The fake Bot API pushes each update to the webhook until a worker answers 2xx, as Telegram does; the
workers share an embedded PostgreSQL. What a kill can still cause, and only that, is a duplicate of an
answer the killed worker sent but had not yet marked done (bot/telegram/shared_updates.py).
"""

from __future__ import annotations

import pytest

from bench.bot_workers import Plan, run_workers_load

pytestmark = pytest.mark.postgres


def test_three_workers_with_one_killed_answer_every_update(postgres_url: str) -> None:
    plan = Plan(workers=3, users=30, questions=3, kill_at=0.35, flood_limits=False, timeout_s=180)
    result = run_workers_load(plan, postgres_url)
    summary = {k: v for k, v in result.items() if k not in ("machine",)}
    assert result["updates"] == 90, summary
    assert result["answers"]["lost"] == 0, summary
    assert result["gave_up"] == 0 and result["rejected_400"] == 0, summary
    # The kill cut deliveries short, and those updates were answered by the live workers.
    assert result["deliveries_cut_by_the_kill"] >= 1, summary
    assert result["updates_cut_by_the_kill_answered_once"] >= 1, summary
    assert result["worker_exit_codes"][0] == -9 and result["worker_exit_codes"][1:] == [0, 0], summary
    # Every duplicate is the window that cannot be closed: answered by the killed worker before the
    # kill, then once more by a live one. Deliveries twice at once, or again after the answer, never are.
    for hit in result["window_hits"]:
        assert hit["first_before_kill"] and len(hit["answered_by"]) == 2, summary
        assert hit["answered_by"][0] == "w1" and hit["answered_by"][1] != "w1", summary
    assert result["answers"]["once"] + len(result["window_hits"]) == 90, summary
    assert result["delivered_again_after_answer"] == 10 and result["answered_again_after_answer"] == 0, (
        summary
    )
    assert result["worker_log_errors"] == 0, summary
