"""Realtime ticks over both sandboxes after an initial sync: edits travel, conflicts are logged,
deletes follow the table, new records are linked before anything is created, echoes and quiet
ticks write nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

import store.realtime as realtime_store
import tasks.realtime_tick as realtime_tick
from cli.operate import decide
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.failures import open_failures
from store.links import created_pairs, links_for
from store.models import FailedRecord
from sync.records import Entity
from tests.flows.conftest import run_activation, writes
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario


def forget_requests(pair) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()


def linked(store, tenant, entity: Entity, *, created: bool = False) -> list[tuple[str, str]]:
    """Linked (svenn id, tripletex id) pairs; ``created``: only pairs the sync created, whose
    two sides agree on every field (a matched pair may differ, e.g. a typo in a name)."""
    with store.sessions() as session:
        if created:
            return created_pairs(session, tenant, entity.value)
        return [(lk.svenn_id, lk.tripletex_id) for lk in links_for(session, tenant, entity.value)]


def open_rows(store, tenant, code: str | None = None):
    """The tenant's open failed rows (of one reason code, if given)."""
    with store.sessions() as session:
        return [f for f in open_failures(session, tenant) if code in (None, f.reason_code)]


def test_edits_travel_both_ways_conflicts_are_logged_and_a_quiet_tick_writes_nothing(
    pipeline, sandboxes, state_store, monkeypatch
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    forget_requests(pair)
    first = tick(pair, store)  # compares everything once: the initial sync left nothing to do
    assert first.resynced and first.writes == 0
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []

    customers = linked(store, pair.tenant, Entity.CUSTOMER, created=True)
    (sv_a, tx_a), (sv_b, tx_b), (sv_c, tx_c) = customers[:3]
    # different fields on both sides of one customer; the same field on another
    svenn_edit(pair, "customer", sv_a, {"phone": "+4799887766"})
    tripletex_edit(pair, "customer", tx_a, {"name": "Nytt Navn Fra Regnskap AS"})
    svenn_edit(pair, "customer", sv_b, {"email": "fra.svenn@example.no"})
    tripletex_edit(pair, "customer", tx_b, {"email": "fra.tripletex@example.no"})
    # only Tripletex inactivates customers: its inactivation reaches Svenn
    tripletex_edit(pair, "customer", tx_c, {"isInactive": True})
    report = tick(pair, store)
    counts = report.entities[Entity.CUSTOMER]
    assert counts.conflicts == 1

    sv, tx = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    assert tx[tx_a]["phoneNumber"] == "+4799887766"
    assert sv[sv_a]["name"] == "Nytt Navn Fra Regnskap AS"
    assert sv[sv_b]["email"] == tx[tx_b]["email"] == "fra.tripletex@example.no"  # Tripletex wins
    assert sv[sv_c]["active"] is False
    # (the initial sync logged the matched pairs that differed when linked; this one is new)
    (conflict,) = [
        r
        for r in open_rows(store, pair.tenant, "FIELD_CONFLICT")
        if "was changed in both systems" in r.message_en
    ]
    assert conflict.svenn_id == sv_b and conflict.tripletex_id == tx_b
    assert "fra.svenn@example.no" in conflict.message_en and conflict.message_no
    assert conflict.payload is not None

    forget_requests(pair)
    echo = tick(pair, store)  # our own writes come back through the feed and the digest
    assert echo.writes == 0
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []

    # A poll's id/version list (every record of the entity) is read only when its poll
    # changed: a quiet tick, all 304s, reads none of them.
    lists_read: list[str] = []

    def poll_versions(session, tenant, entity):
        lists_read.append(entity)
        return realtime_store.poll_versions(session, tenant, entity)

    monkeypatch.setattr(realtime_tick, "poll_versions", poll_versions)
    quiet = tick(pair, store)
    assert quiet.writes == 0 and lists_read == []
    tripletex_edit(pair, "customer", tx_a, {"name": "Navnet Endret Igjen AS"})
    tick(pair, store)
    assert lists_read == ["customer"]
    assert svenn_records(pair, "customer")[sv_a]["name"] == "Navnet Endret Igjen AS"


def test_new_records_link_before_they_create_and_failures_resolve_when_fixed(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    before = len(linked(store, pair.tenant, Entity.CUSTOMER))
    # the same new company entered in both systems within the same minute
    svenn_edit(
        pair, "customer", None, {"name": "Dobbel Registrert AS", "organizationNumber": "914778271"}
    )
    tripletex_edit(
        pair, "customer", None, {"name": "Dobbel Registrert AS", "organizationNumber": "914778271"}
    )
    # a new employee without a last name fails Svenn's rule, then is fixed
    person = svenn_edit(pair, "employee", None, {"firstName": "Ola", "email": "ola@nybygg.no"})
    assert person is not None
    # a new Tripletex project becomes a Svenn project
    tx_project = tripletex_edit(
        pair,
        "project",
        None,
        {
            "name": "Nytt Bad",
            "startDate": "2026-11-01",
            "projectManager": {"id": _owner(pair, store)},
        },
    )
    assert tx_project is not None
    tick(pair, store)

    assert len(linked(store, pair.tenant, Entity.CUSTOMER)) == before + 1
    named = [
        r for r in svenn_records(pair, "customer").values() if r["name"] == "Dobbel Registrert AS"
    ]
    assert len(named) == 1
    named_tx = [
        r
        for r in tripletex_records(pair, "customer").values()
        if r["name"] == "Dobbel Registrert AS"
    ]
    assert len(named_tx) == 1
    (_row,) = [
        f
        for f in open_rows(store, pair.tenant, "EMPLOYEE_NO_LAST_NAME")
        if f.svenn_id == person["id"]
    ]
    projects = dict(linked(store, pair.tenant, Entity.PROJECT))
    assert str(tx_project["id"]) in projects.values()

    svenn_edit(pair, "employee", person["id"], {"lastName": "Nordmann"})
    tick(pair, store)
    assert person["id"] in dict(linked(store, pair.tenant, Entity.EMPLOYEE))
    with store.sessions() as session:
        rows = [f for f in open_failures(session, pair.tenant) if f.svenn_id == person["id"]]
    assert rows == []  # resolved, not just superseded
    with store.sessions() as session:
        closed = session.scalars(
            select(FailedRecord).where(
                FailedRecord.tenant == pair.tenant, FailedRecord.svenn_id == person["id"]
            )
        ).all()
    assert closed and all(f.status == "resolved" and f.resolved_at for f in closed)
    forget_requests(pair)
    assert tick(pair, store).writes == 0
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []


def test_deletes_and_closings_follow_the_table(pipeline, sandboxes, state_store):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    projects = linked(store, pair.tenant, Entity.PROJECT, created=True)
    (sv_p1, tx_p1), (sv_p2, tx_p2) = projects[:2]
    customers = linked(store, pair.tenant, Entity.CUSTOMER)
    svenn_edit(pair, "project", sv_p1, operation="deactivate")  # closed in Svenn
    tripletex_edit(pair, "project", tx_p2, {"isClosed": True})  # closed in Tripletex
    deletable = _unreferenced_svenn_customer(pair, customers)
    if deletable:
        svenn_edit(pair, "customer", deletable[0], operation="delete")
    tick(pair, store)
    assert tripletex_records(pair, "project")[tx_p1]["isClosed"] is True
    assert svenn_records(pair, "project")[sv_p2]["status"] == "closed"
    if deletable:
        sv_id, tx_id = deletable
        assert tripletex_records(pair, "customer")[tx_id].get("isInactive") in (None, False)
        rows = open_rows(store, pair.tenant, "DELETE_NOT_SYNCED")
        assert [r.svenn_id for r in rows] == [sv_id]
        assert sv_id not in dict(linked(store, pair.tenant, Entity.CUSTOMER))
    forget_requests(pair)
    assert tick(pair, store).writes == 0


def _owner(pair, store) -> int:
    """A Tripletex employee the initial sync linked who manages a project already (one it held
    back cannot manage a synced project; one without project-manager access is refused)."""
    employees = {tx for _, tx in linked(store, pair.tenant, Entity.EMPLOYEE)}
    managers = {
        str((p.get("projectManager") or {}).get("id"))
        for p in tripletex_records(pair, "project").values()
    }
    return int(min(employees & managers, key=int))


def _unreferenced_svenn_customer(pair, customers):
    used = {p.get("customerId") for p in svenn_records(pair, "project").values()}
    for sv_id, tx_id in customers:
        if sv_id not in used:
            return sv_id, tx_id
    return None


def add_fault(root: str, **spec) -> None:
    httpx.post(f"{root}/_admin/faults", json=spec).raise_for_status()


def test_429_5xx_and_timeouts_during_a_tick_are_ridden_out_or_retried_next_tick(
    pipeline, sandboxes, state_store
):
    from flows.realtime_sync import realtime_sync
    from store.integrations import get_integration

    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    (sv_a, tx_a), (sv_b, tx_b) = linked(store, pair.tenant, Entity.CUSTOMER, created=True)[:2]
    svenn_edit(pair, "customer", sv_a, {"phone": "+4790000001"})
    tripletex_edit(pair, "customer", tx_b, {"phoneNumber": "+4790000002"})
    # a few of each: the HTTP policy's retries ride them out within the tick
    add_fault(pair.tripletex_root, kind="429", count=2, path_prefix="/v2/customer")
    add_fault(pair.svenn_root, kind="500", count=2, path_prefix="/api/v1/changes")
    add_fault(pair.tripletex_root, kind="timeout", count=1, method="PUT", latency_ms=200)
    tick(pair, store)
    assert tripletex_records(pair, "customer")[tx_a]["phoneNumber"] == "+4790000001"
    assert svenn_records(pair, "customer")[sv_b]["phone"] == "+4790000002"

    # Svenn down for longer than the retries: the tenant's tick fails visibly, commits nothing,
    # and the next tick (Svenn back) does the work
    svenn_edit(pair, "customer", sv_a, {"phone": "+4790000003"})
    add_fault(pair.svenn_root, kind="503", rate=1.0)
    summary = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))
    assert pair.tenant in summary["tenants_failed"]
    with store.sessions() as session:
        assert "Svenn failed during the tick" in get_integration(session, pair.tenant).last_error
    httpx.delete(f"{pair.svenn_root}/_admin/faults").raise_for_status()
    summary = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))
    assert summary["tenants_failed"] == {}
    assert tripletex_records(pair, "customer")[tx_a]["phoneNumber"] == "+4790000003"
    with store.sessions() as session:
        integration = get_integration(session, pair.tenant)
        assert integration.last_error is None and integration.realtime_ok_at is not None


