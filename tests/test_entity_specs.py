"""The entity specs, walked: every field of every entity goes through both mappers and both
sandboxes, so a field added to a spec is tested without writing a test.

For each entity one record holding a sample of every field (chosen by the field's kind) is
written to one sandbox through that connector's mapper, read back with the connector's field
selection and mapped again; the result is written to the other sandbox the same way and read
back. Both directions, Tripletex first and Svenn first. Every field that the systems on the way
hold must arrive equal (as the sync compares values). Every exchange is held to the vendor's
contract (the real Tripletex spec, our Svenn contract).

A field in a record type that no spec row declares (and that is not the record's id or
version) fails here: it would silently never sync.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.svenn import mapping as svenn_mapping
from connectors.tripletex import mapping as tripletex_mapping
from connectors.tripletex.entities import unique_keys
from expectations.runner import SUITES_DIR
from sandboxes.openapi_check import SVENN_SPEC, OpenAPIChecker
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app as create_svenn
from sync import keys
from sync.entities import RECORD_TYPES, SPECS, Customer, EntitySpec, FieldSpec, HourEntry, Kind
from sync.merge import PRECEDENCE, SYNCED_FIELDS, same_value
from sync.records import Address, Entity, Record, System
from tests.tripletex_sandbox_support import new_checker
from tests.tripletex_sandbox_support import sandbox as tripletex_sandbox

ROUND_TRIP = (Entity.CUSTOMER, Entity.EMPLOYEE, Entity.PROJECT, Entity.HOURS)
SVENN_CONTRACT = json.loads(
    (Path(svenn_mapping.__file__).with_name("openapi.json")).read_text(encoding="utf-8")
)
TRIPLETEX_MODELS = json.loads(
    (Path(__file__).parents[1] / "sandboxes/tripletex/model_fields.json").read_text(
        encoding="utf-8"
    )
)
SVENN_SCHEMA = {
    Entity.CUSTOMER: "Customer",
    Entity.EMPLOYEE: "Employee",
    Entity.PROJECT: "Project",
    Entity.HOURS: "Hours",
}
TRIPLETEX_MODEL = {
    Entity.CUSTOMER: "Customer",
    Entity.EMPLOYEE: "Employee",
    Entity.PROJECT: "Project",
    Entity.HOURS: "TimesheetEntry",
}
TRIPLETEX_SPEC = json.loads(
    (Path(__file__).parents[1] / "sandboxes/tripletex/spec/openapi.json").read_text(
        encoding="utf-8"
    )
)

# The records references point at, on each side (seeded below / in the Tripletex support seed).
REFERENCES: dict[str, tuple[str, str]] = {  # canonical reference field → (tripletex, svenn)
    "customer_id": ("21", "cus-1"),
    "project_manager_id": ("11", "emp-1"),
    "employee_id": ("11", "emp-1"),
    "project_id": ("31", "prj-1"),
    "activity_id": ("41", "act-1"),
    "parent_project_id": ("", ""),  # sub-projects are not synced: left empty
    "approved_by": ("", ""),  # set by approval in Svenn, not by the API
}


# --- the specs against the records and the contracts ------------------------------------------


@pytest.mark.parametrize("entity", list(RECORD_TYPES))
def test_every_record_field_is_declared_in_its_spec(entity: Entity) -> None:
    spec = SPECS[entity]
    record = RECORD_TYPES[entity]
    assert spec.record is record
    declared = {row.name for row in spec.fields}
    undeclared = set(record.model_fields) - declared - record.identity_fields
    assert not undeclared, f"{entity.value}: fields in no spec row (they never sync): {undeclared}"
    assert declared <= set(record.model_fields), declared - set(record.model_fields)
    references = {row.name for row in spec.fields if row.kind is Kind.REFERENCE}
    assert references == set(record.reference_fields) | _read_only_references(spec)


def _read_only_references(spec: EntitySpec) -> set[str]:
    return {r.name for r in spec.fields if r.kind is Kind.REFERENCE and r.svenn_read_only}


@pytest.mark.parametrize("entity", list(SPECS))
def test_vendor_names_exist_in_the_vendor_contracts(entity: Entity) -> None:
    spec = SPECS[entity]
    svenn = SVENN_CONTRACT["components"]["schemas"][SVENN_SCHEMA[entity]]["properties"]
    tripletex = TRIPLETEX_MODELS[TRIPLETEX_MODEL[entity]]
    for row in spec.fields:
        assert row.svenn is None or row.svenn in svenn, (entity.value, row.svenn)
        assert row.tripletex is None or row.tripletex in tripletex, (entity.value, row.tripletex)
        assert row.synced <= (row.svenn is not None and row.tripletex is not None), row.name


@pytest.mark.parametrize("entity", list(SPECS))
def test_endpoints_hold_against_the_vendor_contracts(entity: Entity) -> None:
    spec, endpoints = SPECS[entity], SPECS[entity].endpoints
    paths = TRIPLETEX_SPEC["paths"]
    assert {"get", "post"} <= set(paths[endpoints.tripletex]), endpoints.tripletex
    assert ("put" in paths.get(f"{endpoints.tripletex}/list", {})) is endpoints.batch_update
    listing = {p["name"]: p for p in paths[endpoints.tripletex]["get"].get("parameters", [])}
    assert ("isInactive" in listing) is endpoints.inactive_filter
    assert bool(listing.get("dateFrom", {}).get("required")) is endpoints.dated
    model = TRIPLETEX_MODELS[TRIPLETEX_MODEL[entity]]
    assert set(endpoints.deactivate or {}) <= set(model), endpoints.deactivate
    assert endpoints.svenn in SVENN_CONTRACT["paths"], endpoints.svenn
    named = {row.name for row in spec.fields}
    assert spec.unique_keys and all(set(group) <= named for group in spec.unique_keys)


def test_unique_keys_name_a_record_as_compared_strongest_first() -> None:
    customer = Customer(
        id="1", name=" Bygg AS ", organization_number="987 654 321", email="Post@Bygg.NO"
    )
    assert unique_keys(SPECS[Entity.CUSTOMER], customer) == [
        ("organization_number", "987654321"),
        ("email", "post@bygg.no"),
        ("name", "bygg as"),
    ]
    entry = HourEntry(employee_id="11", date=dt.date(2026, 12, 1), hours=Decimal("7.5"))
    assert unique_keys(SPECS[Entity.HOURS], entry) == [
        ("employee_id+date+project_id+activity_id", "11|2026-12-01||")
    ]


def test_derived_tables_follow_the_specs() -> None:
    for entity, spec in SPECS.items():
        synced = tuple(row.name for row in spec.fields if row.synced)
        assert SYNCED_FIELDS.get(entity, ()) == synced
        if synced:
            precedence = PRECEDENCE[entity]
            for row in spec.fields:
                if row.synced:
                    assert precedence.winner(row.name) is (row.owner or row.winner or spec.winner)
        writable = svenn_mapping.FIELD_NAMES[entity]
        assert set(writable) == {r.name for r in spec.fields if r.svenn and not r.svenn_read_only}
    selection = tripletex_mapping.CUSTOMER_FIELDS.split(",")
    for row in SPECS[Entity.CUSTOMER].fields:
        assert (row.tripletex_select or row.tripletex or "").split(",")[0] in selection


def test_match_keys_suites_and_delete_rules_are_declared() -> None:
    rules = {
        Entity.CUSTOMER: keys.CUSTOMER_KEYS,
        Entity.EMPLOYEE: keys.EMPLOYEE_KEYS,
        Entity.PROJECT: keys.project_keys({}),
    }
    for entity, rule in rules.items():
        assert SPECS[entity].match_keys == tuple(k.name for k in rule.keys), entity.value
    for entity in SYNCED_FIELDS:
        spec = SPECS[entity]
        assert spec.suite is not None and (SUITES_DIR / f"{spec.suite}.json").exists()
        assert set(spec.on_delete) == {System.SVENN, System.TRIPLETEX}, entity.value


# --- every field through both sandboxes, both ways ---------------------------------------------


def sample(entity: Entity, row: FieldSpec, side: int) -> Any:
    """A value of ``row``'s kind, different from the field's default (``side``: 0 Tripletex
    ids, 1 Svenn ids, for references)."""
    record = SPECS[entity].record
    tag = row.name.replace("_", "")
    if row.kind is Kind.REFERENCE:
        return REFERENCES[row.name][side] or None
    if row.kind is Kind.FLAG:
        default = record.model_fields[row.name].default
        return default if None in (row.svenn, row.tripletex) else not default
    samples: dict[Kind, Any] = {
        Kind.TEXT: f"Spec {tag}",
        Kind.EMAIL: f"{tag}@spesifikasjon.no",
        Kind.PHONE: "+47 912 34 567",
        Kind.ORG_NUMBER: "914778271",
        Kind.CUSTOMER_NUMBER: 7001,
        Kind.DATE: dt.date(2024, 5, 17),
        Kind.NUMBER: Decimal("7.5"),
        Kind.ADDRESS: Address(
            address_line1="Storgata 1", postal_code="0155", city="Oslo", country_code="NO"
        ),
        Kind.CHOICE: "submitted",
        Kind.DATETIME: None,
    }
    return samples[row.kind]


def sample_record(entity: Entity, side: int) -> Record:
    spec = SPECS[entity]
    values = {row.name: sample(entity, row, side) for row in spec.fields}
    return spec.record(**values)


class Tripletex:
    """One Tripletex sandbox company, written and read through the connector's mapper."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def write_and_read(self, record: Record) -> Record:
        path = SPECS[record.entity].endpoints.tripletex
        body = tripletex_mapping.record_to_tripletex(record)
        created = self.client.post(path, json=body)
        assert created.status_code == 201, created.text
        record_id = created.json()["value"]["id"]
        fields = tripletex_mapping.field_selection(SPECS[record.entity])
        read = self.client.get(f"{path}/{record_id}", params={"fields": fields})
        assert read.status_code == 200, read.text
        return tripletex_mapping.record_from_tripletex(
            record.entity, read.json()["value"], today=dt.date.today()
        )


