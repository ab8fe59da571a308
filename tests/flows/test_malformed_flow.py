"""A record served malformed by either real sandbox never stops the tenant's initial sync.

Hypothesis picks a side, an entity, one of its records and one field, and a value the API would
never send; the sandbox serves that record so (``/_admin/mutations``) while the tenant is
activated, approved and synced for real. The run ends as the same run without the mutation
does; the record becomes one ``MALFORMED_RECORD`` failure naming the field (or, when the value
happens to be readable, it syncs). Every link not involving that record, its counterpart or a
project that refers to one of them is made as before, and no link is made that was not.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from store.failures import open_failures
from store.integrations import get_integration
from store.links import links_for
from store.models import Base
from sync.records import SYNC_ORDER, Entity, System
from sync.rules import ReasonCode
from tests.flows.test_initial_sync import activate_and_approve
from tests.test_malformed_records import SERVABLE_VALUES, SVENN_ROWS, TRIPLETEX_ROWS

pytestmark = pytest.mark.scenario

PATHS = {
    System.TRIPLETEX: {
        Entity.CUSTOMER: "/v2/customer",
        Entity.EMPLOYEE: "/v2/employee",
        Entity.PROJECT: "/v2/project",
    },
    System.SVENN: {
        Entity.CUSTOMER: "/api/v1/customers",
        Entity.EMPLOYEE: "/api/v1/employees",
        Entity.PROJECT: "/api/v1/projects",
    },
}
FIELDS = {System.TRIPLETEX: TRIPLETEX_ROWS, System.SVENN: SVENN_ROWS}


@st.composite
def mutations(draw: st.DrawFn) -> dict[str, Any]:
    system = draw(st.sampled_from(list(System)))
    entity = draw(st.sampled_from(list(SYNC_ORDER)))
    field = draw(st.sampled_from(sorted(FIELDS[system][entity])))
    value = draw(SERVABLE_VALUES)
    # An API that serves a *readable* but different id is lying, not malformed: out of scope.
    readable_id = (
        isinstance(value, str) and value
        if system is System.SVENN
        else (isinstance(value, int) and not isinstance(value, bool))
    )
    assume(not (field == "id" and readable_id))
    return {
        "system": system,
        "entity": entity,
        "pick": draw(st.integers(0, 10_000)),
        "field": field,
        "value": value,
    }


def reset(pair, engine) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.post(f"{root}/_admin/reset").raise_for_status()
        httpx.delete(f"{root}/_admin/mutations").raise_for_status()
        httpx.delete(f"{root}/_admin/requests").raise_for_status()
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def outcome(store, tenant) -> tuple[str, set[tuple[str, str, str]], list[Any]]:
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        assert integration is not None
        links = {
            (e.value, link.tripletex_id, link.svenn_id)
            for e in SYNC_ORDER
            for link in links_for(session, tenant, e)
        }
        failures = list(open_failures(session, tenant))
        return integration.status, links, failures


def record_ids(pair, system: System, entity: Entity) -> list[str]:
    side = pair.world.tripletex if system is System.TRIPLETEX else pair.world.svenn
    records = {Entity.CUSTOMER: side.customers, Entity.EMPLOYEE: side.employees}.get(
        entity, side.projects
    )
    return sorted(str(r.id) for r in records)


# Fields the matching reads: when one of them is unreadable, what can be read of the record no
# longer shows that key, so a record it was ambiguous with may now match one to one.
MATCH_FIELDS = {
    "organizationNumber", "customerNumber", "email", "name", "postalAddress", "employeeNumber",
    "firstName", "lastName", "dateOfBirth", "number", "customer", "customerId",
}  # fmt: skip
# Why a record next to the malformed one may stay unlinked: its counterpart could not be read,
# or (projects) its customer or manager is that record or its counterpart.
KNOCK_ON = {
    ReasonCode.MALFORMED_RECORD.value,
    ReasonCode.COUNTERPART_MALFORMED.value,
    ReasonCode.PROJECT_CUSTOMER_NOT_LINKED.value,
    ReasonCode.PROJECT_MANAGER_NOT_LINKED.value,
}


def by_seeded_ids(pair, links: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Links with the ids of records the run created shown as "new" (created ids differ from
    run to run: the sandboxes number them in order)."""
    seeded = {
        (system, entity.value): set(record_ids(pair, system, entity))
        for system in System
        for entity in SYNC_ORDER
        if entity is not Entity.HOURS
    }
    return {
        (
            e,
            tx if tx in seeded[(System.TRIPLETEX, e)] else "new",
            sv if sv in seeded[(System.SVENN, e)] else "new",
        )
        for e, tx, sv in links
    }


def unreadable_version(system: System, entity: Entity, pick: int) -> dict[str, Any]:
    return {"system": system, "entity": entity, "pick": pick, "field": "version", "value": "x"}


