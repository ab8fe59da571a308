"""Tripletex JSON ↔ canonical records: the round trip loses nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.tripletex import mapping as m
from sync.entities import Customer, Employee, HourEntry, Project
from sync.malformed import MalformedFieldError
from sync.records import Address

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1
).filter(lambda s: s.strip() != "")
maybe_text = st.none() | text
ids = st.integers(min_value=1, max_value=10**9).map(str)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))

addresses = st.builds(
    Address,
    address_line1=maybe_text,
    address_line2=maybe_text,
    postal_code=maybe_text,
    city=maybe_text,
    country_code=st.none() | st.sampled_from(sorted(m.COUNTRY_IDS)),
).filter(lambda a: a != Address())

customers = st.builds(
    Customer,
    id=st.none() | ids,
    version=st.none() | st.integers(min_value=0, max_value=1000),
    name=text,
    organization_number=st.none() | st.from_regex(r"\A[0-9]{9}\Z"),
    customer_number=st.none() | st.integers(min_value=1, max_value=10**8),
    email=maybe_text,
    phone=maybe_text,
    postal_address=st.none() | addresses,
    is_active=st.booleans(),
)

employees = st.builds(
    Employee,
    id=st.none() | ids,
    version=st.none() | st.integers(min_value=0, max_value=1000),
    first_name=text,
    last_name=maybe_text,
    email=maybe_text,
    phone=maybe_text,
    employee_number=maybe_text,
    date_of_birth=st.none() | dates,
    is_active=st.just(True),  # never written: see the mapping module's decisions
)

projects = st.builds(
    Project,
    id=st.none() | ids,
    version=st.none() | st.integers(min_value=0, max_value=1000),
    name=text,
    number=maybe_text,
    customer_id=st.none() | ids,
    project_manager_id=st.none() | ids,
    parent_project_id=st.none() | ids,
    start_date=st.none() | dates,
    end_date=st.none() | dates,
    is_closed=st.booleans(),
    is_internal=st.booleans(),
)

hour_entries = st.builds(
    HourEntry,
    id=st.none() | ids,
    version=st.none() | st.integers(min_value=0, max_value=1000),
    employee_id=ids,
    project_id=st.none() | ids,
    activity_id=st.none() | ids,
    date=dates,
    hours=st.decimals(min_value=0, max_value=24, places=2),
    comment=maybe_text,
)


def as_read_back(body: dict, record_id: str | None, version: int | None) -> dict:
    """What Tripletex echoes: the body plus the id and version it holds."""
    return body | {"id": int(record_id) if record_id else None, "version": version}


@given(customers)
def test_customer_round_trip_loses_nothing(customer: Customer) -> None:
    body = m.customer_to_tripletex(customer, include_identity=True)
    back = m.customer_from_tripletex(as_read_back(body, customer.id, customer.version))
    assert back == customer


@given(employees)
def test_employee_round_trip_loses_nothing(employee: Employee) -> None:
    body = m.employee_to_tripletex(employee, include_identity=True, for_create=True)
    back = m.employee_from_tripletex(as_read_back(body, employee.id, employee.version))
    assert back == employee


@given(projects)
def test_project_round_trip_loses_nothing(project: Project) -> None:
    body = m.project_to_tripletex(project, include_identity=True)
    back = m.project_from_tripletex(as_read_back(body, project.id, project.version))
    assert back == project


@given(hour_entries)
def test_hour_entry_round_trip_loses_nothing(entry: HourEntry) -> None:
    body = m.hour_entry_to_tripletex(entry, include_identity=True)
    back = m.hour_entry_from_tripletex(as_read_back(body, entry.id, entry.version))
    assert back == entry
    assert back.hours == Decimal(str(entry.hours))


def test_employee_user_type_follows_email() -> None:
    with_mail = m.employee_to_tripletex(Employee(first_name="Kari", email="kari@firma.no"))
    without = m.employee_to_tripletex(Employee(first_name="Ola", last_name="Nordmann"))
    assert with_mail["userType"] == "STANDARD"
    assert without["userType"] == "NO_ACCESS"
    assert "email" not in without


def test_employee_with_only_ended_employments_is_inactive() -> None:
    today = dt.date(2025, 6, 1)
    ended = {"firstName": "Per", "employments": [{"endDate": "2025-01-31"}]}
    ongoing = {"firstName": "Per", "employments": [{"endDate": "2025-01-31"}, {"endDate": None}]}
    assert not m.employee_from_tripletex(ended, today=today).is_active
    assert m.employee_from_tripletex(ongoing, today=today).is_active
    assert m.employee_from_tripletex({"firstName": "Per"}, today=today).is_active


def test_empty_tripletex_strings_and_addresses_read_as_absent() -> None:
    raw = {
        "id": 7,
        "version": 1,
        "name": "Fjord Bygg AS",
        "organizationNumber": "",
        "email": "",
        "postalAddress": {"addressLine1": "", "postalCode": "", "city": "", "country": None},
        "customerNumber": 0,
    }
    customer = m.customer_from_tripletex(raw)
    assert customer.organization_number is None
    assert customer.email is None
    assert customer.postal_address is None
    assert customer.customer_number is None


def test_an_address_with_one_part_set_is_read_and_a_bad_part_is_a_malformed_field() -> None:
    assert m.address_from_tripletex({"city": " ", "country": {"id": 161}}) == Address(
        country_code="NO"
    )
    assert m.address_from_tripletex({"city": "Os\x07lo"}) == Address(city="Oslo")
    assert m.address_from_tripletex({"city": "", "country": {"id": 999}}) is None
    with pytest.raises(MalformedFieldError) as caught:
        m.address_from_tripletex({"postalCode": 5003})
    assert caught.value.field == "postalAddress.postalCode"


def test_norway_maps_to_tripletex_country_161() -> None:
    body = m.address_to_tripletex(Address(city="Bergen", country_code="NO"))
    assert body["country"] == {"id": 161}
    assert m.address_from_tripletex(body) == Address(city="Bergen", country_code="NO")
