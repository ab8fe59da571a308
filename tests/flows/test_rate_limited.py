"""The whole activation and initial sync under a tight Tripletex rate limit: the HTTP policy
paces and waits out 429s (sent without a reset header, as Tripletex does); nothing fails."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cli.operate import decide
from sandboxes.pair import SandboxPair, sandbox_pair
from store.failures import open_failures
from tests.flows.conftest import run_activation

pytestmark = pytest.mark.scenario


@pytest.fixture
def sandboxes() -> Iterator[SandboxPair]:
    # 6 requests per 1.5 s per token: the sync needs several windows.
    with sandbox_pair(size="small", seed=7, rate_limit=6, rate_window_seconds=1.5) as pair:
        yield pair


def test_initial_sync_completes_under_a_tight_rate_limit(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    assert decide(state_store, sandboxes.tenant, "approve", "kari@ops", "").endswith("active")
    statuses = [
        r["status"] for r in httpx.get(f"{sandboxes.tripletex_root}/_admin/requests").json()
    ]
    with state_store.sessions() as session:
        unavailable = [
            f
            for f in open_failures(session, sandboxes.tenant)
            if f.reason_code == "TARGET_UNAVAILABLE"
        ]
    assert not unavailable
    assert len(statuses) > 2 * 6  # the limit mattered: more than two windows' worth
    assert statuses.count(429) < len(statuses) / 4  # pacing kept the 429s to a few