class Svenn:
    """One Svenn sandbox tenant, written and read through the connector's mapper."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def write_and_read(self, record: Record) -> Record:
        path = SPECS[record.entity].endpoints.svenn
        created = self.client.post(path, json=svenn_mapping.record_to_svenn(record))
        assert created.status_code == 201, created.text
        read = self.client.get(f"{path}/{created.json()['id']}")
        assert read.status_code == 200, read.text
        return svenn_mapping.record_from_svenn(record.entity, read.json())


@pytest.fixture(scope="module")
def svenn_url() -> Iterator[str]:
    with serve_in_thread(create_svenn({"tenants": []})) as url:
        yield url


_tenants = iter(range(1, 1000))


@pytest.fixture
def svenn(svenn_url: str) -> Iterator[Svenn]:
    number = next(_tenants)
    key = f"svenn-spec-key-{number:04d}"
    seed = {
        "id": f"t-spec-{number}",
        "name": f"Spec {number}",
        "apiKey": key,
        "activities": [{"id": "act-1", "code": "NORMAL", "name": "Timer"}],
        "employees": [{"id": "emp-1", "firstName": "Kari", "lastName": "Leder"}],
        "customers": [{"id": "cus-1", "name": "Kunde En AS", "customerNumber": 5001}],
        "projects": [
            {"id": "prj-1", "name": "Tak", "customerId": "cus-1", "projectManagerId": "emp-1"}
        ],
    }
    httpx.post(svenn_url + "/_admin/tenants", json=seed, timeout=60).raise_for_status()
    checker = OpenAPIChecker(SVENN_SPEC, server_prefix="/api/v1")
    with httpx.Client(
        base_url=svenn_url + "/api/v1",
        headers={"Authorization": f"Bearer {key}"},
        event_hooks={"response": [checker.sync_hook]},
        timeout=30,
    ) as client:
        yield Svenn(client)
    checker.assert_clean()


@pytest.fixture
def tripletex() -> Iterator[Tripletex]:
    checker = new_checker()
    with tripletex_sandbox(checker) as (_, _, client):
        yield Tripletex(client)
    checker.assert_clean()


def held_by(entity: Entity, system: System) -> list[FieldSpec]:
    """The fields ``system`` reads and writes (a field it only reads is not written there)."""
    rows = SPECS[entity].fields
    if system is System.SVENN:
        return [r for r in rows if r.svenn is not None and not r.svenn_read_only]
    return [r for r in rows if r.tripletex is not None and not r.tripletex_read_only]


def across(record: Record, side: int) -> Record:
    """``record`` with its references pointing at the other system's records."""
    update = {
        name: REFERENCES[name][side] or None
        for name in SPECS[record.entity].record.reference_fields
    }
    return record.model_copy(update=update)


