"""Retrying failed records: a record fixed at its source syncs and its row is resolved (who,
when); one still broken stays open with attempts + 1; a rerun of the initial sync resolves the
rows of records it syncs, TARGET_UNAVAILABLE ones included."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from cli.operate import decide
from connectors.http import HttpPolicy
from connectors.svenn.client import SvennClient
from flows.initial_sync import initial_sync
from flows.retry_failed import retry_failed
from sandboxes.live_edits import svenn_edit
from store.failures import find_failures
from store.models import FailedRecord
from sync.entities import Customer
from sync.records import Entity
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario


def rows(store, tenant, **filters) -> list[FailedRecord]:
    with store.sessions() as session:
        found, _ = find_failures(session, tenant, status=None, **filters)
        session.expunge_all()
        return found


def activate_and_approve(sandboxes, state_store) -> None:
    run_activation(sandboxes)
    assert decide(state_store, sandboxes.tenant, "approve", "kari@ops", "").endswith("active")


async def clear_customer_number(sandboxes, svenn_id: str) -> None:
    async with SvennClient(sandboxes.svenn_url, sandboxes.svenn_api_key) as sv:
        (customer,) = await sv.get_many(Entity.CUSTOMER, [svenn_id])
        assert isinstance(customer, Customer)
        await sv.update(customer.model_copy(update={"customer_number": None}))


def test_retry_resolves_a_record_fixed_at_its_source_and_keeps_a_broken_one_open(
    pipeline, sandboxes, state_store
):
    planted = [  # two Svenn-only companies whose customer numbers Tripletex cannot take
        svenn_edit(
            sandboxes,
            "customer",
            None,
            {"name": f"Bokstavnummer {n} AS", "customerNumber": f"K-{n}", "email": f"k{n}@bn.no"},
        )
        for n in (1, 2)
    ]
    activate_and_approve(sandboxes, state_store)
    broken = rows(state_store, sandboxes.tenant, reason="CUSTOMER_NUMBER_NOT_NUMERIC")
    by_id = {r.svenn_id: r for r in broken if r.direction == "svenn_to_tripletex"}
    assert all(p is not None and p["id"] in by_id for p in planted), [r.record_key for r in broken]
    fixed, still = (by_id[p["id"]] for p in planted if p is not None)
    asyncio.run(clear_customer_number(sandboxes, fixed.svenn_id))
    creates_before = len(writes(sandboxes.tripletex_root))

    result = asyncio.run(
        retry_failed(sandboxes.tenant, reason="CUSTOMER_NUMBER_NOT_NUMERIC", retried_by="ola@ops")
    )

    after = {r.id: r for r in rows(state_store, sandboxes.tenant, ids=[fixed.id, still.id])}
    assert after[fixed.id].status == "resolved"
    assert after[fixed.id].resolved_by.startswith("ola@ops")
    assert after[fixed.id].resolved_at is not None
    assert after[still.id].status == "open"
    assert after[still.id].attempts == still.attempts + 1
    assert result[sandboxes.tenant]["resolved"] >= 1
    assert len(writes(sandboxes.tripletex_root)) > creates_before  # the fixed one was created
    with state_store.sessions() as session:
        from store.links import links_for

        linked = {link.svenn_id for link in links_for(session, sandboxes.tenant, "customer")}
    assert fixed.svenn_id in linked and still.svenn_id not in linked


def test_a_rerun_resolves_rows_the_target_was_unavailable_for(
    pipeline, sandboxes, state_store, monkeypatch
):
    from tasks import tenant as wiring

    monkeypatch.setattr(wiring.WIRING, "policy", HttpPolicy(max_retries=0, backoff_base=0.01))
    run_activation(sandboxes)
    fault = {"kind": "500", "count": 1000, "method": "POST", "path_prefix": "/api/v1/customers"}
    httpx.post(f"{sandboxes.svenn_root}/_admin/faults", json=fault).raise_for_status()
    decide(state_store, sandboxes.tenant, "approve", "kari@ops", "")
    unavailable = rows(state_store, sandboxes.tenant, reason="TARGET_UNAVAILABLE")
    assert unavailable and all(r.status == "open" for r in unavailable)
    httpx.delete(f"{sandboxes.svenn_root}/_admin/faults").raise_for_status()

    result = asyncio.run(initial_sync(sandboxes.tenant))

    assert result["status"] == "active"
    again = rows(state_store, sandboxes.tenant, ids=[r.id for r in unavailable])
    assert {r.status for r in again} == {"resolved"}
    assert all(r.resolved_by.startswith("initial-sync") for r in again)
    assert_no_open_row_for_a_linked_record(state_store, sandboxes.tenant)


def assert_no_open_row_for_a_linked_record(store, tenant) -> None:
    """A record that is linked is synced: no open row may still say it failed (the after-sync
    checks are the exception: they flag linked pairs on purpose; so is a FIELD_CONFLICT, the
    notice of a value overwritten on a pair that synced)."""
    from store.links import links_for

    with store.sessions() as session:
        linked = {
            (entity, key)
            for entity in ("customer", "employee", "project")
            for link in links_for(session, tenant, entity)
            for key in (f"svenn:{link.svenn_id}", f"tripletex:{link.tripletex_id}")
        }
    stale = [
        (r.entity, r.record_key, r.reason_code)
        for r in rows_open(store, tenant)
        if (r.entity, r.record_key) in linked
        and r.reason_code not in ("EXPECTATION_FAILED", "FIELD_CONFLICT")
    ]
    assert not stale


def rows_open(store, tenant) -> list[FailedRecord]:
    with store.sessions() as session:
        found, _ = find_failures(session, tenant)
        session.expunge_all()
        return found
