"""The shapes of messy real-world data (issue 11): duplicates inside one system are held back,
plainly different companies are both synced, and the messages name the records involved."""

from __future__ import annotations

import datetime as dt

from sync.entities import Customer, Employee, Project
from sync.plan import EntityPlan, plan_entity
from sync.records import Address, Entity

ORG_A, ORG_B, ORG_C = "974760673", "923609016", "923456783"
START = dt.date(2025, 1, 1)


def customer(id_: str, name: str, postcode: str | None = None, **fields) -> Customer:
    address = Address(postal_code=postcode) if postcode else None
    return Customer(id=id_, name=name, postal_address=address, **fields)


def plan_customers(tx, sv, linked=None) -> EntityPlan:
    return plan_entity(Entity.CUSTOMER, tx, sv, linked=linked or {})


def links(plan: EntityPlan) -> set[tuple[str, str]]:
    return {(lk.tripletex_id, lk.svenn_id) for lk in plan.links}


def failed(plan: EntityPlan) -> dict[str, str]:
    return {str(f.svenn_id or f.tripletex_id): f.reason_code for f in plan.failures}


def created(plan: EntityPlan) -> tuple[set[str], set[str]]:
    """(ids created in Svenn, ids created in Tripletex)."""
    return {str(r.id) for r in plan.create_in_svenn}, {str(r.id) for r in plan.create_in_tripletex}


# --- an older duplicate without org number next to the newer one ---------------------------


def test_older_svenn_duplicate_without_org_number_is_held_back_not_created_in_tripletex():
    tx = [customer("1", "Berg & Sønn AS", "5003", organization_number=ORG_A, email="post@berg.no")]
    sv = [
        customer(
            "cus_2", "BERG OG SØNN AS", "5003", organization_number=ORG_A, email="post@berg.no"
        ),
        customer("cus_1", "berg & sønn as", "5003", email=" Post@Berg.no"),  # older, no org
    ]
    plan = plan_customers(tx, sv)
    assert links(plan) == {("1", "cus_2")}
    assert created(plan) == (set(), set())
    (failure,) = plan.failures
    assert (failure.reason_code, failure.svenn_id) == ("DUPLICATE_IN_SOURCE", "cus_1")
    cards = failure.details.pop("cards")
    assert failure.details == {"key": "email", "duplicate_of": ["cus_2"], "linked_to": ["1"]}
    assert cards == {  # what the Logg page shows beside it (sync/record_card.py)
        "cus_2": {
            "name": "BERG OG SØNN AS",
            "organization_number": ORG_A,
            "email": "post@berg.no",
            "address": "5003",  # the postcode is all its address holds
            "number": None,
        }
    }
    assert "cus_2 'BERG OG SØNN AS'" in failure.message_en
    assert "1 'Berg & Sønn AS' in Tripletex" in failure.message_en
    assert "merge the duplicates in Svenn" in failure.message_en
    assert "slå sammen duplikatene i Svenn" in failure.message_no
    assert "cus_2 «BERG OG SØNN AS»" in failure.message_no


def test_a_duplicate_of_a_record_linked_by_an_earlier_run_is_held_back_too():
    tx = [customer("1", "Berg og Sønn AS", "5003", organization_number=ORG_A)]
    sv = [
        customer("cus_2", "Berg og Sønn AS", "5003", organization_number=ORG_A),
        customer("cus_1", "Berg og Sønn", "5003"),
    ]
    plan = plan_customers(tx, sv, linked={"1": "cus_2"})
    assert failed(plan) == {"cus_1": "DUPLICATE_IN_SOURCE"}
    assert plan.failures[0].details["key"] == "name_postcode"
    assert created(plan) == (set(), set())


def test_a_duplicate_inside_tripletex_is_held_back_with_a_message_about_tripletex():
    tx = [
        customer("1", "Fjord Rør AS", "0150", organization_number=ORG_A, customer_number=10),
        customer("2", "Fjord Rør AS", "0150", customer_number=11),
    ]
    sv = [customer("cus_1", "Fjord Rør AS", "0150", organization_number=ORG_A)]
    plan = plan_customers(tx, sv)
    assert links(plan) == {("1", "cus_1")}
    assert failed(plan) == {"2": "DUPLICATE_IN_SOURCE"}
    assert "merge the duplicates in Tripletex" in plan.failures[0].message_en
    assert "in Svenn" in plan.failures[0].message_en  # where its twin is linked


def test_two_unmatched_duplicates_create_the_company_once_the_one_with_org_number():
    sv = [
        customer("cus_1", "Nordlys Maler", "9008", email="post@nordlys.no"),
        customer("cus_2", "Nordlys Maler AS", "9008", organization_number=ORG_B),
    ]
    plan = plan_customers([], sv)
    assert created(plan) == (set(), {"cus_2"})
    (failure,) = plan.failures
    assert (failure.svenn_id, failure.details["duplicate_of"]) == ("cus_1", ["cus_2"])
    assert "which is the one the sync sends to Tripletex" in failure.message_en