def assert_arrived(entity: Entity, sent: Record, got: Record, rows: list[FieldSpec]) -> None:
    for row in rows:
        want, have = getattr(sent, row.name), getattr(got, row.name)
        if isinstance(want, Address):
            want = want.model_dump()
        if isinstance(have, Address):
            have = have.model_dump()
        assert same_value(row.name, want, have), (entity.value, row.name, want, have)


@pytest.mark.parametrize("entity", ROUND_TRIP, ids=lambda e: e.value)
def test_every_field_travels_tripletex_to_svenn(
    entity: Entity, tripletex: Tripletex, svenn: Svenn
) -> None:
    original = sample_record(entity, 0)
    read = tripletex.write_and_read(original)
    assert_arrived(entity, original, read, held_by(entity, System.TRIPLETEX))
    both = [r for r in held_by(entity, System.TRIPLETEX) if r.svenn is not None]
    landed = svenn.write_and_read(across(read, 1))
    assert_arrived(entity, across(read, 1), landed, both)


@pytest.mark.parametrize("entity", ROUND_TRIP, ids=lambda e: e.value)
def test_every_field_travels_svenn_to_tripletex(
    entity: Entity, tripletex: Tripletex, svenn: Svenn
) -> None:
    original = sample_record(entity, 1)
    read = svenn.write_and_read(original)
    assert_arrived(entity, original, read, held_by(entity, System.SVENN))
    both = [r for r in held_by(entity, System.SVENN) if r.tripletex is not None]
    landed = tripletex.write_and_read(across(read, 0))
    written = [r for r in both if not r.tripletex_read_only]
    assert_arrived(entity, across(read, 0), landed, written)
