"""Deletes are final until a person acts: after a record is deleted on one side, the ticks that
follow, the nightly reconciliation and a restart in between never create or link it again.

Every entity is deleted on both sides, on two generated worlds, and each row of the README's
delete table is checked after three ticks and a reconciliation run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from cli.operate import decide
from config.settings import load_settings
from flows.reconcile import reconcile
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from sandboxes.pair import SandboxPair, sandbox_pair
from store.failures import open_failures
from store.links import links_for
from store.state import StateStore
from sync.records import Entity
from tests.flows.conftest import run_activation, writes
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario

ENTITIES = (Entity.CUSTOMER, Entity.EMPLOYEE, Entity.PROJECT)


@pytest.fixture(params=[7, 23], ids=["seed-7", "seed-23"])
def sandboxes(request: pytest.FixtureRequest) -> Iterator[SandboxPair]:
    with sandbox_pair(size="small", seed=request.param) as pair:
        yield pair


def links(store: StateStore, tenant: str, entity: Entity) -> dict[str, str]:
    """Svenn id → Tripletex id of the stored links."""
    with store.sessions() as session:
        return {lk.svenn_id: lk.tripletex_id for lk in links_for(session, tenant, entity.value)}


def restarted(store: StateStore) -> StateStore:
    """The same database through a new engine, as a new process would open it."""
    return StateStore.from_settings(load_settings())


def referenced(pair: SandboxPair) -> dict[Entity, set[str]]:
    """Tripletex ids used by a project (its customer, its manager) or by hours: a person would
    not delete those, and Svenn refuses to."""
    used: dict[Entity, set[str]] = {Entity.CUSTOMER: set(), Entity.EMPLOYEE: set()}
    used[Entity.PROJECT] = set()
    for project in tripletex_records(pair, "project").values():
        for field, entity in (("customer", Entity.CUSTOMER), ("projectManager", Entity.EMPLOYEE)):
            ref = (project.get(field) or {}).get("id")
            if ref is not None:
                used[entity].add(str(ref))
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state"
    for entry in httpx.get(url).json().get("timesheetEntry", []):
        for field, entity in (("project", Entity.PROJECT), ("employee", Entity.EMPLOYEE)):
            ref = (entry.get(field) or {}).get("id")
            if ref is not None:
                used[entity].add(str(ref))
    return used


def delete_in_svenn(pair: SandboxPair, entity: Entity, candidates: list[tuple[str, str]]):
    """Delete the first candidate Svenn lets a person delete; its (svenn id, tripletex id)."""
    for sv_id, tx_id in candidates:
        try:
            svenn_edit(pair, entity.value, sv_id, operation="delete")
        except httpx.HTTPStatusError:
            continue  # used by another record (Svenn answers 409)
        return sv_id, tx_id
    raise AssertionError(f"no {entity.value} of this world can be deleted in Svenn")


def plant_deletes(pair: SandboxPair, store: StateStore) -> dict[tuple[Entity, str], tuple]:
    """One linked record of each entity deleted on each side; (entity, side) → (sv, tx)."""
    used = referenced(pair)
    deleted = {}
    for entity in ENTITIES:
        free = sorted(
            (sv, tx)
            for sv, tx in links(store, pair.tenant, entity).items()
            if tx not in used[entity]
        )
        assert free, entity
        sv_id, tx_id = free[0]
        tripletex_edit(pair, entity.value, tx_id, delete=True)
        deleted[(entity, "tripletex")] = (sv_id, tx_id)
        others = [p for p in links(store, pair.tenant, entity).items() if p != free[0]]
        others.sort(key=lambda p: (p not in free, p))  # unreferenced ones first
        deleted[(entity, "svenn")] = delete_in_svenn(pair, entity, others)
    return deleted


def counts(pair: SandboxPair) -> dict[tuple[Entity, str], int]:
    return {
        (entity, side): len(read(pair, entity.value))
        for entity in ENTITIES
        for side, read in (("svenn", svenn_records), ("tripletex", tripletex_records))
    }


def assert_table_holds(pair: SandboxPair, store: StateStore, deleted) -> None:
    """The README's delete table, row by row; no link covers a deleted record or survivor."""
    sv = {e: svenn_records(pair, e.value) for e in ENTITIES}
    tx = {e: tripletex_records(pair, e.value) for e in ENTITIES}
    sv_id, tx_id = deleted[(Entity.CUSTOMER, "tripletex")]
    assert tx_id not in tx[Entity.CUSTOMER] and sv[Entity.CUSTOMER][sv_id]["active"] is False
    sv_id, tx_id = deleted[(Entity.CUSTOMER, "svenn")]
    assert sv_id not in sv[Entity.CUSTOMER]
    assert tx[Entity.CUSTOMER][tx_id].get("isInactive") in (None, False)
    sv_id, tx_id = deleted[(Entity.EMPLOYEE, "tripletex")]
    assert tx_id not in tx[Entity.EMPLOYEE] and sv[Entity.EMPLOYEE][sv_id]["active"] is False
    sv_id, tx_id = deleted[(Entity.EMPLOYEE, "svenn")]
    assert sv_id not in sv[Entity.EMPLOYEE] and tx_id in tx[Entity.EMPLOYEE]
    sv_id, tx_id = deleted[(Entity.PROJECT, "tripletex")]
    assert tx_id not in tx[Entity.PROJECT] and sv[Entity.PROJECT][sv_id]["status"] == "closed"
    sv_id, tx_id = deleted[(Entity.PROJECT, "svenn")]
    assert sv_id not in sv[Entity.PROJECT] and tx[Entity.PROJECT][tx_id]["isClosed"] is True
    with store.sessions() as session:
        notices = {
            (f.entity, f.svenn_id)
            for f in open_failures(session, pair.tenant)
            if f.reason_code == "DELETE_NOT_SYNCED"
        }
    for entity in (Entity.CUSTOMER, Entity.EMPLOYEE):
        assert (entity.value, deleted[(entity, "svenn")][0]) in notices
    for (entity, _), (sv_id, tx_id) in deleted.items():
        stored = links(store, pair.tenant, entity)
        assert sv_id not in stored and tx_id not in stored.values(), (entity, sv_id, tx_id)


