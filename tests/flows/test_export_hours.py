"""The hours export end to end: real flow runs against both sandboxes and the state store."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from prefect.artifacts import Artifact

from flows.export_hours import export_hours
from sandboxes.pair import admin_tls
from store.failures import open_failures
from store.models import FailedRecord, HoursLedger
from tests.flows.test_initial_sync import activate_and_approve

pytestmark = pytest.mark.scenario


def export(pair: Any, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(export_hours(tenant=pair.tenant, **options))
    return result[pair.tenant]


def tripletex_entries(pair: Any) -> list[dict[str, Any]]:
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state"
    return list(httpx.get(url, verify=admin_tls()).json()["timesheetEntry"])  # polled: kill_when


def svenn_hours(pair: Any) -> dict[str, dict[str, Any]]:
    state = httpx.get(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/state").json()
    return {h["id"]: h for h in state["hours"]}


def svenn_edit(pair: Any, hour_id: str | None, operation: str, **changes: Any) -> Any:
    body = {"entity": "hours", "id": hour_id, "operation": operation, "changes": changes}
    response = httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit", json=body)
    response.raise_for_status()
    return response.json()["record"]


def lock_month(pair: Any, month: str, locked: bool) -> None:
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/timesheet/month"
    httpx.post(url, json={"month": month, "locked": locked}).raise_for_status()


def entry_key(entry: dict[str, Any]) -> tuple[str, str, str, str]:
    return (str(entry["employee"]["id"]), entry["date"], str(entry["project"]["id"]),
            str(entry["activity"]["id"]))  # fmt: skip


def requests_to(root: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{root}/_admin/requests").json())


def clear_requests(pair: Any) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()


def ledger(store: Any, tenant: str) -> dict[str, HoursLedger]:
    with store.sessions() as session:
        rows = session.query(HoursLedger).filter_by(tenant=tenant).all()
        return {r.svenn_hour_id: r for r in rows}


def open_hours_failures(store: Any, tenant: str) -> dict[str, FailedRecord]:
    with store.sessions() as session:
        return {f.record_key: f for f in open_failures(session, tenant, entity="hours")}


def assert_exactly_once(pair: Any, store: Any) -> None:
    """Each entry holds the approved Svenn hours the ledger puts on it; no key twice; every
    approved hour is in an entry or has an open failed record saying why."""
    entries = tripletex_entries(pair)
    keys = Counter(
        (e["employee"]["id"], e["date"], e["project"]["id"], e["activity"]["id"]) for e in entries
    )
    assert max(keys.values(), default=1) == 1
    hours = svenn_hours(pair)
    rows = ledger(store, pair.tenant)
    failed = open_hours_failures(store, pair.tenant)
    per_key: dict[tuple[Any, ...], Decimal] = {}
    for hour_id, row in rows.items():
        assert hours[hour_id]["status"] == "approved" or f"svenn:{hour_id}" in failed
        key = (int(row.employee_id), row.entry_date.isoformat(), int(row.project_id),
               int(row.activity_id))  # fmt: skip
        per_key[key] = per_key.get(key, Decimal(0)) + Decimal(str(row.hours))
    by_key = {
        (e["employee"]["id"], e["date"], e["project"]["id"], e["activity"]["id"]): e
        for e in entries
    }
    for key, total in per_key.items():
        assert Decimal(str(by_key[key]["hours"])) == total, key
    for hour_id, hour in hours.items():
        if hour["status"] == "approved":
            assert hour_id in rows or f"svenn:{hour_id}" in failed, hour


def test_approved_hours_are_sent_once_and_a_quiet_run_reads_once_per_side(
    pipeline, sandboxes, state_store
):
    activate_and_approve(sandboxes, state_store)
    first = export(sandboxes)
    assert first["entries_created"] > 0 and first["hours_sent"] >= first["entries_created"]
    assert_exactly_once(sandboxes, state_store)
    failed = open_hours_failures(state_store, sandboxes.tenant)
    assert {f.reason_code for f in failed.values()} <= {"HOURS_ZERO", "HOURS_NO_PROJECT",
        "HOURS_EMPLOYEE_NOT_LINKED", "HOURS_PROJECT_NOT_LINKED", "HOURS_NO_ACTIVITY"}  # fmt: skip
    artifact = Artifact.get("hours-export-t-demo")
    assert artifact is not None and "Approved hours per employee" in str(artifact.data)
    clear_requests(sandboxes)
    quiet = export(sandboxes)
    assert quiet["entries_created"] == quiet["entries_updated"] == quiet["entries_deleted"] == 0
    assert [r["path"] for r in requests_to(sandboxes.svenn_root)] == ["/api/v1/changes"]
    assert requests_to(sandboxes.tripletex_root) == []
    pipeline.assert_clean()


def test_edits_moves_unapprovals_and_deletes_in_svenn_follow_to_tripletex(
    pipeline, sandboxes, state_store
):
    activate_and_approve(sandboxes, state_store)
    export(sandboxes)
    sent = sorted(ledger(state_store, sandboxes.tenant))
    edited, moved, withdrawn, deleted = sent[:4]
    svenn_edit(sandboxes, edited, "update", hours=3.25, comment="Justert")
    day = dt.date.fromisoformat(svenn_hours(sandboxes)[moved]["date"]) + dt.timedelta(days=1)
    svenn_edit(sandboxes, moved, "update", date=day.isoformat())
    svenn_edit(sandboxes, withdrawn, "unapprove")
    svenn_edit(sandboxes, deleted, "delete")
    new = svenn_edit(sandboxes, None, "create", **{**_copy(svenn_hours(sandboxes)[edited]),
                     "status": "submitted"})  # fmt: skip
    svenn_edit(sandboxes, new["id"], "approve")
    result = export(sandboxes)
    assert result["entries_updated"] + result["entries_created"] + result["entries_deleted"] > 0
    rows = ledger(state_store, sandboxes.tenant)
    assert withdrawn not in rows and deleted not in rows and new["id"] in rows
    assert rows[moved].entry_date == day and rows[edited].hours == Decimal("3.25")
    assert_exactly_once(sandboxes, state_store)
    pipeline.assert_clean()


def _copy(hour: dict[str, Any]) -> dict[str, Any]:
    keep = ("employeeId", "projectId", "activityId", "date", "hours", "comment")
    return {k: hour[k] for k in keep}


def test_a_locked_period_is_refused_with_its_message_and_resolves_after_reopening(
    pipeline, sandboxes, state_store
):
    activate_and_approve(sandboxes, state_store)
    export(sandboxes)
    hour_id = sorted(ledger(state_store, sandboxes.tenant))[0]
    month = ledger(state_store, sandboxes.tenant)[hour_id].entry_date.strftime("%Y-%m")
    lock_month(sandboxes, month, True)
    svenn_edit(sandboxes, hour_id, "update", hours=1.5)
    locked = export(sandboxes)
    assert locked["held_back"] >= 1
    failure = open_hours_failures(state_store, sandboxes.tenant)[f"svenn:{hour_id}"]
    assert failure.reason_code == "HOURS_LOCKED" and month in failure.message_en
    assert month in failure.message_no
    lock_month(sandboxes, month, False)
    export(sandboxes)
    assert f"svenn:{hour_id}" not in open_hours_failures(state_store, sandboxes.tenant)
    assert ledger(state_store, sandboxes.tenant)[hour_id].hours == Decimal("1.5")
    assert_exactly_once(sandboxes, state_store)


def test_a_hand_change_in_tripletex_is_logged_and_svenn_wins(pipeline, sandboxes, state_store):
    activate_and_approve(sandboxes, state_store)
    export(sandboxes)
    row = ledger(state_store, sandboxes.tenant)[sorted(ledger(state_store, sandboxes.tenant))[0]]
    key = (row.employee_id, row.entry_date.isoformat(), row.project_id, row.activity_id)
    entry = next(e for e in tripletex_entries(sandboxes) if entry_key(e) == key)
    url = f"{sandboxes.tripletex_root}/_admin/companies/{sandboxes.company_id}/edit"
    edit = {"entity": "timesheetEntry", "id": entry["id"], "changes": {"hours": 23}}
    httpx.post(url, json=edit).raise_for_status()
    result = export(sandboxes, date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 12, 31))
    assert result["changed_by_hand"] == 1
    with state_store.sessions() as session:
        logged = (
            session.query(FailedRecord).filter_by(reason_code="HOURS_CHANGED_IN_TRIPLETEX").all()
        )
    assert logged and all(f.status == "resolved" for f in logged)
    assert "23" in logged[0].message_en
    assert_exactly_once(sandboxes, state_store)