# Found by hand before the fix, on the seed-7 world as the generator made it then: a Svenn
# customer that made a Tripletex one ambiguous (it got linked to the other candidate: a guess),
# one whose counterpart was then created in Svenn a second time (refused only by the customer
# number), an employee like the first. The generator has changed since (issue 11), so these
# may now hit other records; tests/test_plan_unreadable.py holds each behaviour on plain data.
EXAMPLES = [
    unreadable_version(System.SVENN, Entity.CUSTOMER, 0),
    unreadable_version(System.SVENN, Entity.CUSTOMER, 3),
    unreadable_version(System.SVENN, Entity.EMPLOYEE, 1),
]


def test_one_malformed_record_never_stops_the_initial_sync(
    pipeline, sandboxes, state_store, migrated_engine
) -> None:
    tenant = sandboxes.tenant
    activate_and_approve(sandboxes, state_store)
    base_status, base_links, _ = outcome(state_store, tenant)
    base = by_seeded_ids(sandboxes, base_links)

    @settings(
        max_examples=4,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(mutations())
    @example(EXAMPLES[0])
    @example(EXAMPLES[1])
    @example(EXAMPLES[2])
    @example(  # a record whose id is served as null: its link is lost, its row has no id
        {
            "system": System.TRIPLETEX,
            "entity": Entity.CUSTOMER,
            "pick": 186,
            "field": "id",
            "value": None,
        }
    )
    @example(  # a readable record whose name is served as null: a rule holds it back itself
        {
            "system": System.TRIPLETEX,
            "entity": Entity.PROJECT,
            "pick": 9999,
            "field": "name",
            "value": None,
        }
    )
    def one_mutation(case: dict[str, Any]) -> None:
        reset(sandboxes, migrated_engine)
        system, entity = case["system"], case["entity"]
        ids = record_ids(sandboxes, system, entity)
        target = ids[case["pick"] % len(ids)]
        root = sandboxes.tripletex_root if system is System.TRIPLETEX else sandboxes.svenn_root
        mutation = {
            "path_prefix": PATHS[system][entity],
            "id": int(target) if system is System.TRIPLETEX else target,
            "field": case["field"],
            "value": case["value"],
        }
        httpx.post(f"{root}/_admin/mutations", json=mutation).raise_for_status()

        activate_and_approve(sandboxes, state_store)  # raises if anything crashed
        status, links, failures = outcome(state_store, tenant)
        assert status == base_status
        side = "tripletex" if system is System.TRIPLETEX else "svenn"
        malformed = [f for f in failures if f.reason_code == ReasonCode.MALFORMED_RECORD.value]
        assert all(f.entity == entity.value for f in malformed)
        assert len(malformed) <= 1
        for failure in malformed:
            assert failure.record_key == f"{side}:{target}" or case["field"] == "id"
            assert case["field"] in failure.message_en and case["field"] in failure.message_no
        now = by_seeded_ids(sandboxes, links)
        # Every link the run without the mutation made is made again, across all entities,
        # unless one of its records is held back because of the malformed record; each such
        # record has an open failed record that says why.
        why = {(f.entity, f.record_key): f.reason_code for f in failures}
        for e, tx, sv in base - now:
            reasons = {why.get((e, f"tripletex:{tx}")), why.get((e, f"svenn:{sv}"))}
            mutated = e == entity.value and target == (tx if side == "tripletex" else sv)
            # the mutated record itself: held back by a rule of its own (a name of None), or
            # unreadable by its id (its row is then keyed on what it holds, not the id)
            own = why.get((e, f"{side}:{target}")) or (case["field"] == "id" and malformed)
            if mutated and own:
                continue
            assert reasons & KNOCK_ON, f"{e} link {tx}↔{sv} lost ({reasons}) next to {case}"
        # Nothing is linked that was not before (no guess because a record went missing),
        # unless the unreadable field is one the matching reads.
        if case["field"] not in MATCH_FIELDS:
            assert now <= base, f"new links {now - base} next to {case}"

    one_mutation()


def test_the_preview_counts_a_malformed_record_as_the_sync_does(pipeline, sandboxes, state_store):
    """The preview plans with what could be read of a malformed record, as the run does: the
    Tripletex customer it matched is held back (COUNTERPART_MALFORMED) in both, not created."""
    import json

    from prefect.artifacts import Artifact

    case = EXAMPLES[0]
    target = record_ids(sandboxes, case["system"], case["entity"])[case["pick"]]
    mutation = {
        "path_prefix": PATHS[case["system"]][case["entity"]],
        "id": target,
        "field": case["field"],
        "value": case["value"],
    }
    httpx.post(f"{sandboxes.svenn_root}/_admin/mutations", json=mutation).raise_for_status()
    activate_and_approve(sandboxes, state_store)
    tables: dict[str, Any] = {}
    for name in ("plan-counts", "initial-sync-counts"):
        artifact: Any = Artifact.get(f"{name}-{sandboxes.tenant}")
        rows = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
        tables[name] = {row["entity"]: row for row in rows}
    for entity in ("employee", "customer", "project"):
        planned, happened = tables["plan-counts"][entity], tables["initial-sync-counts"][entity]
        assert planned["to_link"] == happened["linked"], entity
        assert planned["to_create_in_svenn"] == happened["created_in_svenn"], entity
        assert planned["to_create_in_tripletex"] == happened["created_in_tripletex"], entity
        assert planned["will_fail"] == happened["failed"], entity
