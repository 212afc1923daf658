"""Hardening (issue 7): many users at once while a re-index runs, through a fake Bot API that enforces
Telegram's flood limits. Correctness only: every question answered exactly once, no errors, the limits
kept, memory bounded. The figures (latency, rates at 200 users × 5) are bench/bot_load.py's job.
"""

from __future__ import annotations

import pytest

from bench.bot_load import run_bot_load
from bench.fakebotapi import FloodLimits

pytestmark = pytest.mark.load

USERS, QUESTIONS, EXTRA = 200, 5, 300


def test_many_users_at_once_during_a_reindex_get_one_answer_each_within_the_flood_limits() -> None:
    # Enough new articles that the re-index still overlaps the first answers on a fast, idle machine.
    result = run_bot_load(USERS, QUESTIONS, extra_articles=EXTRA)
    assert result["finished_in_time"]
    assert result["questions"] == USERS * QUESTIONS
    assert result["replies_per_question"] == {"0": 0, "1": USERS * QUESTIONS, "2+": 0}
    assert result["answered_exactly_once"]
    assert result["errors_logged"] == 0, result["error_samples"]
    # The fake refuses sends beyond Telegram's limits with 429: none was needed.
    assert result["flood_refusals_429"] == 0
    limits, rates = FloodLimits(), result["send_rates"]
    assert rates["max_messages_in_1s_one_chat"] <= limits.chat_burst
    assert rates["max_requests_in_1s_all_chats"] <= limits.global_burst + limits.global_per_s
    assert rates["max_requests_per_s_over_10s"] <= limits.global_per_s + limits.global_burst / 10
    # The re-index really ran alongside the answers, and the admin heard how it went.
    reindex = result["reindex"]
    assert reindex["runs"] == 1 and reindex["answers_delivered_meanwhile"] > 0
    assert reindex["admin_saw"][-1].startswith(f"{EXTRA} new, 0 changed, 0 removed articles")
    # Nothing grows with the number of questions: a generous ceiling for 1,000 answers.
    assert result["rss_mib"]["growth"] < 300
