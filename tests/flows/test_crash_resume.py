"""kill -9 at a random point of the initial sync, then rerun: nothing twice, nothing lost.

The initial sync runs in a subprocess (against the same sandboxes, store and Prefect test
server); the test kills it with SIGKILL after the sandboxes received a random number of writes,
then reruns the sync in this process and checks the invariants.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.activate import ApprovalDecision, record_decision
from flows.initial_sync import initial_sync
from sandboxes.pair import sandbox_pair
from store.failures import open_failures
from store.integrations import get_integration
from store.links import links_for
from store.models import Base
from sync.records import Entity
from tests.flows.conftest import kill_when, run_activation, writes

pytestmark = pytest.mark.scenario

ENTITIES = (("employee", "employees"), ("customer", "customers"), ("project", "projects"))


def approve(pair, store):
    run_activation(pair)
    decision = ApprovalDecision(decision="approve", approver="kari@ops")
    record_decision.fn(store, pair.tenant, decision, None)


def hold_answers_to_writes(pair, latency_ms=300):
    """Every write is performed, then its answer held: a kill then leaves a created record
    whose id the sync never learnt (the most dangerous moment to die)."""
    for root, prefix in ((pair.tripletex_root, "/v2"), (pair.svenn_root, "/api/v1")):
        httpx.post(
            f"{root}/_admin/faults",
            json={
                "kind": "timeout_after",
                "method": "POST",
                "path_prefix": prefix,
                "latency_ms": latency_ms,
            },
        ).raise_for_status()


def clear_faults(pair):
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/faults").raise_for_status()


def run_and_kill(pair, kill_after_writes: int) -> bool:
    """Start the sync in a subprocess; SIGKILL it after that many writes. True if killed."""
    return kill_when(
        ["flows.initial_sync", pair.tenant],
        lambda: (
            len(writes(pair.tripletex_root)) + len(writes(pair.svenn_root)) >= kill_after_writes
        ),
        within=120,
    )


def assert_consistent(pair, store):
    tenant = pair.tenant
    tx_state = httpx.get(f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state").json()
    sv_state = httpx.get(f"{pair.svenn_root}/_admin/tenants/{tenant}/state").json()
    with store.sessions() as session:
        failed = {(f.entity, f.record_key) for f in open_failures(session, tenant)}
        links = {e: links_for(session, tenant, e.value) for e in Entity}
        assert get_integration(session, tenant).status == "active"
    for entity, plural in ENTITIES:
        linked_tx = Counter(link.tripletex_id for link in links[Entity(entity)])
        linked_sv = Counter(link.svenn_id for link in links[Entity(entity)])
        assert max(linked_tx.values(), default=1) == 1 and max(linked_sv.values(), default=1) == 1
        for record in tx_state[entity]:  # nothing orphaned (created and forgotten) in Tripletex
            key = str(record["id"])
            assert key in linked_tx or (entity, f"tripletex:{key}") in failed, (entity, record)
        for record in sv_state[plural]:  # ... nor in Svenn
            assert record["id"] in linked_sv or (entity, f"svenn:{record['id']}") in failed, (
                entity,
                record,
            )
        refs = Counter(r.get("externalRef") for r in sv_state[plural] if r.get("externalRef"))
        assert max(refs.values(), default=1) == 1


def reset_store(store):
    with store.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def use_pair(pair):
    from config.settings import load_settings

    os.environ["SVENN_SYNC_TRIPLETEX_BASE_URL"] = pair.tripletex_url
    os.environ["SVENN_SYNC_SVENN_BASE_URL"] = pair.svenn_url
    load_settings.cache_clear()


LEASE_SECONDS = 1.0  # a killed run's lease runs out quickly here (120 s by default)


@pytest.fixture
def crash_store(pipeline, state_store, monkeypatch):
    monkeypatch.setenv("SVENN_SYNC_SYNC_LEASE_SECONDS", str(LEASE_SECONDS))
    from config.settings import load_settings

    load_settings.cache_clear()
    yield state_store


@pytest.fixture
def writes_in_a_full_run(crash_store, sandboxes) -> int:
    """How many writes an uninterrupted initial sync of this world makes."""
    reset_store(crash_store)
    with sandbox_pair(world=sandboxes.world) as pair:
        use_pair(pair)
        approve(pair, crash_store)
        asyncio.run(initial_sync(pair.tenant))
        total = len(writes(pair.tripletex_root)) + len(writes(pair.svenn_root))
    assert total >= 2
    return total


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(at=st.floats(min_value=0.0, max_value=1.0))
def test_killed_initial_sync_resumes_without_duplicates_or_losses(
    crash_store, sandboxes, writes_in_a_full_run, at
):
    # Kill while write number 1 .. n-1 of an n-write run is held (performed, not answered).
    kill_after = 1 + round(at * (writes_in_a_full_run - 2))
    reset_store(crash_store)  # each example starts from fresh sandboxes and an empty store
    with sandbox_pair(world=sandboxes.world) as pair:
        use_pair(pair)
        approve(pair, crash_store)
        hold_answers_to_writes(pair)
        assert run_and_kill(pair, kill_after), "the sync finished before the kill"
        clear_faults(pair)
        time.sleep(LEASE_SECONDS + 0.2)  # the dead run's lease runs out; the rerun takes over
        result = asyncio.run(initial_sync(pair.tenant))
        assert result["status"] == "active"
        assert_consistent(pair, crash_store)
        before = len(writes(pair.tripletex_root)) + len(writes(pair.svenn_root))
        asyncio.run(initial_sync(pair.tenant))
        assert len(writes(pair.tripletex_root)) + len(writes(pair.svenn_root)) == before
