"""Update ids past PostgreSQL's bigint (a webhook body is untrusted): handled, and no claim left behind."""

from __future__ import annotations

import pytest

from bot.telegram.shared_updates import Claim, UpdateClaims, lock_key
from bot.telegram.update_gate import Outcome, UpdateGate
from retrieval.errors import UsruError

pytestmark = pytest.mark.postgres

HUGE = [2**63, 2**64 + 5, -(2**63) - 1]


def test_an_id_past_bigint_is_refused_in_one_sentence_before_any_lock(postgres_url: str) -> None:
    claims = UpdateClaims(postgres_url)
    for huge in HUGE:
        for step in (claims.take, claims.finish, claims.release):
            with pytest.raises(UsruError, match="Update id") as caught:
                step(huge)
            assert "\n" not in str(caught.value)
    claims.close()


async def test_the_gate_handles_a_huge_id_once_and_its_lock_key_stays_free(postgres_url: str) -> None:
    here, there = UpdateClaims(postgres_url), UpdateClaims(postgres_url)
    gate = UpdateGate(here, busy_wait_s=0.3)
    runs: list[int] = []

    async def handle() -> None:
        runs.append(1)

    for huge in HUGE:
        assert await gate.handle_once(huge, handle) is Outcome.HANDLED
    assert runs == [1, 1, 1]
    # Real updates whose advisory lock keys are the huge ids' keys: another worker can take them.
    for real in (2**32, 5, 2**32 - 1):
        assert lock_key(real) in {lock_key(h) for h in HUGE}
        assert there.take(real) is Claim.MINE
        there.release(real)
    assert here.take(9) is Claim.MINE  # this worker's claims still work
    here.finish(9)
    assert there.take(9) is Claim.DONE
    here.close()
    there.close()