def test_a_delete_on_either_side_is_final_across_ticks_a_restart_and_the_reconciliation(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    deleted = plant_deletes(pair, store)
    tick(pair, store)  # the delete rules: deactivate, close, or a notice; links dropped
    after_delete = counts(pair)
    assert_table_holds(pair, store, deleted)
    tick(pair, store)  # the survivors' own changes come back: not new records
    tick(pair, restarted(store))  # a new process: the survivors are still known
    assert_table_holds(pair, store, deleted)
    assert counts(pair) == after_delete
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()
    asyncio.run(reconcile(pair.tenant))
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []
    assert counts(pair) == after_delete
    assert_table_holds(pair, store, deleted)


def test_a_person_changing_a_survivor_brings_it_back_once(pipeline, sandboxes, state_store):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    deleted = plant_deletes(pair, store)
    tick(pair, store)
    tick(pair, store)
    before = counts(pair)
    # Customer deleted in Svenn, then edited in Tripletex: created in Svenn again (the table).
    _, tx_customer = deleted[(Entity.CUSTOMER, "svenn")]
    tripletex_edit(pair, "customer", tx_customer, {"phoneNumber": "+4791234567"})
    # Project deleted in Tripletex, closed in Svenn, then renamed there by a person.
    sv_project, _ = deleted[(Entity.PROJECT, "tripletex")]
    svenn_edit(pair, "project", sv_project, {"name": "Gjenåpnet prosjekt"})
    tick(pair, restarted(store))
    tick(pair, store)
    tick(pair, store)
    after = counts(pair)
    assert after[(Entity.CUSTOMER, "svenn")] == before[(Entity.CUSTOMER, "svenn")] + 1
    assert after[(Entity.PROJECT, "tripletex")] == before[(Entity.PROJECT, "tripletex")] + 1
    assert {k: v for k, v in after.items() if k not in {(Entity.CUSTOMER, "svenn")}} | {
        (Entity.PROJECT, "tripletex"): before[(Entity.PROJECT, "tripletex")]
    } == {k: v for k, v in before.items() if k != (Entity.CUSTOMER, "svenn")}
    assert tx_customer in links(store, pair.tenant, Entity.CUSTOMER).values()
    assert sv_project in links(store, pair.tenant, Entity.PROJECT)
    asyncio.run(reconcile(pair.tenant))
    assert counts(pair) == after