# --- different valid org numbers, legal forms ----------------------------------------------


def test_shared_accountant_email_with_different_org_numbers_creates_each_on_the_other_side():
    acct = "post@regnskap.no"
    tx = [
        customer("1", "Hansen Tak AS", "0150", organization_number=ORG_A, email=acct),
        customer("2", "Dahl Bygg AS", "5003", organization_number=ORG_C, email=acct),
    ]
    sv = [
        customer("cus_1", "Hansen Tak AS", "0150", organization_number=ORG_A, email=acct),
        customer("cus_2", "Lie Elektro AS", "7010", organization_number=ORG_B, email=acct),
    ]
    plan = plan_customers(tx, sv)
    assert links(plan) == {("1", "cus_1")}
    assert plan.failures == []
    assert created(plan) == ({"2"}, {"cus_2"})


def test_a_shared_email_is_no_duplicate_signal_even_for_a_record_without_org_number():
    acct = "faktura@regnskap.no"
    sv = [
        customer("cus_1", "Hansen Tak AS", organization_number=ORG_A, email=acct),
        customer("cus_2", "Lie Elektro AS", organization_number=ORG_B, email=acct),
        customer("cus_3", "Moe Snekkeri", email=acct),
    ]
    plan = plan_customers([customer("1", "Hansen Tak AS", organization_number=ORG_A)], sv)
    assert plan.failures == []
    assert created(plan) == (set(), {"cus_2", "cus_3"})


def test_enk_and_as_of_the_same_name_and_postcode_are_two_legal_persons():
    tx = [customer("1", "Jon Mur AS", "0150", email="post@jonmur.no")]
    sv = [customer("cus_1", "Jon Mur ENK", "0150", email="jon@jonmur.no")]
    plan = plan_customers(tx, sv)
    assert plan.links == [] and plan.failures == []
    assert created(plan) == ({"1"}, {"cus_1"})


def test_enk_next_to_a_linked_as_of_the_same_name_is_not_a_duplicate():
    tx = [customer("1", "Jon Mur AS", "0150", organization_number=ORG_A)]
    sv = [
        customer("cus_1", "Jon Mur AS", "0150", organization_number=ORG_A),
        customer("cus_2", "Jon Mur ENK", "0150"),
    ]
    plan = plan_customers(tx, sv)
    assert links(plan) == {("1", "cus_1")} and plan.failures == []
    assert created(plan) == (set(), {"cus_2"})


def test_as_a_slash_s_and_lower_case_as_are_one_company():
    for spelling in ("HANSEN BYGG A/S", "hansen bygg as", "Hansen Bygg A.S.", "Hansen Bygg"):
        plan = plan_customers(
            [customer("1", "Hansen Bygg AS", "0150")], [customer("cus_1", spelling, "0150")]
        )
        assert [(lk.tripletex_id, lk.svenn_id, lk.key) for lk in plan.links] == [
            ("1", "cus_1", "name_postcode")
        ], spelling


def test_namesakes_in_one_postcode_with_different_org_numbers_are_both_synced():
    tx = [customer("1", "Hansen Bygg AS", "0150", organization_number=ORG_A)]
    sv = [customer("cus_1", "Hansen Bygg AS", "0150", organization_number=ORG_B)]
    plan = plan_customers(tx, sv)
    assert plan.links == [] and plan.failures == []
    assert created(plan) == ({"1"}, {"cus_1"})


def test_a_namesake_without_org_number_that_could_be_either_company_is_not_guessed():
    tx = [customer("1", "Hansen Bygg AS", "0150", organization_number=ORG_A)]
    sv = [
        customer("cus_1", "Hansen Bygg AS", "0150", organization_number=ORG_B),
        customer("cus_2", "Hansen Bygg", "0150"),
    ]
    plan = plan_customers(tx, sv)
    assert plan.links == []
    assert failed(plan) == {"1": "AMBIGUOUS_MATCH", "cus_2": "AMBIGUOUS_MATCH"}
    assert created(plan) == (set(), {"cus_1"})
    message = next(f.message_en for f in plan.failures if f.svenn_id == "cus_2")
    assert "1 'Hansen Bygg AS'" in message and "cus_1 'Hansen Bygg AS' in Svenn" in message


# --- what the messages say --------------------------------------------------------------------


def test_an_ambiguity_names_at_most_five_candidates_and_how_many_more():
    tx = [customer("1", "Bygg AS", organization_number=ORG_A)]
    sv = [customer(f"cus_{i}", f"Bygg {i} AS", organization_number=ORG_A) for i in range(1, 8)]
    plan = plan_customers(tx, sv)
    failure = next(f for f in plan.failures if f.tripletex_id == "1")
    assert failure.reason_code == "AMBIGUOUS_MATCH"
    assert "cus_1 'Bygg 1 AS', cus_2 'Bygg 2 AS'" in failure.message_en
    assert "cus_5 'Bygg 5 AS' and 2 more" in failure.message_en
    assert "cus_6" not in failure.message_en
    assert "og 2 til" in failure.message_no
    assert "merge the duplicates" in failure.message_en
    assert failure.details["candidates"] == [f"cus_{i}" for i in range(1, 8)]


