"""Sync rules: each rule in both directions, messages in English and Norwegian."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.entities import Customer, Employee, HourEntry, Project
from sync.keys import KeyValues
from sync.matching import records_frame
from sync.records import Direction, Entity
from sync.rules import (
    MESSAGES,
    ReasonCode,
    check_record,
    is_blocked,
    message,
    tripletex_user_type,
)
from sync.rules_frames import breaking_no_rule

BOTH = [Direction.TRIPLETEX_TO_SVENN, Direction.SVENN_TO_TRIPLETEX]
TO_TRIPLETEX = Direction.SVENN_TO_TRIPLETEX
TO_SVENN = Direction.TRIPLETEX_TO_SVENN
START = dt.date(2025, 1, 1)


def codes(record, direction) -> set[ReasonCode]:
    return {v.code for v in check_record(record, direction)}


def good_customer(**fields) -> Customer:
    base = {"name": "Hansen Bygg AS", "organization_number": "974760673", "customer_number": 10001,
            "email": "post@hansen.no"}  # fmt: skip
    return Customer(**(base | fields))


def good_employee(**fields) -> Employee:
    base = {"first_name": "Kari", "last_name": "Nordmann", "email": "kari@firma.no"}
    return Employee(**(base | fields))


def good_project(**fields) -> Project:
    return Project(**({"name": "Nybygg", "number": "1001", "start_date": START} | fields))


def hours(**fields) -> HourEntry:
    base = {"employee_id": "emp_1", "project_id": "prj_1", "date": START, "hours": Decimal("7.5")}
    return HourEntry(**(base | fields))


@pytest.mark.parametrize("direction", BOTH)
def test_valid_records_break_no_rule(direction):
    assert codes(good_customer(), direction) == set()
    assert codes(good_employee(), direction) == set()
    assert codes(good_project(), direction) == set()


@pytest.mark.parametrize("direction", BOTH)
@pytest.mark.parametrize(
    ("record", "code"),
    [
        (good_customer(is_active=False), ReasonCode.CUSTOMER_INACTIVE),
        (good_customer(customer_number="K-10"), ReasonCode.CUSTOMER_NUMBER_NOT_NUMERIC),
        (good_customer(organization_number="974760674"), ReasonCode.ORG_NUMBER_INVALID),
        (good_customer(organization_number="12345"), ReasonCode.ORG_NUMBER_INVALID),
        (good_customer(email="post(at)hansen.no"), ReasonCode.EMAIL_INVALID),
        (good_customer(name="  "), ReasonCode.NAME_MISSING),
        (good_customer(name="x" * 256), ReasonCode.FIELD_TOO_LONG),
        (good_employee(last_name=None), ReasonCode.EMPLOYEE_NO_LAST_NAME),
        (good_employee(last_name=" "), ReasonCode.EMPLOYEE_NO_LAST_NAME),
        (good_employee(email="kari at firma"), ReasonCode.EMAIL_INVALID),
        (good_employee(first_name=" "), ReasonCode.NAME_MISSING),
        (good_employee(last_name="x" * 101), ReasonCode.FIELD_TOO_LONG),
        (good_project(start_date=None), ReasonCode.PROJECT_NO_START_DATE),
        (good_project(parent_project_id="7"), ReasonCode.PROJECT_IS_SUBPROJECT),
        (good_project(is_internal=True), ReasonCode.PROJECT_IS_INTERNAL),
        (good_project(end_date=dt.date(2024, 1, 1)), ReasonCode.PROJECT_END_BEFORE_START),
        (good_project(name=""), ReasonCode.NAME_MISSING),
    ],
)
def test_rule_applies_in_both_directions_and_blocks(record, code, direction):
    violations = check_record(record, direction)
    assert code in {v.code for v in violations}
    assert is_blocked(violations)
    (hit,) = [v for v in violations if v.code == code]
    assert hit.message_en and hit.message_no and hit.message_en != hit.message_no
    assert hit.field is not None


def test_org_number_in_messy_spelling_is_not_a_violation():
    assert codes(good_customer(organization_number="NO 974 760 673 MVA"), TO_TRIPLETEX) == set()
    assert codes(good_customer(organization_number=None), TO_TRIPLETEX) == set()


def test_numeric_customer_number_given_as_text_is_accepted():
    record = good_customer(customer_number="10001")
    assert record.customer_number == 10001
    assert codes(record, TO_SVENN) == set()


def test_employee_without_email_goes_to_tripletex_as_no_access_user():
    employee = good_employee(email=None)
    violations = check_record(employee, TO_TRIPLETEX)
    assert [v.code for v in violations] == [ReasonCode.EMPLOYEE_NO_EMAIL]
    assert not is_blocked(violations)
    assert tripletex_user_type(employee) == "NO_ACCESS"
    assert tripletex_user_type(good_employee()) == "STANDARD"


def test_employee_without_email_is_fine_going_to_svenn():
    assert codes(good_employee(email=None), TO_SVENN) == set()


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (hours(status="submitted"), ReasonCode.HOURS_NOT_APPROVED),
        (hours(status="draft"), ReasonCode.HOURS_NOT_APPROVED),
        (hours(status="rejected"), ReasonCode.HOURS_NOT_APPROVED),
        (hours(hours=Decimal(0)), ReasonCode.HOURS_ZERO),
        (hours(project_id=None), ReasonCode.HOURS_NO_PROJECT),
    ],
)
def test_hours_rules_stop_export_to_tripletex(entry, code):
    assert codes(entry, TO_TRIPLETEX) == {code}


def test_approved_hours_on_a_project_export():
    assert check_record(hours(), TO_TRIPLETEX) == []


def test_hours_never_go_to_svenn():
    assert codes(hours(), TO_SVENN) == {ReasonCode.ENTITY_NOT_SYNCED_IN_DIRECTION}


def test_several_violations_are_all_reported():
    record = good_project(start_date=None, is_internal=True, parent_project_id="1")
    assert codes(record, TO_SVENN) == {
        ReasonCode.PROJECT_NO_START_DATE,
        ReasonCode.PROJECT_IS_INTERNAL,
        ReasonCode.PROJECT_IS_SUBPROJECT,
    }


def test_every_code_has_both_messages_and_stable_value():
    assert set(MESSAGES) == set(ReasonCode)
    for code in ReasonCode:
        assert code.value == code.name
        english, norwegian = message(code)
        assert english.strip() and norwegian.strip()


def test_message_fills_context_and_tolerates_missing_values():
    english, norwegian = message(ReasonCode.CUSTOMER_INACTIVE, name="Hansen Bygg AS")
    assert "Hansen Bygg AS" in english and "Hansen Bygg AS" in norwegian
    assert "inaktiv" in norwegian
    english, _ = message(ReasonCode.TARGET_REJECTED)
    assert "–" in english


@pytest.mark.parametrize("number", [2**31, 10**12, 0, -5])
def test_customer_number_outside_int32_is_a_failed_record_in_both_directions(number) -> None:
    for direction in BOTH:
        violations = check_record(good_customer(customer_number=number), direction)
        assert [v.code for v in violations] == [ReasonCode.CUSTOMER_NUMBER_OUT_OF_RANGE]
        assert is_blocked(violations)
        english, norwegian = violations[0].message_en, violations[0].message_no
        assert str(number) in english and "2147483647" in english
        assert str(number) in norwegian and "2147483647" in norwegian


def test_largest_int32_customer_number_syncs() -> None:
    for direction in BOTH:
        assert codes(good_customer(customer_number=2**31 - 1), direction) == set()


def test_employee_email_longer_than_tripletex_takes_is_refused_towards_tripletex() -> None:
    long_email = "k" * 95 + "@firma.no"  # 104 characters: fine in Svenn, too long for Tripletex
    assert ReasonCode.FIELD_TOO_LONG in codes(good_employee(email=long_email), TO_TRIPLETEX)
    assert ReasonCode.FIELD_TOO_LONG not in codes(good_employee(email=long_email), TO_SVENN)
    assert codes(good_employee(email="k" * 91 + "@firma.no"), TO_TRIPLETEX) == set()


def _customer_value(draw_from):
    return st.one_of(st.none(), st.sampled_from(draw_from), st.text(max_size=12))


customers = st.builds(
    Customer,
    id=st.integers(0, 10**6).map(str),
    name=st.one_of(st.sampled_from(["Hansen Bygg AS", "  ", "", " Bygg ", "x" * 256]), st.text()),
    organization_number=_customer_value(["974760673", "974760674", "NO 974 760 673 MVA", " "]),
    customer_number=st.one_of(
        st.none(), st.integers(-5, 2**32), st.sampled_from(["K-10", " 12 ", "  ", ""])
    ),
    email=_customer_value(
        ["post@hansen.no", " Post@Hansen.NO ", "post(at)hansen.no", "  ", "a" * 250 + "@b.no"]
    ),
    is_active=st.booleans(),
)


@given(st.lists(customers, max_size=30))
def test_customers_the_first_look_vouches_for_break_no_rule(records):
    frame = records_frame(records)
    passing = breaking_no_rule(Entity.CUSTOMER, KeyValues(frame))
    for record, vouched in zip(records, passing, strict=True):
        if vouched:
            assert check_record(record, TO_SVENN) == check_record(record, TO_TRIPLETEX) == []


def test_the_first_look_vouches_for_plain_customers_and_no_other_entity():
    records = [
        good_customer(id="1"),
        good_customer(id="2", email=None, organization_number=None),
        good_customer(id="3", is_active=False),
        good_customer(id="4", customer_number="K"),
    ]
    passing = breaking_no_rule(Entity.CUSTOMER, KeyValues(records_frame(records)))
    assert passing.tolist() == [True, True, False, False]
    projects = records_frame([good_project(id="1")])
    assert not breaking_no_rule(Entity.PROJECT, KeyValues(projects)).any()
