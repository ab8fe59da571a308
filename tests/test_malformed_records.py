"""One record that cannot be read becomes a MalformedRecord; the records around it still map.

Hypothesis mutates one field of an otherwise valid record, on either side, into something the
API would never send (wrong types, nulls, impossible dates, non-numeric ids, strings for
objects, lists for strings, ...). Mapping never raises: the record maps, or it is set aside
naming the field and the value as received, with messages in English and Norwegian.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.records import RecordList, read_records
from connectors.svenn import mapping as svenn
from connectors.tripletex import mapping as tripletex
from sync.malformed import MalformedRecord, Problem, malformed_failure
from sync.records import Entity, System
from sync.rules import ReasonCode

TRIPLETEX_ROWS: dict[Entity, dict[str, Any]] = {
    Entity.CUSTOMER: {
        "id": 101,
        "version": 1,
        "name": "Fjord Bygg AS",
        "organizationNumber": "923456783",
        "customerNumber": 5001,
        "email": "post@fjord.no",
        "phoneNumber": "22334455",
        "isInactive": False,
        "postalAddress": {
            "addressLine1": "Storgata 1",
            "postalCode": "0155",
            "city": "Oslo",
            "country": {"id": 161},
        },
    },
    Entity.EMPLOYEE: {
        "id": 201,
        "version": 2,
        "firstName": "Kari",
        "lastName": "Nordmann",
        "email": "kari@fjord.no",
        "employeeNumber": "17",
        "dateOfBirth": "1990-02-28",
        "employments": [{"endDate": None}],
    },
    Entity.PROJECT: {
        "id": 301,
        "version": 3,
        "name": "Tak Storgata",
        "number": "P-1",
        "customer": {"id": 101},
        "projectManager": {"id": 201},
        "startDate": "2024-03-01",
        "endDate": "2024-12-31",
        "isClosed": False,
        "isInternal": False,
    },
}
SVENN_ROWS: dict[Entity, dict[str, Any]] = {
    Entity.CUSTOMER: {
        "id": "c-1",
        "version": 1,
        "name": "Fjord Bygg AS",
        "organizationNumber": "923456783",
        "customerNumber": 5001,
        "email": "post@fjord.no",
        "phone": "22334455",
        "postalAddress": {"addressLine1": "Storgata 1", "postalCode": "0155", "city": "Oslo"},
        "active": True,
    },
    Entity.EMPLOYEE: {
        "id": "e-1",
        "version": 1,
        "firstName": "Kari",
        "lastName": "Nordmann",
        "email": "kari@fjord.no",
        "employeeNumber": "17",
        "dateOfBirth": "1990-02-28",
        "active": True,
    },
    Entity.PROJECT: {
        "id": "p-1",
        "version": 1,
        "name": "Tak Storgata",
        "number": "P-1",
        "customerId": "c-1",
        "projectManagerId": "e-1",
        "startDate": "2024-03-01",
        "endDate": None,
        "status": "active",
    },
    Entity.HOURS: {
        "id": "h-1",
        "version": 1,
        "employeeId": "e-1",
        "projectId": "p-1",
        "date": "2024-03-04",
        "hours": 7.5,
        "status": "approved",
        "approvedAt": "2024-03-05T08:00:00Z",
    },
}
MAPPERS: dict[System, dict[Entity, Callable[[Any], Any]]] = {
    System.TRIPLETEX: {
        Entity.CUSTOMER: tripletex.customer_from_tripletex,
        Entity.EMPLOYEE: tripletex.employee_from_tripletex,
        Entity.PROJECT: tripletex.project_from_tripletex,
    },
    System.SVENN: dict(svenn.RECORD_READERS),
}
BASES = {System.TRIPLETEX: TRIPLETEX_ROWS, System.SVENN: SVENN_ROWS}

SECRET = "sk-live-0123456789abcdef"
BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["abc", "", "31.12.1990", "2023-02-30", "2024-13-01", "1990-02-29", "12", "NaN", "\x00\x1b"]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.sampled_from(["id", "x"]), st.text(max_size=5), max_size=2),
    st.just({"apiToken": SECRET, "name": "Fjord"}),
    st.just({"id": "not-a-number"}),
)

# What a sandbox can serve: JSON has no NaN or infinity (httpx refuses to send them).
SERVABLE_VALUES = BAD_VALUES.filter(lambda v: _servable(v))


def _servable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


@st.composite
def mutated(draw: st.DrawFn) -> tuple[System, Entity, str, Any, dict[str, Any]]:
    system = draw(st.sampled_from(list(System)))
    entity = draw(st.sampled_from(sorted(BASES[system])))
    row = json.loads(json.dumps(BASES[system][entity]))
    field = draw(st.sampled_from(sorted(row)))
    value = draw(BAD_VALUES)
    row[field] = value
    return system, entity, field, value, row


def read(system: System, entity: Entity, rows: list[Any]) -> RecordList[Any]:
    names: Mapping[str, str] | None = (
        svenn.FIELD_NAMES.get(entity) if system is System.SVENN else None
    )
    return read_records(system, entity, rows, MAPPERS[system][entity], field_names=names)


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_one_mutated_field_never_stops_the_records_around_it(
    case: tuple[System, Entity, str, Any, dict[str, Any]],
) -> None:
    system, entity, field, _value, row = case
    good = BASES[system][entity]
    result = read(system, entity, [good, row, good])
    assert len(result) + len(result.malformed) == 3
    assert len(result) >= 2  # the valid neighbours always map
    if result.malformed:
        bad = result.malformed[0]
        assert bad.field.split(".")[0].split("[")[0] == field
        failure = malformed_failure(bad)
        assert failure.reason_code == ReasonCode.MALFORMED_RECORD.value
        assert bad.field in failure.message_en and bad.field in failure.message_no
        assert bad.value in failure.message_en and bad.value in failure.message_no
        assert SECRET not in failure.message_en + json.dumps(failure.details)
        for text in (failure.message_en, failure.message_no):
            assert not any(ord(c) < 32 for c in text)


def test_messages_name_field_value_and_problem_in_both_languages() -> None:
    row = dict(SVENN_ROWS[Entity.EMPLOYEE], dateOfBirth="31.12.1990")
    bad = read(System.SVENN, Entity.EMPLOYEE, [row]).malformed
    assert bad == [
        MalformedRecord(
            System.SVENN, Entity.EMPLOYEE, "e-1", "dateOfBirth", '"31.12.1990"', Problem.NOT_DATE
        )
    ]
    failure = malformed_failure(bad[0])
    assert failure.svenn_id == "e-1" and failure.tripletex_id is None
    assert "'dateOfBirth' is \"31.12.1990\" (expected a date like 2024-12-31)" in failure.message_en
    assert '«dateOfBirth» er "31.12.1990" (forventet en dato som 2024-12-31)' in failure.message_no


def test_non_numeric_tripletex_id_and_impossible_date_are_named() -> None:
    rows = [
        dict(TRIPLETEX_ROWS[Entity.PROJECT], id="abc"),
        dict(TRIPLETEX_ROWS[Entity.PROJECT], id=302, startDate="2024-02-30"),
        dict(TRIPLETEX_ROWS[Entity.PROJECT], id=303, customer="101"),
        TRIPLETEX_ROWS[Entity.PROJECT],
    ]
    result = read(System.TRIPLETEX, Entity.PROJECT, rows)
    assert [p.id for p in result] == ["301"]
    assert [(m.record_id, m.field, m.problem) for m in result.malformed] == [
        ("abc", "id", Problem.NOT_INTEGER),
        ("302", "startDate", Problem.NOT_DATE),
        ("303", "customer", Problem.NOT_OBJECT),
    ]


def test_a_secret_in_a_malformed_value_is_redacted_by_key_and_by_the_connectors_secrets() -> None:
    row = dict(SVENN_ROWS[Entity.CUSTOMER], postalAddress="token=" + SECRET, email={"apiKey": "x"})
    bad = read_records(
        System.SVENN,
        Entity.CUSTOMER,
        [row],
        svenn.customer_from_svenn,
        redact=lambda text: text.replace(SECRET, "[redacted]"),
    ).malformed[0]
    assert SECRET not in bad.value and "x" not in bad.value.replace("[redacted]", "")


FEED_EVENT = {
    "sequence": 7,
    "entity": "customer",
    "id": "c-1",
    "operation": "update",
    "version": 2,
    "occurredAt": "2024-03-05T08:00:00Z",
}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(FEED_EVENT)), BAD_VALUES)
def test_a_malformed_change_feed_event_never_stops_the_page(field: str, value: Any) -> None:
    from connectors.svenn.changes import change_page_from_svenn

    bad = {**FEED_EVENT, "id": "c-2", field: value}
    page = change_page_from_svenn(
        {
            "events": [FEED_EVENT, bad, dict(FEED_EVENT, id="c-3")],
            "nextCursor": "9",
            "hasMore": False,
        }
    )
    ids = page.ids_by_entity().get(Entity.CUSTOMER, [])
    assert ids[0] == "c-1" and ids[-1] == "c-3"  # the events around it are read
    if field not in ("entity", "id"):
        assert "c-2" in ids  # only entity and id are needed to sync: the change is kept
    elif len(ids) == 2 and field == "id":
        [malformed] = page.malformed  # the record cannot be named: one failed record
        assert malformed.field == "id" and malformed.entity is Entity.CUSTOMER


def test_svenn_records_served_without_an_id_are_named_and_keep_one_row_each() -> None:
    rows = []
    for name, number in [("Fjord Bygg AS", "1001"), ("Vest Rør AS", "1002")]:
        row = dict(SVENN_ROWS[Entity.CUSTOMER], name=name, customerNumber=number)
        del row["id"]
        rows.append(row)
    bad = read(System.SVENN, Entity.CUSTOMER, rows).malformed
    assert len(bad) == 2
    failures = [malformed_failure(m) for m in bad]
    ids = [f.svenn_id for f in failures]
    assert None not in ids and len(set(ids)) == 2  # one failed row per record, never shared
    assert ids == [m.record_id for m in read(System.SVENN, Entity.CUSTOMER, rows).malformed]
    for failure, name in zip(failures, ["Fjord Bygg AS", "Vest Rør AS"], strict=True):
        assert name in failure.message_en and name in failure.message_no
        assert "None" not in failure.message_en
