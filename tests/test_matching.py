"""Matching: each key, each messy variant, ambiguity, and the generated world's truth."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.datagen import generate_world
from sync.entities import Customer, Employee, Project
from sync.matching import (
    Link,
    MatchResult,
    match_customers,
    match_employees,
    match_projects,
    records_frame,
)
from sync.records import Address, Entity

ORG = "974760673"


def customer(id_: str, name: str = "Firma", **fields) -> Customer:
    postcode = fields.pop("postcode", None)
    address = Address(postal_code=postcode) if postcode else None
    return Customer(id=id_, name=name, postal_address=address, **fields)


def customers(t: list[Customer], s: list[Customer]) -> MatchResult:
    return match_customers(records_frame(t), records_frame(s))


def pairs(result: MatchResult) -> set[tuple[str, str, str]]:
    return {(link.tripletex_id, link.svenn_id, link.key) for link in result.links}


@pytest.mark.parametrize("svenn_org", [ORG, "974 760 673", "NO 974 760 673 MVA", "974.760.673"])
def test_customers_link_on_org_number_in_any_spelling(svenn_org):
    result = customers(
        [customer("1", "Hansen Bygg AS", organization_number=ORG)],
        [customer("cus_1", "Helt Annet Navn", organization_number=svenn_org)],
    )
    assert pairs(result) == {("1", "cus_1", "org_number")}


def test_customers_with_invalid_org_number_do_not_link_on_it():
    result = customers(
        [customer("1", "A", organization_number="974760674")],
        [customer("cus_1", "B", organization_number="974760674")],
    )
    assert result.links == []
    assert result.unmatched_tripletex == ["1"] and result.unmatched_svenn == ["cus_1"]


def test_customers_link_on_customer_number_when_org_number_missing():
    result = customers(
        [customer("1", "A", customer_number=10001, organization_number=ORG)],
        [customer("cus_1", "B", customer_number="10001")],
    )
    assert pairs(result) == {("1", "cus_1", "customer_number")}


def test_non_numeric_customer_number_never_links():
    result = customers(
        [customer("1", "A", customer_number="K-1")], [customer("cus_1", "B", customer_number="K-1")]
    )
    assert result.links == []


@pytest.mark.parametrize("svenn_email", ["post@hansen.no", " POST@Hansen.NO ", "Post@hansen.no"])
def test_customers_link_on_email_ignoring_case_and_whitespace(svenn_email):
    result = customers(
        [customer("1", "A", email="post@hansen.no")], [customer("cus_1", "B", email=svenn_email)]
    )
    assert pairs(result) == {("1", "cus_1", "email")}


@pytest.mark.parametrize(
    "svenn_name",
    ["Hansen Bygg AS", "HANSEN BYGG A/S", "hansen bygg", " Hansen  Bygg A.S. ", "Hansen, Bygg AS"],
)
def test_customers_link_on_name_and_postcode_for_name_variants(svenn_name):
    result = customers(
        [customer("1", "Hansen Bygg AS", postcode="0150")],
        [customer("cus_1", svenn_name, postcode="0150")],
    )
    assert pairs(result) == {("1", "cus_1", "name_postcode")}


def test_ampersand_and_og_are_the_same_name():
    result = customers(
        [customer("1", "Berg & Sønn ANS", postcode="5003")],
        [customer("cus_1", "Berg og Sønn ANS", postcode="5003")],
    )
    assert pairs(result) == {("1", "cus_1", "name_postcode")}


def test_same_name_in_another_postcode_does_not_link():
    result = customers(
        [customer("1", "Hansen Bygg AS", postcode="0150")],
        [customer("cus_1", "Hansen Bygg AS", postcode="5003")],
    )
    assert result.links == []


def test_name_with_typo_does_not_link():
    result = customers(
        [customer("1", "Hansen Bygg AS", postcode="0150")],
        [customer("cus_1", "Hasnen Bygg AS", postcode="0150")],
    )
    assert result.links == []


def test_two_svenn_candidates_make_all_three_ambiguous_and_leave_later_passes():
    result = customers(
        [customer("1", "Hansen Bygg AS", organization_number=ORG, email="post@hansen.no")],
        [
            customer("cus_1", "Hansen Bygg AS", organization_number=ORG),
            customer("cus_2", "Hansen Bygg", organization_number=ORG, email="post@hansen.no"),
        ],
    )
    assert result.links == []
    found = {(a.side, a.record_id, a.candidate_ids, a.key) for a in result.ambiguous}
    assert found == {
        ("tripletex", "1", ("cus_1", "cus_2"), "org_number"),
        ("svenn", "cus_1", ("1",), "org_number"),
        ("svenn", "cus_2", ("1",), "org_number"),
    }
    assert result.unmatched_tripletex == [] and result.unmatched_svenn == []


def test_candidate_claimed_by_two_tripletex_records_is_ambiguous():
    result = customers(
        [customer("1", "A", email="post@x.no"), customer("2", "B", email="POST@x.no")],
        [customer("cus_1", "C", email="post@x.no")],
    )
    assert result.links == []
    assert {a.record_id for a in result.ambiguous} == {"1", "2", "cus_1"}


def test_a_shared_email_with_different_valid_org_numbers_is_two_companies_not_a_conflict():
    other_org = "923609016"
    result = customers(
        [customer("1", "Regnskap AS", organization_number=ORG, email="post@regnskap.no")],
        [customer("cus_1", "Kunde AS", organization_number=other_org, email="post@regnskap.no")],
    )
    assert result.links == [] and result.ambiguous == []
    assert result.unmatched_tripletex == ["1"] and result.unmatched_svenn == ["cus_1"]
    assert result.kept_apart == 1


def test_a_strong_key_with_a_contradicting_stronger_key_is_a_conflict():
    other_org = "923609016"
    result = customers(
        [customer("1", "Regnskap AS", organization_number=ORG, customer_number=7)],
        [customer("cus_1", "Kunde AS", organization_number=other_org, customer_number=7)],
    )
    assert result.links == []
    assert {(a.record_id, a.conflict) for a in result.ambiguous} == {
        ("1", "org_number"),
        ("cus_1", "org_number"),
    }


def test_record_linked_on_a_stronger_key_is_not_reconsidered():
    result = customers(
        [
            customer("1", "A", organization_number=ORG, email="e@x.no"),
            customer("2", "B", email="e@x.no"),
        ],
        [customer("cus_1", "C", organization_number=ORG, email="e@x.no")],
    )
    assert pairs(result) == {("1", "cus_1", "org_number")}
    assert result.unmatched_tripletex == ["2"]


def employee(id_: str, first: str = "Ola", last: str | None = "Nordmann", **fields) -> Employee:
    return Employee(id=id_, first_name=first, last_name=last, **fields)


def employees(t: list[Employee], s: list[Employee]) -> MatchResult:
    return match_employees(records_frame(t), records_frame(s))


def test_employees_link_on_email_first():
    result = employees(
        [employee("1", email="Ola@X.no", employee_number="1")],
        [employee("emp_1", "Kari", email="ola@x.no ")],
    )
    assert pairs(result) == {("1", "emp_1", "email")}


def test_employees_link_on_employee_number():
    result = employees(
        [employee("1", employee_number="1001")],
        [employee("emp_1", "Per", employee_number=" 1001 ")],
    )
    assert pairs(result) == {("1", "emp_1", "employee_number")}


@pytest.mark.parametrize(
    ("first", "last"), [("Bjørn Olav", "Sæther"), ("Bjorn", "Saether"), ("BJØRN", "sæther")]
)
def test_employees_link_on_name_and_birth_date_despite_middle_names_and_letters(first, last):
    born = dt.date(1980, 5, 17)
    result = employees(
        [employee("1", "Bjørn", "Sæther", date_of_birth=born)],
        [employee("emp_1", first, last, date_of_birth=born)],
    )
    assert pairs(result) == {("1", "emp_1", "name_birth_date")}


def test_employees_with_same_name_but_other_birth_date_do_not_link():
    result = employees(
        [employee("1", date_of_birth=dt.date(1980, 1, 1))],
        [employee("emp_1", date_of_birth=dt.date(1981, 1, 1))],
    )
    assert result.links == []


def project(id_: str, name: str, **fields) -> Project:
    return Project(id=id_, name=name, start_date=dt.date(2025, 1, 1), **fields)


def test_projects_link_on_number():
    result = match_projects(
        records_frame([project("1", "Tak", number="1001")]),
        records_frame([project("prj_1", "Annet", number="1001")]),
        customer_links={},
    )
    assert pairs(result) == {("1", "prj_1", "number")}


def test_projects_link_on_name_and_customer_through_customer_links():
    t = records_frame(
        [
            project("1", "Nybygg Storgata 1", customer_id="10"),
            project("2", "Nybygg Storgata 1", customer_id="11"),
        ]
    )
    s = records_frame([project("prj_1", "NYBYGG  storgata 1", customer_id="cus_10")])
    result = match_projects(t, s, customer_links={"10": "cus_10", "11": "cus_11"})
    assert pairs(result) == {("1", "prj_1", "name_customer")}
    assert result.unmatched_tripletex == ["2"]


def test_projects_with_unlinked_customer_do_not_link_on_name():
    t = records_frame([project("1", "Nybygg", customer_id="10")])
    s = records_frame([project("prj_1", "Nybygg", customer_id="cus_10")])
    assert match_projects(t, s, customer_links={}).links == []


def test_empty_inputs_give_empty_result():
    result = customers([], [])
    assert result == MatchResult()
    result = customers([customer("1")], [])
    assert result.unmatched_tripletex == ["1"] and result.links == []


# --- properties ---------------------------------------------------------------------------

ORGS = ["974760673", "923609016", "NO 974 760 673 MVA", "974760674", None]
field_values = st.fixed_dictionaries(
    {
        "name": st.sampled_from(
            ["Hansen Bygg AS", "HANSEN BYGG A/S", "Berg & Sønn", "Berg og Sønn"]
        ),
        "organization_number": st.sampled_from(ORGS),
        "customer_number": st.sampled_from([1, 2, 3, None, "K-1"]),
        "email": st.sampled_from(["a@x.no", "B@x.no", " b@x.no", None, "bad"]),
        "postcode": st.sampled_from(["0150", "5003", None]),
    }
)


def side(prefix: str, values: list[dict]) -> list[Customer]:
    return [customer(f"{prefix}{i}", **v) for i, v in enumerate(values)]


@settings(max_examples=60, deadline=None)
@given(st.lists(field_values, max_size=8), st.lists(field_values, max_size=8), st.randoms())
def test_matching_partitions_ids_and_ignores_row_order(t_values, s_values, rnd):
    t, s = side("t", t_values), side("s", s_values)
    result = customers(t, s)
    for records, own, unmatched, linked in (
        (t, "tripletex", result.unmatched_tripletex, [link.tripletex_id for link in result.links]),
        (s, "svenn", result.unmatched_svenn, [link.svenn_id for link in result.links]),
    ):
        ambiguous = [a.record_id for a in result.ambiguous if a.side == own]
        everything = linked + ambiguous + unmatched
        assert sorted(everything) == sorted(r.id for r in records)  # each id exactly once
    rnd.shuffle(t)
    rnd.shuffle(s)
    assert customers(t, s) == result


@settings(max_examples=40, deadline=None)
@given(field_values)
def test_a_record_equal_on_both_sides_always_links(values):
    one = customer("1", **values)
    twin = customer("cus_1", **values)
    result = customers([one], [twin])
    has_key = result.links or result.unmatched_tripletex
    assert has_key
    keyed = any(
        [
            values["organization_number"] in (ORG, "923609016", "NO 974 760 673 MVA"),
            isinstance(values["customer_number"], int),
            values["email"] not in (None, "bad"),
            values["postcode"] is not None,
        ]
    )
    assert [(link.tripletex_id, link.svenn_id) for link in result.links] == (
        [("1", "cus_1")] if keyed else []
    )


# --- against the generated world ----------------------------------------------------------


@pytest.mark.parametrize(("size", "seed"), [("small", 0), ("small", 7), (120, 3)])
def test_generated_world_links_exactly_the_unambiguous_truth(size, seed):
    world = generate_world(size, seed=seed)
    results = {
        Entity.EMPLOYEE: match_employees(
            records_frame(world.tripletex.employees), records_frame(world.svenn.employees)
        ),
        Entity.CUSTOMER: match_customers(
            records_frame(world.tripletex.customers), records_frame(world.svenn.customers)
        ),
    }
    links = {link.tripletex_id: link.svenn_id for link in results[Entity.CUSTOMER].links}
    results[Entity.PROJECT] = match_projects(
        records_frame(world.tripletex.projects),
        records_frame(world.svenn.projects),
        customer_links=links,
    )
    for entity, result in results.items():
        truth = world.truth[entity]
        expected = {(t, s) for t, s in truth.items() if t not in world.ambiguous}
        assert {(link.tripletex_id, link.svenn_id) for link in result.links} == expected
        assert {a.record_id for a in result.ambiguous} <= world.ambiguous
        ambiguous_truth = {t for t in truth if t in world.ambiguous}
        assert ambiguous_truth <= {a.record_id for a in result.ambiguous}


def test_links_are_sorted_and_typed():
    result = customers(
        [customer("2", email="b@x.no"), customer("1", email="a@x.no")],
        [customer("s1", email="a@x.no"), customer("s2", email="b@x.no")],
    )
    assert result.links == [Link("1", "s1", "email"), Link("2", "s2", "email")]
    assert isinstance(records_frame([customer("1", postcode="0150")]), pd.DataFrame)
