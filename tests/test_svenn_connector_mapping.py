"""Svenn JSON ↔ canonical records: a round trip loses no synced field (property tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.svenn.errors import (
    CursorExpiredError,
    ExternalRefConflictError,
    SvennStaleVersionError,
    problem_error,
)
from connectors.svenn.mapping import (
    UnmappableRecordError,
    customer_to_svenn,
    record_from_svenn,
    record_to_svenn,
    record_to_svenn_patch,
)
from sync.entities import Customer, Employee, HourEntry, Project
from sync.malformed import MalformedFieldError
from sync.records import Address, Entity, Record

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
maybe_text = st.none() | text
ids = st.from_regex(r"[a-z]{3}-[0-9]{1,8}", fullmatch=True)
dates = st.dates(dt.date(1950, 1, 1), dt.date(2040, 12, 31))
addresses = st.builds(
    Address,
    address_line1=text,
    address_line2=maybe_text,
    postal_code=st.none() | st.from_regex(r"[0-9]{4}", fullmatch=True),
    city=maybe_text,
    country_code=st.none() | st.sampled_from(["NO", "SE", "DK"]),
)
customers = st.builds(
    Customer,
    id=ids,
    version=st.integers(1, 10_000),
    name=text,
    organization_number=st.none() | st.from_regex(r"[0-9]{9}", fullmatch=True),
    customer_number=st.none() | st.integers(1, 10**9),
    email=maybe_text,
    phone=maybe_text,
    postal_address=st.none() | addresses,
    is_active=st.booleans(),
)
employees = st.builds(
    Employee,
    id=ids,
    version=st.integers(1, 10_000),
    first_name=text,
    last_name=text,  # Svenn requires a last name
    email=maybe_text,
    phone=maybe_text,
    employee_number=maybe_text,
    date_of_birth=st.none() | dates,
    is_active=st.booleans(),
)
projects = st.builds(
    Project,
    id=ids,
    version=st.integers(1, 10_000),
    name=text,
    number=maybe_text,
    customer_id=st.none() | ids,
    project_manager_id=st.none() | ids,
    parent_project_id=st.none() | ids,
    start_date=st.none() | dates,
    end_date=st.none() | dates,
    is_closed=st.booleans(),
    is_internal=st.just(False),  # Svenn has no internal projects
)
hours = st.builds(
    HourEntry,
    id=ids,
    version=st.integers(1, 10_000),
    employee_id=ids,
    project_id=st.none() | ids,
    activity_id=st.none() | ids,
    date=dates,
    # Exact division gives the shortest form ("7.5", "8"), as a JSON number read back does.
    hours=st.integers(0, 2400).map(lambda n: Decimal(n) / 100),
    comment=maybe_text,
    status=st.sampled_from(["draft", "submitted", "approved", "rejected"]),
    approved_by=st.none() | ids,
    approved_at=st.none()
    | st.datetimes(timezones=st.just(dt.UTC)).map(lambda t: t.replace(microsecond=0)),
)


def as_svenn(record: Record) -> dict[str, Any]:
    """What Svenn would answer for this record: the create body plus server-held fields."""
    body = record_to_svenn(record)
    body |= {"id": record.id, "version": record.version, "externalRef": None}
    if isinstance(record, HourEntry):
        stamp = (
            record.approved_at.isoformat().replace("+00:00", "Z") if record.approved_at else None
        )
        body |= {"status": record.status, "approvedBy": record.approved_by, "approvedAt": stamp}
    return body


@given(st.one_of(customers, employees, projects, hours))
def test_round_trip_through_svenn_json_keeps_every_synced_field(record: Record) -> None:
    back = record_from_svenn(record.entity, as_svenn(record))
    assert back == record
    assert back.fingerprint() == record.fingerprint()


@given(customers)
def test_patch_of_named_fields_holds_only_those(record: Customer) -> None:
    body = record_to_svenn_patch(record, {"email", "is_active"})
    assert body == {"email": record.email, "active": record.is_active}


def test_text_customer_number_is_refused_before_sending() -> None:
    with pytest.raises(UnmappableRecordError) as caught:
        customer_to_svenn(Customer(name="Kunde", customer_number="K-1"))
    assert [fe.field for fe in caught.value.field_errors] == ["customerNumber"]


def test_read_empty_address_as_none_and_closed_status_as_closed() -> None:
    data = {"id": "prj-1", "version": 3, "name": "P", "status": "closed", "address": None}
    project = record_from_svenn(Entity.PROJECT, data)
    assert isinstance(project, Project) and project.is_closed
    customer = record_from_svenn(
        Entity.CUSTOMER,
        {"id": "c", "name": "C", "postalAddress": dict.fromkeys(["city", "postalCode"])},
    )
    assert isinstance(customer, Customer) and customer.postal_address is None


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"city": None, "countryCode": None}, None),
        ({"city": ""}, Address(city="")),  # empty text is kept as sent: an address
        ({"city": "\x00"}, Address(city="")),  # control characters only: an empty city
        ({"postalCode": "5003", "city": None}, Address(postal_code="5003")),
    ],
)
def test_an_address_is_read_unless_every_part_is_null(
    parts: dict[str, Any], expected: Address | None
) -> None:
    customer = record_from_svenn(Entity.CUSTOMER, {"id": "c", "name": "C", "postalAddress": parts})
    assert isinstance(customer, Customer) and customer.postal_address == expected


def test_a_bad_address_part_is_a_malformed_field_not_a_crash() -> None:
    with pytest.raises(MalformedFieldError) as caught:
        record_from_svenn(Entity.CUSTOMER, {"id": "c", "name": "C", "postalAddress": {"city": 5}})
    assert caught.value.field == "postalAddress.city"


@pytest.mark.parametrize(
    ("problem", "status", "error_type"),
    [
        ({"type": "https://api.svenn.no/problems/version-conflict", "currentVersion": 4}, 412,
         SvennStaleVersionError),
        ({"type": "https://api.svenn.no/problems/external-ref-conflict", "existingId": "x"}, 409,
         ExternalRefConflictError),
        ({"type": "https://api.svenn.no/problems/cursor-expired", "resync": True}, 410,
         CursorExpiredError),
    ],
)  # fmt: skip
def test_problem_documents_become_typed_errors(
    problem: dict[str, Any], status: int, error_type: type[Exception]
) -> None:
    error = problem_error({"title": "t", "status": status, **problem})
    assert type(error) is error_type and error.status == status