def test_a_new_svenn_duplicate_of_a_synced_customer_is_held_back_not_created(
    pipeline, sandboxes, state_store
):
    """A second Svenn record of a company already synced (same e-mail, no org number) appears
    after activation: it is held back as DUPLICATE_IN_SOURCE, naming the synced one, and the
    company does not appear twice in Tripletex (issue 11's rule, in the realtime path)."""
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    records = svenn_records(pair, "customer")
    synced = next(
        sv_id
        for sv_id, _ in linked(store, pair.tenant, Entity.CUSTOMER)
        if records[sv_id].get("email") and "@" in records[sv_id]["email"]
    )
    tripletex_before = len(tripletex_records(pair, "customer"))
    twin = svenn_edit(
        pair,
        "customer",
        None,
        {"name": records[synced]["name"].upper(), "email": records[synced]["email"]},
    )
    assert twin is not None
    forget_requests(pair)
    tick(pair, store)

    (row,) = [
        f for f in open_rows(store, pair.tenant, "DUPLICATE_IN_SOURCE") if f.svenn_id == twin["id"]
    ]
    assert synced in row.message_en and synced in row.message_no
    assert len(tripletex_records(pair, "customer")) == tripletex_before
    assert not [w for w in writes(pair.tripletex_root) if "/customer" in w["path"]]

    # A new Tripletex project of a customer the sync held back cannot be created in Svenn: its
    # failed row stays open (the tick used to close it as "synced" in the same commit).
    held_back = {f.tripletex_id for f in open_rows(store, pair.tenant) if f.tripletex_id}
    customer = next(
        tx_id
        for tx_id, record in sorted(tripletex_records(pair, "customer").items())
        if tx_id in held_back and not record.get("isInactive")
    )
    project = tripletex_edit(
        pair,
        "project",
        None,
        {
            "name": "Tak Over Holdt Kunde",
            "startDate": "2026-11-01",
            "projectManager": {"id": _owner(pair, store)},
            "customer": {"id": int(customer)},
        },
    )
    assert project is not None
    tick(pair, store)
    assert [
        f.reason_code for f in open_rows(store, pair.tenant) if f.tripletex_id == str(project["id"])
    ] == ["PROJECT_CUSTOMER_NOT_LINKED"]
