"""A busy realtime tick batches its Tripletex updates (``PUT /customer/list``) and reads each
side's changed records in one request; a stale version inside a batch is still handled per
record (re-read, re-merge, retry once)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cli.operate import decide
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.failures import open_failures
from store.links import created_pairs
from sync.records import Entity
from tasks import tenant as tenant_wiring
from tests.flows.conftest import run_activation
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario


def logged(root: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = httpx.get(f"{root}/_admin/requests").json()
    return [r for r in rows if "/token/session" not in r["path"]]


def forget(pair) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()


def ready(pair, store) -> list[tuple[str, str]]:
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    with store.sessions() as session:
        return created_pairs(session, pair.tenant, "customer")


def test_a_busy_tick_batches_tripletex_updates_and_reads_changes_once(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    customers = ready(pair, store)[:7]
    for n, (sv_id, _) in enumerate(customers[:5]):
        svenn_edit(pair, "customer", sv_id, {"phone": f"+479100000{n}"})
    for n, (_, tx_id) in enumerate(customers[5:]):
        tripletex_edit(pair, "customer", tx_id, {"phoneNumber": f"+479200000{n}"})
    forget(pair)
    report = tick(pair, store)

    tx = [(r["method"], r["path"]) for r in logged(pair.tripletex_root)]
    sv = [(r["method"], r["path"]) for r in logged(pair.svenn_root)]
    assert tx.count(("PUT", "/v2/customer/list")) == 1  # five updates, one request
    assert not [r for r in tx if r[0] == "PUT" and r[1] != "/v2/customer/list"]
    # the customer poll, then one ``id=`` read of the changed and touched customers
    assert tx.count(("GET", "/v2/customer")) == 2
    assert sv.count(("GET", "/api/v1/customers")) == 1  # one ``ids=`` read
    assert len([r for r in sv if r[0] == "PATCH"]) == 2  # Svenn has no batch update
    counts = report.entities[Entity.CUSTOMER]
    assert counts.written_to_tripletex == 5 and counts.written_to_svenn == 2

    sv_now, tx_now = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    for n, (_, tx_id) in enumerate(customers[:5]):
        assert tx_now[tx_id]["phoneNumber"] == f"+479100000{n}"
    for n, (sv_id, _) in enumerate(customers[5:]):
        assert sv_now[sv_id]["phone"] == f"+479200000{n}"
    forget(pair)
    assert tick(pair, store).writes == 0  # our batch comes back as an echo: nothing written
    # ... and is not even read back: Tripletex's versions and Svenn's feed versions are the
    # ones our writes answered with
    tx = [(r["method"], r["path"]) for r in logged(pair.tripletex_root)]
    sv = [(r["method"], r["path"]) for r in logged(pair.svenn_root)]
    assert sorted(tx) == [("GET", "/v2/customer"), ("GET", "/v2/employee"), ("GET", "/v2/project")]
    assert sv == [("GET", "/api/v1/changes")]


def test_a_stale_version_inside_a_batch_is_re_read_re_merged_and_retried_per_record(
    pipeline, sandboxes, state_store, monkeypatch
):
    pair, store = sandboxes, state_store
    customers = ready(pair, store)[:3]
    for n, (sv_id, _) in enumerate(customers):
        svenn_edit(pair, "customer", sv_id, {"phone": f"+479300000{n}"})
    _, racing = customers[1]
    raced: list[str] = []

    async def someone_edits_in_tripletex_meanwhile(request: httpx.Request) -> None:
        # an accountant saves the customer between our read and our batch: its version is stale
        if request.method == "PUT" and request.url.path.endswith("/customer/list") and not raced:
            raced.append(racing)
            async with httpx.AsyncClient() as admin:
                url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/edit"
                body = {"entity": "customer", "id": int(racing), "changes": {"email": "r@k.no"}}
                (await admin.post(url, json=body)).raise_for_status()

    checked = dict(tenant_wiring.WIRING.event_hooks or {})
    hooks = checked | {"request": [someone_edits_in_tripletex_meanwhile]}
    monkeypatch.setattr(tenant_wiring.WIRING, "event_hooks", hooks)
    forget(pair)
    tick(pair, store)

    tx_log = logged(pair.tripletex_root)
    refused = [r for r in tx_log if r["path"] == "/v2/customer/list" and r["method"] == "PUT"]
    assert [r["status"] for r in refused] == [409]  # the whole batch, then record by record
    tx_now = tripletex_records(pair, "customer")
    sv_now = svenn_records(pair, "customer")
    for n, (_, tx_id) in enumerate(customers):
        assert tx_now[tx_id]["phoneNumber"] == f"+479300000{n}"
    # the racing edit (another field) survived the re-merge and travelled to Svenn
    assert tx_now[racing]["email"] == "r@k.no"
    assert sv_now[customers[1][0]]["email"] == "r@k.no"
    with store.sessions() as session:
        assert [f for f in open_failures(session, pair.tenant) if f.tripletex_id == racing] == []
    forget(pair)
    monkeypatch.setattr(tenant_wiring.WIRING, "event_hooks", checked)
    assert tick(pair, store).writes == 0