def test_a_conflict_says_which_key_differs_and_what_to_correct():
    tx = [customer("1", "Bygg AS", organization_number=ORG_A, customer_number=7)]
    sv = [customer("cus_1", "Annen AS", organization_number=ORG_B, customer_number=7)]
    plan = plan_customers(tx, sv)
    failure = next(f for f in plan.failures if f.tripletex_id == "1")
    assert failure.reason_code == "MATCH_CONFLICT"
    assert "cus_1 'Annen AS' in Svenn by customer number" in failure.message_en
    assert "organisation number differs" in failure.message_en
    assert "organisasjonsnummer er ulik" in failure.message_no


# --- employees and projects --------------------------------------------------------------------


def employee(id_: str, first: str = "Kari", last: str = "Nordmann", **fields) -> Employee:
    return Employee(id=id_, first_name=first, last_name=last, **fields)


def test_employee_with_the_email_of_a_linked_employee_record_is_held_back():
    born = dt.date(1985, 3, 1)
    tx = [employee("1", employee_number="7", date_of_birth=born)]
    sv = [
        employee("emp_1", email="kari@firma.no", employee_number="7", date_of_birth=born),
        employee("emp_2", "Kari Anne", email="KARI@firma.no "),
    ]
    plan = plan_entity(Entity.EMPLOYEE, tx, sv, linked={})
    assert links(plan) == {("1", "emp_1")}
    assert failed(plan) == {"emp_2": "DUPLICATE_IN_SOURCE"}
    assert plan.failures[0].details["key"] == "email"
    assert not plan.create_in_tripletex


def test_employee_with_same_name_and_birth_date_is_a_duplicate_but_other_birth_date_is_not():
    born = dt.date(1985, 3, 1)
    tx = [employee("1", email="kari@firma.no", date_of_birth=born)]
    sv = [
        employee("emp_1", email="kari@firma.no", date_of_birth=born),
        employee("emp_2", "Kari", "Nordmann", date_of_birth=born),
        employee("emp_3", "Kari", "Nordmann", date_of_birth=dt.date(1990, 1, 1)),
    ]
    plan = plan_entity(Entity.EMPLOYEE, tx, sv, linked={})
    assert failed(plan) == {"emp_2": "DUPLICATE_IN_SOURCE"}
    assert {str(r.id) for r in plan.create_in_tripletex} == {"emp_3"}


def test_a_shared_mailbox_of_people_with_different_birth_dates_is_no_duplicate_signal():
    tx = [employee("1", "Ola", email="post@firma.no", date_of_birth=dt.date(1980, 1, 1))]
    sv = [
        employee("emp_1", "Ola", email="post@firma.no", date_of_birth=dt.date(1980, 1, 1)),
        employee("emp_2", "Per", email="post@firma.no", date_of_birth=dt.date(1991, 5, 5)),
    ]
    plan = plan_entity(Entity.EMPLOYEE, tx, sv, linked={})
    assert plan.failures == []
    assert {str(r.id) for r in plan.create_in_tripletex} == {"emp_2"}


def project(id_: str, name: str, **fields) -> Project:
    return Project(id=id_, name=name, start_date=START, **fields)


def test_a_project_with_the_name_and_customer_of_a_linked_project_is_held_back():
    tx = [project("1", "Tak Storgata 1", number="1001", customer_id="10")]
    sv = [
        project("prj_1", "Tak Storgata 1", number="1001", customer_id="cus_10"),
        project("prj_2", "TAK STORGATA 1", customer_id="cus_10"),
        project("prj_3", "Tak Storgata 1", customer_id="cus_11"),  # another customer's
    ]
    plan = plan_entity(Entity.PROJECT, tx, sv, linked={}, customer_links={"10": "cus_10"})
    assert links(plan) == {("1", "prj_1")}
    assert failed(plan) == {"prj_2": "DUPLICATE_IN_SOURCE"}
    assert plan.failures[0].details["key"] == "name_customer"
    assert {str(r.id) for r in plan.create_in_tripletex} == {"prj_3"}


def test_a_project_with_the_number_of_a_linked_project_is_held_back():
    tx = [project("1", "Tak Storgata 1", customer_id="10")]
    sv = [
        project("prj_1", "Tak Storgata 1", number="1001", customer_id="cus_10"),
        project("prj_2", "Fasade Storgata 1", number=" 1001", customer_id="cus_11"),
    ]
    plan = plan_entity(Entity.PROJECT, tx, sv, linked={}, customer_links={"10": "cus_10"})
    assert links(plan) == {("1", "prj_1")}
    assert failed(plan) == {"prj_2": "DUPLICATE_IN_SOURCE"}
    assert plan.failures[0].details["key"] == "number"
    assert not plan.create_in_tripletex
