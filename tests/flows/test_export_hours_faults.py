"""The hours export through 5xx, timeouts and 429s on its batch writes, and killed with kill -9
between a POST and the ledger write: the rerun adopts the entry by its key, never posts twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from flows.export_hours import export_hours
from tests.flows.conftest import kill_when
from tests.flows.test_export_hours import (
    assert_exactly_once,
    export,
    ledger,
    tripletex_entries,
)
from tests.flows.test_initial_sync import activate_and_approve

pytestmark = pytest.mark.scenario

BATCH_WRITES = "/v2/timesheet/entry/list"
FAULTS = [
    {"kind": "500", "count": 2, "method": "POST", "path_prefix": BATCH_WRITES},
    {"kind": "429", "count": 2, "method": "POST", "path_prefix": BATCH_WRITES},
    {"kind": "timeout_after", "count": 1, "method": "POST", "path_prefix": BATCH_WRITES,
     "latency_ms": 3000},
    {"kind": "500", "count": 1, "method": "PUT", "path_prefix": BATCH_WRITES},
    {"kind": "timeout_after", "count": 1, "method": "PUT", "path_prefix": BATCH_WRITES,
     "latency_ms": 3000},
]  # fmt: skip


def add_faults(root: str, faults: list[dict[str, Any]]) -> None:
    for fault in faults:
        httpx.post(f"{root}/_admin/faults", json=fault).raise_for_status()


def posts_of_entries(root: str) -> int:
    rows = httpx.get(f"{root}/_admin/requests", params={"writes_only": "true"}).json()
    return sum(r["method"] == "POST" and r["path"] == BATCH_WRITES for r in rows)


def test_export_rides_out_5xx_timeouts_and_429s_on_batch_writes(
    pipeline, sandboxes, state_store, monkeypatch
):
    from connectors.http import HttpPolicy
    from tasks import tenant as wiring

    monkeypatch.setattr(wiring.WIRING, "policy", HttpPolicy(timeout=1.0, backoff_base=0.05))
    monkeypatch.setenv("SVENN_SYNC_HOURS_BATCH_SIZE", "20")  # several batches, several faults
    from config.settings import load_settings

    load_settings.cache_clear()
    activate_and_approve(sandboxes, state_store)
    add_faults(sandboxes.tripletex_root, FAULTS[:3])
    first = export(sandboxes)
    assert first["entries_created"] > 20
    assert_exactly_once(sandboxes, state_store)
    # updates through faults too: change 25 exported hours
    for hour_id in sorted(ledger(state_store, sandboxes.tenant))[:25]:
        body = {"entity": "hours", "id": hour_id, "operation": "update",
                "changes": {"hours": 2}}  # fmt: skip
        httpx.post(
            f"{sandboxes.svenn_root}/_admin/tenants/{sandboxes.tenant}/edit", json=body
        ).raise_for_status()
    add_faults(sandboxes.tripletex_root, FAULTS[3:])
    second = export(sandboxes)
    assert second["entries_updated"] > 0, second
    remaining = httpx.get(f"{sandboxes.tripletex_root}/_admin/faults").json()
    assert all(f["remaining"] == 0 for f in remaining), remaining  # every fault fired
    assert_exactly_once(sandboxes, state_store)
    pipeline.assert_clean()


def run_and_kill_after_first_post(pair: Any) -> bool:
    """Export in a subprocess; SIGKILL it once its first batch POST was performed (its answer
    is held by the sandbox, so the ledger write has not happened). True if killed."""
    return kill_when(["flows.export_hours", pair.tenant], lambda: bool(tripletex_entries(pair)))


def test_killed_between_the_post_and_the_ledger_write_the_rerun_adopts(
    pipeline, sandboxes, state_store, monkeypatch
):
    monkeypatch.setenv("SVENN_SYNC_SYNC_LEASE_SECONDS", "1")
    from config.settings import load_settings

    load_settings.cache_clear()
    activate_and_approve(sandboxes, state_store)
    add_faults(sandboxes.tripletex_root, [{"kind": "timeout_after", "method": "POST",
               "path_prefix": BATCH_WRITES, "latency_ms": 5000}])  # fmt: skip
    assert run_and_kill_after_first_post(sandboxes), "the export finished before the kill"
    httpx.delete(f"{sandboxes.tripletex_root}/_admin/faults").raise_for_status()
    written = len(tripletex_entries(sandboxes))
    time.sleep(1.2)  # the killed run's lease runs out
    result = asyncio.run(export_hours(tenant=sandboxes.tenant))[sandboxes.tenant]
    assert result["entries_adopted"] == written  # found by key, not posted again
    assert posts_of_entries(sandboxes.tripletex_root) == 1
    assert_exactly_once(sandboxes, state_store)
