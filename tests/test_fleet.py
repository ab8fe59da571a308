"""Serving many tenants from one run: shards, bounded concurrency, failures kept apart."""

from __future__ import annotations

import asyncio

import pytest

from store.integrations import ensure_integration
from store.models import IntegrationStatus
from tasks.fleet import active_tenants, run_for_tenants, shard_of


def test_shards_partition_the_tenants_stably():
    tenants = [f"t-{i}" for i in range(200)]
    by_shard = {s: {t for t in tenants if shard_of(t, 3) == s} for s in range(3)}
    assert set().union(*by_shard.values()) == set(tenants)
    assert sum(len(v) for v in by_shard.values()) == len(tenants)
    assert all(len(v) > 30 for v in by_shard.values())
    assert shard_of("t-42", 3) == shard_of("t-42", 3)
    with pytest.raises(ValueError, match="shards must be at least 1"):
        shard_of("t-1", 0)


def test_active_tenants_lists_only_active_ones_of_the_shard(state_store):
    with state_store.sessions.begin() as session:
        for i, status in enumerate(["active", "active", "review", "disabled", "active"]):
            ensure_integration(session, f"t-{i}").status = status
    assert active_tenants(state_store) == ["t-0", "t-1", "t-4"]
    shards = [active_tenants(state_store, shard=s, shards=2) for s in range(2)]
    assert sorted(shards[0] + shards[1]) == ["t-0", "t-1", "t-4"]
    assert active_tenants(state_store, statuses=[IntegrationStatus.REVIEW.value]) == ["t-2"]
    with pytest.raises(ValueError, match="shard must be between 0 and 1"):
        active_tenants(state_store, shard=2, shards=2)


def test_one_tenants_failure_never_stops_the_others_and_hides_credentials():
    async def work(tenant: str) -> int:
        await asyncio.sleep(0)
        if tenant == "bad":
            raise RuntimeError("401 from Tripletex\nAuthorization: Basic c2VjcmV0LWtleQ==")
        return len(tenant)

    outcomes = asyncio.run(run_for_tenants(["a", "bad", "ccc"], work, concurrency=2))
    assert outcomes["a"].ok and outcomes["a"].value == 1
    assert outcomes["ccc"].value == 3
    assert not outcomes["bad"].ok and outcomes["bad"].error_type == "RuntimeError"
    assert outcomes["bad"].error == "401 from Tripletex"


def test_concurrency_is_bounded():
    running = peak = 0

    async def work(tenant: str) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    outcomes = asyncio.run(run_for_tenants([str(i) for i in range(20)], work, concurrency=4))
    assert len(outcomes) == 20 and all(o.ok for o in outcomes.values())
    assert peak == 4
