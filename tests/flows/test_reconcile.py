"""Nightly reconciliation over both sandboxes: planted drift is repaired and reported, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import httpx
import pytest
from prefect.artifacts import Artifact
from sqlalchemy import delete

from cli.operate import decide
from flows.reconcile import reconcile
from sandboxes.pair import SandboxPair
from store.failures import open_failures
from store.integrations import transition
from store.leases import REALTIME, RECONCILE, acquire_lease, live_lease, release_lease
from store.links import links_for
from store.models import IntegrationStatus, Link
from store.state import StateStore
from sync.records import Entity
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario


def active_tenant(pair: SandboxPair, store: StateStore) -> None:
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "plan checked").endswith("active")


def run_reconcile(tenant: str | None = None) -> dict[str, Any]:
    return asyncio.run(reconcile(tenant))


def store_snapshot(store: StateStore, tenant: str) -> tuple[list[tuple], list[tuple]]:
    """Every link (with its agreed state) and every open failure (with attempts)."""
    with store.sessions() as session:
        links = sorted(
            (e.value, link.svenn_id, link.tripletex_id, link.svenn_fingerprint, link.synced_at)
            for e in (Entity.CUSTOMER, Entity.EMPLOYEE, Entity.PROJECT)
            for link in links_for(session, tenant, e.value)
        )
        failures = sorted(
            (f.record_key, f.reason_code, f.attempts) for f in open_failures(session, tenant)
        )
    return links, failures


def customer_links(store: StateStore, tenant: str) -> list[Link]:
    with store.sessions() as session:
        return links_for(session, tenant, Entity.CUSTOMER.value)


def edit_svenn(pair: SandboxPair, record_id: str, changes: dict[str, Any]) -> None:
    body = {"entity": "customer", "id": record_id, "operation": "update", "changes": changes}
    httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit", json=body).raise_for_status()


def edit_tripletex(pair: SandboxPair, record_id: str | None, changes: dict[str, Any]) -> dict:
    body = {"entity": "customer", "id": record_id, "changes": changes}
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/edit"
    response = httpx.post(url, json=body)
    response.raise_for_status()
    return dict(response.json()["value"])


def svenn_customer(pair: SandboxPair, record_id: str) -> dict:
    state = httpx.get(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/state").json()
    return next(c for c in state["customers"] if str(c["id"]) == record_id)


def tripletex_customer(pair: SandboxPair, record_id: str) -> dict:
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state"
    state = httpx.get(url).json()
    return next(c for c in state["customer"] if str(c["id"]) == record_id)


def re_enable(store: StateStore, tenant: str) -> None:
    """Disabled → review → approved → syncing → active, as ops would bring it back."""
    with store.sessions.begin() as session:
        for status in ("review", "approved", "syncing", "active"):
            transition(session, tenant, IntegrationStatus(status), actor="kari@ops")


def test_reconcile_over_consistent_data_writes_nothing(pipeline, sandboxes, state_store):
    active_tenant(sandboxes, state_store)
    before_tx, before_sv = len(writes(sandboxes.tripletex_root)), len(writes(sandboxes.svenn_root))
    before_store = store_snapshot(state_store, sandboxes.tenant)
    # A realtime tick is in progress: the reconciliation waits for it to let go of the tenant.
    tenant, ttl = sandboxes.tenant, dt.timedelta(minutes=5)
    with state_store.sessions.begin() as session:
        acquire_lease(session, tenant, REALTIME, "realtime-tick", ttl=ttl)

    def tick_ends() -> None:
        with state_store.sessions.begin() as session:
            release_lease(session, tenant, REALTIME, "realtime-tick")

    threading.Timer(3.0, tick_ends).start()

    result = run_reconcile()

    assert result == {sandboxes.tenant: {"drifted": 0, "repaired": 0}}
    assert len(writes(sandboxes.tripletex_root)) == before_tx
    assert len(writes(sandboxes.svenn_root)) == before_sv
    assert store_snapshot(state_store, sandboxes.tenant) == before_store
    with state_store.sessions() as session:  # both leases given back
        assert live_lease(session, tenant, REALTIME, ttl=ttl) is None
        assert live_lease(session, tenant, RECONCILE, ttl=ttl) is None
    report = Artifact.get(f"reconcile-{sandboxes.tenant}")
    assert report is not None and "No drift" in report.data
    pipeline.assert_clean()


def test_drift_planted_on_each_side_is_repaired_reported_and_not_repeated(
    pipeline, sandboxes, state_store
):
    pair, tenant = sandboxes, sandboxes.tenant
    active_tenant(pair, state_store)
    links = customer_links(state_store, tenant)
    edited_sv, edited_tx, unlinked = links[0], links[1], links[2]
    with state_store.sessions.begin() as session:
        transition(session, tenant, IntegrationStatus.DISABLED, actor="kari@ops")
    # While disabled: an edit on each side, a link lost, a customer created only in Tripletex.
    edit_svenn(pair, edited_sv.svenn_id, {"name": "Endret i Svenn AS"})
    edit_tripletex(pair, edited_tx.tripletex_id, {"name": "Endret i Tripletex AS"})
    with state_store.sessions.begin() as session:
        session.execute(delete(Link).where(Link.id == unlinked.id))
    created = edit_tripletex(pair, None, {"name": "Ny kunde mens av AS", "isCustomer": True})
    assert run_reconcile() == {}  # a disabled tenant is not touched
    re_enable(state_store, tenant)

    result = run_reconcile(tenant)

    assert result[tenant] == {"drifted": 4, "repaired": 4}
    assert tripletex_customer(pair, edited_sv.tripletex_id)["name"] == "Endret i Svenn AS"
    assert svenn_customer(pair, edited_tx.svenn_id)["name"] == "Endret i Tripletex AS"
    by_svenn = {link.svenn_id: link.tripletex_id for link in customer_links(state_store, tenant)}
    assert by_svenn[unlinked.svenn_id] == unlinked.tripletex_id
    created_in_svenn = [sv for sv, tx in by_svenn.items() if tx == str(created["id"])]
    assert svenn_customer(pair, created_in_svenn[0])["name"] == "Ny kunde mens av AS"
    table = Artifact.get(f"reconcile-drift-{tenant}")
    assert table is not None
    for kind in ("edited_in_svenn", "edited_in_tripletex", "unlinked_pair", "only_in_tripletex"):
        assert kind in table.data, kind

    before = len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))
    before_store = store_snapshot(state_store, tenant)
    assert run_reconcile(tenant)[tenant] == {"drifted": 0, "repaired": 0}
    assert (len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))) == before
    assert store_snapshot(state_store, tenant) == before_store
    pipeline.assert_clean()
