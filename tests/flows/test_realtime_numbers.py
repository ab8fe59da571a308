"""Numbers travel back: what Tripletex assigns to a record created from Svenn (customer number,
project number) is written to the Svenn record in the same step, at the initial sync and in a
realtime tick; a number Svenn refuses is a failed record with Svenn's reason."""

from __future__ import annotations

import pytest

from cli.operate import decide
from connectors.svenn.mapping import customer_from_svenn, project_from_svenn
from connectors.tripletex.mapping import customer_from_tripletex, project_from_tripletex
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_records
from store.failures import open_failures
from store.links import links_for
from sync.records import Entity
from tests.flows.conftest import run_activation
from tests.flows.realtime_support import tick

pytestmark = pytest.mark.scenario

READERS = {
    Entity.CUSTOMER: (customer_from_svenn, customer_from_tripletex, "customer_number"),
    Entity.PROJECT: (project_from_svenn, project_from_tripletex, "number"),
}


def created_in_tripletex(store, tenant, entity: Entity) -> list[tuple[str, str]]:
    with store.sessions() as session:
        return [
            (lk.svenn_id, lk.tripletex_id)
            for lk in links_for(session, tenant, entity.value)
            if lk.match_key == "created_in_tripletex"
        ]


def numbers(pair, entity: Entity, sv_id: str, tx_id: str):
    from_svenn, from_tripletex, field = READERS[entity]
    sv = from_svenn(svenn_records(pair, entity.value)[sv_id])
    tx = from_tripletex(tripletex_records(pair, entity.value)[tx_id])
    return getattr(sv, field), getattr(tx, field)


def test_numbers_tripletex_assigns_are_written_back_at_the_initial_sync_and_in_a_tick(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    checked = 0
    for entity in READERS:
        for sv_id, tx_id in created_in_tripletex(store, pair.tenant, entity):
            ours, theirs = numbers(pair, entity, sv_id, tx_id)
            assert theirs is not None and ours == theirs, (entity, sv_id, ours, theirs)
            checked += 1
    assert checked  # the world has Svenn-only records without a number
    tick(pair, store)
    fresh = svenn_edit(pair, "customer", None, {"name": "Nummerløs Kunde AS"})
    assert fresh is not None and fresh.get("customerNumber") is None
    tick(pair, store)
    tx_id = dict(created_in_tripletex(store, pair.tenant, Entity.CUSTOMER))[fresh["id"]]
    ours, theirs = numbers(pair, Entity.CUSTOMER, fresh["id"], tx_id)
    assert theirs is not None and ours == theirs
    assert tick(pair, store).writes == 0


def test_a_number_svenn_refuses_is_a_failed_record_with_its_reason(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    tick(pair, store)
    first = svenn_edit(pair, "customer", None, {"name": "Først Uten Nummer AS"})
    assert first is not None
    tick(pair, store)
    given = numbers(pair, Entity.CUSTOMER, first["id"], _tx_of(store, pair, first["id"]))[1]
    # A customer Svenn keeps to itself (inactive: not synced) holds the next number already.
    svenn_edit(pair, "customer", None, {"name": "Holder Nummeret AS", "customerNumber": given + 1})
    holder = next(
        r for r in svenn_records(pair, "customer").values() if r["name"] == "Holder Nummeret AS"
    )
    svenn_edit(pair, "customer", holder["id"], operation="deactivate")
    second = svenn_edit(pair, "customer", None, {"name": "Andre Uten Nummer AS"})
    assert second is not None
    tick(pair, store)
    tx_id = _tx_of(store, pair, second["id"])
    ours, theirs = numbers(pair, Entity.CUSTOMER, second["id"], tx_id)
    assert theirs == given + 1 and ours is None
    with store.sessions() as session:
        rows = [
            f
            for f in open_failures(session, pair.tenant)
            if f.tripletex_id == tx_id and f.reason_code == "TARGET_REJECTED"
        ]
    assert len(rows) == 1 and rows[0].direction == "tripletex_to_svenn"
    assert "customerNumber" in rows[0].message_en, rows[0].message_en


def _tx_of(store, pair, svenn_id: str) -> str:
    return dict(created_in_tripletex(store, pair.tenant, Entity.CUSTOMER))[svenn_id]
