"""Two records a match links agree on every synced field from then on.

A match joins records by a key (org number, e-mail, name and date of birth); their other fields
may differ. The pair is aligned where it is linked, by the rules a person's link follows: a
field one side lacks is copied, a difference keeps the precedence winner's value and the
overwritten one is an open ``FIELD_CONFLICT`` row that says the two differed when linked. Were
the pair stored as agreeing instead, no later tick would ever see the difference.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cli.operate import decide
from flows.reconcile import reconcile
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.failures import open_failures
from store.links import links_for
from sync.merge import agreed, same_value
from sync.records import SYNC_ORDER, Entity, Record
from tasks.tenant import tenant_clients
from tests.flows.conftest import run_activation, writes
from tests.flows.realtime_support import tick
from tests.flows.test_realtime_properties import new_org_number

pytestmark = pytest.mark.scenario

LINKED = "differed between the two systems when the sync linked them"


def pairs_that_differ(pair: Any, store: Any) -> dict[str, list[tuple[str, str]]]:
    """Per entity: linked pairs whose records (read through the connectors, as the sync reads
    them) would still need a write to agree."""

    async def read() -> dict[Entity, tuple[dict[str, Record], dict[str, Record]]]:
        out = {}
        async with tenant_clients(pair.tenant) as (tx, sv):
            for entity in SYNC_ORDER:
                tx_all = await tx.list(entity)
                sv_all = await sv.list(entity)
                out[entity] = ({str(r.id): r for r in sv_all}, {str(r.id): r for r in tx_all})
        return out

    records = asyncio.run(read())
    found: dict[str, list[tuple[str, str]]] = {}
    with store.sessions() as session:
        for entity in SYNC_ORDER:
            sv, tx = records[entity]
            for link in links_for(session, pair.tenant, entity.value):
                left, right = sv.get(link.svenn_id), tx.get(link.tripletex_id)
                if left is None or right is None:
                    continue
                if not agreed(entity, left.synced_fields(), right.synced_fields()):
                    found.setdefault(entity.value, []).append((link.svenn_id, link.tripletex_id))
    return found


def linked_conflicts(store: Any, tenant: str) -> list[Any]:
    with store.sessions() as session:
        return [
            f
            for f in open_failures(session, tenant)
            if f.reason_code == "FIELD_CONFLICT" and LINKED in f.message_en
        ]


def test_initial_sync_aligns_matched_pairs_and_logs_each_overwritten_value(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")

    assert pairs_that_differ(pair, store) == {}
    rows = linked_conflicts(store, pair.tenant)
    assert rows, "the seeded world matches customers whose names and phones differ"
    row = rows[0]
    assert row.message_no and "koblet" in row.message_no
    assert row.target_error and row.target_error["conflicts"]  # the lost value is kept
    with store.sessions() as session:  # every link is stored agreed after the run
        assert all(
            lk.svenn_fingerprint and lk.tripletex_fingerprint
            for entity in SYNC_ORDER
            for lk in links_for(session, pair.tenant, entity.value)
        )
    before = len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))
    assert tick(pair, store).writes == 0  # nothing left for realtime to find
    asyncio.run(reconcile(pair.tenant))
    assert (len(writes(pair.tripletex_root)), len(writes(pair.svenn_root))) == before


def test_a_tick_that_links_two_new_records_aligns_them_in_the_same_tick(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    tick(pair, store)
    org = new_org_number()
    tx_new = tripletex_edit(
        pair,
        "customer",
        None,
        {"name": "Fjordbygg AS", "organizationNumber": org, "phoneNumber": "+4791111111"},
    )
    sv_new = svenn_edit(
        pair,
        "customer",
        None,
        {"name": "FJORDBYGG A/S", "organizationNumber": org, "email": "post@fjordbygg.no"},
    )
    assert tx_new is not None and sv_new is not None
    report = tick(pair, store)
    assert report.entities[Entity.CUSTOMER].linked == 1

    sv = svenn_records(pair, "customer")[sv_new["id"]]
    tx = tripletex_records(pair, "customer")[str(tx_new["id"])]
    assert sv["name"] == tx["name"] == "Fjordbygg AS"  # Tripletex wins the difference
    assert tx["email"] == "post@fjordbygg.no"  # a field one side lacks is copied
    assert sv["phone"] == "+4791111111"
    (row,) = [r for r in linked_conflicts(store, pair.tenant) if r.svenn_id == sv_new["id"]]
    assert "FJORDBYGG A/S" in row.message_en
    assert pairs_that_differ(pair, store) == {}
    assert tick(pair, store).writes == 0  # our own writes come back as echoes


def test_reconciliation_aligns_a_pair_it_links_again(pipeline, sandboxes, state_store):
    """A lost link (the store lost it, a create's answer never came) is found again by the
    nightly run; if the two drifted apart meanwhile, they are aligned there too."""
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    tx_all = tripletex_records(pair, "customer")
    with store.sessions.begin() as session:
        link = next(  # one the org number finds again
            lk
            for lk in links_for(session, pair.tenant, "customer")
            if tx_all[lk.tripletex_id].get("organizationNumber")
        )
        sv_id, tx_id = link.svenn_id, link.tripletex_id
        session.delete(link)
    # edited in Svenn while no link covered it: the two now differ
    svenn_edit(pair, "customer", sv_id, {"phone": "+4792222222"})
    asyncio.run(reconcile(pair.tenant))

    with store.sessions() as session:
        links = {lk.svenn_id: lk.tripletex_id for lk in links_for(session, pair.tenant, "customer")}
    assert links.get(sv_id) == tx_id
    assert pairs_that_differ(pair, store) == {}
    sv_phone = svenn_records(pair, "customer")[sv_id]["phone"]
    tx_phone = tripletex_records(pair, "customer")[tx_id].get("phoneNumber")
    assert same_value("phone", sv_phone, tx_phone)
