"""The initial-sync plan and the target's rules, with plain data (no I/O)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from sync.entities import Customer, Employee, Project
from sync.plan import _pair_identical, plan_entity
from sync.records import Direction, Entity
from sync.target_rules import TargetFacts, keys_in_use, prepare_creates

START = dt.date(2026, 1, 5)


def customer(id_: str, name: str, **fields) -> Customer:
    return Customer(id=id_, name=name, **fields)


def test_records_already_linked_are_left_alone():
    tx = [customer("1", "Bygg AS", organization_number="923456783")]
    sv = [customer("a", "Bygg A/S", organization_number="NO 923 456 783 MVA")]
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={"1": "a"})
    assert plan.counts() == {
        "already_linked": 1,
        "to_link": 0,
        "to_align": 0,
        "to_create_in_svenn": 0,
        "to_create_in_tripletex": 0,
        "will_fail": 0,
    }


def test_a_record_created_just_before_a_crash_is_found_again_not_created_twice():
    # Step 2 created "b" in Tripletex as "2" and died before storing the link.
    tx = [customer("2", "Ny Kunde AS", customer_number=5)]
    sv = [customer("b", "Ny Kunde AS", customer_number=5)]
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    assert [(lk.tripletex_id, lk.svenn_id) for lk in plan.links] == [("2", "b")]
    assert not plan.create_in_svenn and not plan.create_in_tripletex


def test_rules_stop_records_before_matching_with_both_messages():
    tx = [customer("1", "Gammel AS", is_active=False)]
    plan = plan_entity(Entity.CUSTOMER, tx, [], linked={})
    (failure,) = plan.failures
    assert failure.reason_code == "CUSTOMER_INACTIVE"
    assert "Gammel AS" in failure.message_en and "inaktiv" in failure.message_no
    assert not plan.create_in_svenn


def test_ambiguous_records_fail_and_nothing_is_created_for_them():
    tx = [customer("1", "Bygg AS", organization_number="923456783")]
    sv = [
        customer("a", "Bygg AS", organization_number="923456783"),
        customer("b", "Bygg AS avd. Bergen", organization_number="923456783"),
    ]
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    assert not plan.links and not plan.create_in_svenn and not plan.create_in_tripletex
    assert {f.reason_code for f in plan.failures} == {"AMBIGUOUS_MATCH"}


def test_employees_without_email_are_created_not_refused():
    sv = [Employee(id="e1", first_name="Ola", last_name="Nordmann")]
    plan = plan_entity(Entity.EMPLOYEE, [], sv, linked={})
    assert [r.id for r in plan.create_in_tripletex] == ["e1"]
    assert not plan.failures


def test_a_value_taken_in_the_target_is_refused_before_sending():
    existing = [customer("9", "Annen AS", customer_number=10)]
    ready, failures = prepare_creates(
        [customer("a", "Ny AS", customer_number=10), customer("b", "Fri AS", customer_number=11)],
        Direction.SVENN_TO_TRIPLETEX,
        TargetFacts(existing=existing),
    )
    assert [s.id for s, _ in ready] == ["b"]
    assert [f.reason_code for f in failures] == ["KEY_IN_USE"]
    assert "customer number '10'" in failures[0].message_en


def test_projects_point_at_target_ids_and_respect_project_manager_access():
    project = Project(
        id="p1", name="Tak", customer_id="c1", project_manager_id="e1", start_date=START
    )
    facts = TargetFacts(
        customers={"c1": "101"},
        employees={"e1": "201"},
        fallback_manager="200",
        project_managers=frozenset({"200", "201"}),
    )
    ready, failures = prepare_creates([project], Direction.SVENN_TO_TRIPLETEX, facts)
    assert not failures
    target = ready[0][1]
    assert (target.id, target.customer_id, target.project_manager_id) == (None, "101", "201")

    no_access = TargetFacts(
        customers={"c1": "101"}, employees={"e1": "201"}, project_managers=frozenset({"200"})
    )
    _, failures = prepare_creates([project], Direction.SVENN_TO_TRIPLETEX, no_access)
    assert [f.reason_code for f in failures] == ["PROJECT_MANAGER_NO_ACCESS"]

    orphan = TargetFacts(employees={"e1": "201"})
    _, failures = prepare_creates([project], Direction.SVENN_TO_TRIPLETEX, orphan)
    assert [f.reason_code for f in failures] == ["PROJECT_CUSTOMER_NOT_LINKED"]


def test_a_project_without_manager_gets_the_keys_own_user_in_tripletex():
    project = Project(id="p1", name="Tak", start_date=START)
    facts = TargetFacts(fallback_manager="200", project_managers=frozenset({"200"}))
    ready, _ = prepare_creates([project], Direction.SVENN_TO_TRIPLETEX, facts)
    assert ready[0][1].project_manager_id == "200"


def test_written_copies_carry_clean_keys():
    ready, _ = prepare_creates(
        [
            customer(
                "a", "Bygg AS", organization_number="NO 923 456 783 MVA", email=" Post@Bygg.NO "
            )
        ],
        Direction.SVENN_TO_TRIPLETEX,
        TargetFacts(),
    )
    target = ready[0][1]
    assert (target.organization_number, target.email) == ("923456783", "post@bygg.no")


def test_keys_in_use_compares_emails_without_case():
    taken = keys_in_use([Employee(id="1", first_name="Kari", last_name="N", email="Kari@Firma.no")])
    ready, failures = prepare_creates(
        [Employee(id="x", first_name="Kari", last_name="N", email="kari@firma.NO")],
        Direction.TRIPLETEX_TO_SVENN,
        TargetFacts(
            existing=[Employee(id="1", first_name="Kari", last_name="N", email="Kari@Firma.no")]
        ),
    )
    assert taken["e-mail"] == {"kari@firma.no"}
    assert not ready and failures[0].reason_code == "KEY_IN_USE"


def test_the_resume_key_pairs_identical_records_that_have_no_identifier():
    tx = [customer("2", "Ny Kunde AS")]  # no number, org number, e-mail or postcode
    sv = [customer("b", "Ny Kunde AS")]
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    assert [(lk.tripletex_id, lk.svenn_id, lk.key) for lk in plan.links] == [
        ("2", "b", "same_content")
    ]
    assert not plan.create_in_svenn and not plan.create_in_tripletex


def _identical_pairs(tx, sv) -> list[tuple[str, str]]:
    """The resume key by its definition: fingerprints unique on each side, paired."""

    def unique(records):
        prints = [r.fingerprint() for r in records]
        return {p: r.id for p, r in zip(prints, records, strict=True) if prints.count(p) == 1}

    tx_prints, sv_prints = unique(tx), unique(sv)
    return [(t, sv_prints[p]) for p, t in tx_prints.items() if p in sv_prints]


small_customers = st.builds(
    Customer,
    name=st.sampled_from(["Ny Kunde AS", "Bygg", "bygg"]),
    email=st.sampled_from([None, "post@bygg.no"]),
    customer_number=st.sampled_from([None, 7]),
)


@given(st.lists(small_customers, max_size=8), st.lists(small_customers, max_size=8))
def test_the_resume_key_pairs_exactly_the_records_with_a_unique_identical_twin(tx, sv):
    tx = [r.model_copy(update={"id": f"t{i}"}) for i, r in enumerate(tx)]
    sv = [r.model_copy(update={"id": f"s{i}"}) for i, r in enumerate(sv)]
    paired = _pair_identical(Entity.CUSTOMER, tx, sv)
    assert [(lk.tripletex_id, lk.svenn_id) for lk in paired] == _identical_pairs(tx, sv)


def test_failures_carry_their_own_payloads_and_the_cards_of_their_records():
    from sync.record_card import cards

    # Two Tripletex companies share an org number with one in Svenn: all three ambiguous,
    # each the others' candidate; a Svenn record twice is held back.
    tx = [
        customer("1", "Bygg AS", organization_number="923456783", email="a@bygg.no"),
        customer("2", "Bygg Vest AS", organization_number="923456783"),
    ]
    sv = [
        customer("a", "Bygg AS", organization_number="923456783"),
        customer("b", "X", customer_number=-1),
        customer("c", "X", customer_number=-1),
        customer("d", "Dup AS", email="post@dup.no"),
        customer("e", "Dup AS", email="post@dup.no"),
    ]
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    records = {"tripletex": {r.id: r for r in tx}, "svenn": {r.id: r for r in sv}}
    assert {"AMBIGUOUS_MATCH", "DUPLICATE_IN_SOURCE"} <= set(plan.failure_reasons())
    assert len({id(f.payload) for f in plan.failures}) == len(plan.failures)
    for failure in plan.failures:
        side = "svenn" if failure.svenn_id else "tripletex"
        own = records[side][failure.svenn_id or failure.tripletex_id]
        assert failure.payload == own.model_dump(mode="json")
        details = failure.details or {}
        if "cards" in details:
            ids = details.get("candidates") or details.get("duplicate_of")
            other = side if "duplicate_of" in details else ({"svenn", "tripletex"} - {side}).pop()
            assert details["cards"] == cards(ids, records[other])
