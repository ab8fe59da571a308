"""The three-way field merge (sync.merge): examples, then properties over random edits."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.datagen import WorldSize, generate_world
from sync.entities import Customer, Kind
from sync.initial_plan import plan_initial_sync
from sync.merge import (
    KINDS,
    PRECEDENCE,
    SYNCED_FIELDS,
    Precedence,
    agreed,
    merge_entity,
    same_value,
)
from sync.records import Entity, System

C = Entity.CUSTOMER

BASE: dict[str, Any] = {
    "name": "Fjord Eiendom AS",
    "organization_number": "923456789",
    "customer_number": 10001,
    "email": "post@fjord.no",
    "phone": "+4755000000",
    "postal_address": {"address_line1": "Strandkaien 2", "postal_code": "5013", "city": "Bergen"},
    "is_active": True,
}


def edit(**changes: Any) -> dict[str, Any]:
    return BASE | changes


def test_nothing_changed_writes_nothing() -> None:
    decision = merge_entity(C, BASE, BASE, BASE)
    assert decision.writes_nothing and not decision.conflicts
    assert decision.merged == BASE


def test_one_side_changed_is_written_to_the_other() -> None:
    decision = merge_entity(C, BASE, edit(phone="+4799999999"), BASE)
    assert decision.to_tripletex == {"phone": "+4799999999"}
    assert decision.to_svenn == {}
    assert decision.changed_in_svenn == {"phone"}


def test_different_fields_changed_on_both_sides_merge_both_ways() -> None:
    decision = merge_entity(C, BASE, edit(phone="+4799999999"), edit(name="Fjord Eiendom ASA"))
    assert decision.to_tripletex == {"phone": "+4799999999"}
    assert decision.to_svenn == {"name": "Fjord Eiendom ASA"}
    assert not decision.conflicts


def test_same_field_changed_on_both_sides_tripletex_wins_for_customers_and_is_logged() -> None:
    decision = merge_entity(C, BASE, edit(name="Svenn navn"), edit(name="Tripletex navn"))
    assert decision.merged["name"] == "Tripletex navn"
    assert decision.to_svenn == {"name": "Tripletex navn"}
    (conflict,) = decision.conflicts
    assert (conflict.field, conflict.winner, conflict.lost) == (
        "name",
        System.TRIPLETEX,
        "Svenn navn",
    )
    assert conflict.loser is System.SVENN and conflict.base == "Fjord Eiendom AS"


def test_svenn_wins_employee_phone_and_email() -> None:
    base = {
        "first_name": "Kari",
        "last_name": "Nordmann",
        "email": "k@a.no",
        "phone": "+4791111111",
    }
    decision = merge_entity(
        Entity.EMPLOYEE,
        base,
        base | {"email": "kari@svenn.no"},
        base | {"email": "kari@tripletex.no"},
    )
    assert decision.merged["email"] == "kari@svenn.no"
    assert decision.conflicts[0].winner is System.SVENN


def test_same_change_on_both_sides_is_no_conflict() -> None:
    decision = merge_entity(C, BASE, edit(email="NY@fjord.no "), edit(email="ny@fjord.no"))
    assert not decision.conflicts and decision.writes_nothing


def test_formatting_is_not_a_change() -> None:
    svenn = edit(organization_number="NO 923 456 789 MVA", email=" Post@Fjord.no", phone="55000000")
    decision = merge_entity(C, BASE, svenn, BASE)
    assert decision.writes_nothing and not decision.changed_in_svenn


def test_written_values_are_cleaned() -> None:
    decision = merge_entity(C, BASE, edit(organization_number="NO 987 654 321"), BASE)
    assert decision.to_tripletex == {"organization_number": "987654321"}


def test_only_tripletex_inactivates_customers_svenn_change_is_put_back_and_reported() -> None:
    decision = merge_entity(C, BASE, edit(is_active=False), BASE)
    assert decision.to_svenn == {"is_active": True} and decision.to_tripletex == {}
    (ignored,) = decision.ignored
    assert (ignored.field, ignored.system, ignored.restored) == ("is_active", System.SVENN, True)


def test_employee_deactivated_in_svenn_stays_there_and_is_reported() -> None:
    base = {"first_name": "Kari", "last_name": "Nordmann", "is_active": True}
    decision = merge_entity(Entity.EMPLOYEE, base, base | {"is_active": False}, base)
    assert decision.writes_nothing
    (ignored,) = decision.ignored
    assert ignored.kept and ignored.system is System.SVENN


def test_tripletex_inactivation_reaches_svenn() -> None:
    decision = merge_entity(C, BASE, BASE, edit(is_active=False))
    assert decision.to_svenn == {"is_active": False}


def test_an_unchanged_side_contributes_no_edits() -> None:
    # The Svenn record differed from the base when it was linked (a typo in its name) and
    # has not changed since: a Tripletex edit brings Svenn fully in line, the typo included.
    svenn = edit(name="Fjord Eiendom A.S")
    decision = merge_entity(C, BASE, svenn, edit(phone="+4712345678"), svenn_changed=False)
    assert decision.to_svenn == {"name": "Fjord Eiendom AS", "phone": "+4712345678"}
    assert decision.to_tripletex == {}


def test_echo_of_our_own_write_writes_nothing() -> None:
    first = merge_entity(C, BASE, edit(phone="+4799999999"), BASE)
    tripletex_after = BASE | first.to_tripletex
    again = merge_entity(C, first.merged, edit(phone="+4799999999"), tripletex_after)
    assert again.writes_nothing and not again.conflicts


def test_missing_base_takes_tripletex_as_base() -> None:
    decision = merge_entity(C, None, edit(phone="+4799999999"), BASE)
    assert decision.to_tripletex == {"phone": "+4799999999"}


def test_same_value_treats_empty_and_missing_alike() -> None:
    assert same_value("email", None, "  ")
    assert same_value("postal_address", None, {"city": None})
    assert not same_value("postal_address", None, {"city": "Bergen"})


# --- properties -----------------------------------------------------------------------------

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["A AS", "B AS", "C AS", " A AS"]),
    "organization_number": st.sampled_from([None, "923456789", "NO 923 456 789", "987654321"]),
    "customer_number": st.sampled_from([None, 1, 2, "2"]),
    "email": st.sampled_from([None, "a@x.no", "A@X.no", "b@x.no", ""]),
    "phone": st.sampled_from([None, "+4791111111", "91111111", "+4792222222"]),
    "postal_address": st.sampled_from(
        [None, {"city": "Oslo", "postal_code": "150"}, {"city": "Oslo", "postal_code": "0150"}]
    ),
    "is_active": st.booleans(),
}
records = st.fixed_dictionaries(VALUES)
precedences = st.builds(
    Precedence,
    default=st.sampled_from(list(System)),
    fields=st.dictionaries(st.sampled_from(SYNCED_FIELDS[C]), st.sampled_from(list(System))),
    owners=st.dictionaries(st.sampled_from(SYNCED_FIELDS[C]), st.sampled_from(list(System))),
)


def agree(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return all(same_value(f, left.get(f), right.get(f)) for f in SYNCED_FIELDS[C])


@settings(max_examples=150)
@given(records, records, records, precedences, st.booleans(), st.booleans())
def test_applying_a_decision_converges_and_a_second_merge_writes_nothing(
    base: dict[str, Any],
    svenn: dict[str, Any],
    tripletex: dict[str, Any],
    precedence: Precedence,
    svenn_changed: bool,
    tripletex_changed: bool,
) -> None:
    decision = merge_entity(
        C,
        base,
        svenn,
        tripletex,
        precedence,
        svenn_changed=svenn_changed,
        tripletex_changed=tripletex_changed,
    )
    svenn_after = svenn | decision.to_svenn
    tripletex_after = tripletex | decision.to_tripletex
    assert agree(svenn_after, decision.merged) and agree(tripletex_after, decision.merged)
    again = merge_entity(C, decision.merged, svenn_after, tripletex_after, precedence)
    assert again.writes_nothing and not again.conflicts and not again.ignored


@settings(max_examples=150)
@given(records, records, records, precedences)
def test_every_overwritten_edit_is_a_logged_conflict_or_an_ignored_change(
    base: dict[str, Any],
    svenn: dict[str, Any],
    tripletex: dict[str, Any],
    precedence: Precedence,
) -> None:
    decision = merge_entity(C, base, svenn, tripletex, precedence)
    conflicts = {c.field: c for c in decision.conflicts}
    ignored = {(i.field, i.system) for i in decision.ignored}
    for system, side, changed in (
        (System.SVENN, svenn, decision.changed_in_svenn),
        (System.TRIPLETEX, tripletex, decision.changed_in_tripletex),
    ):
        for name in changed:
            if same_value(name, side[name], decision.merged[name]):
                continue  # the edit survived
            logged = name in conflicts and conflicts[name].loser is system
            assert logged or (name, system) in ignored, (name, system)


@settings(max_examples=100)
@given(records, records)
def test_a_one_sided_change_never_conflicts_and_is_kept(
    base: dict[str, Any], svenn: dict[str, Any]
) -> None:
    precedence = PRECEDENCE[C]
    decision = merge_entity(C, base, svenn, base, precedence)
    assert not decision.conflicts
    for name in decision.changed_in_svenn - set(precedence.owners):
        assert same_value(name, decision.merged[name], svenn[name])


def test_matched_records_agree_only_when_no_write_would_change_either_side():
    tx = {"name": "Bygg AS", "organization_number": "923456783", "phone": "+47 912 34 567"}
    same = {"name": " Bygg AS ", "organization_number": "NO 923 456 783 MVA", "phone": "91234567"}
    assert agreed(Entity.CUSTOMER, same, tx)  # formatting is not a difference
    assert not agreed(Entity.CUSTOMER, {**same, "name": "Bygg A/S"}, tx)  # a conflict
    assert not agreed(Entity.CUSTOMER, {**same, "email": "post@bygg.no"}, tx)  # a gap to fill
    # an employee deactivated in Svenn only stays so (Tripletex has no flag to write): agreed
    person = {"first_name": "Kari", "last_name": "Nordmann", "is_active": True}
    assert agreed(Entity.EMPLOYEE, {**person, "is_active": False}, person)


def test_the_preview_counts_the_links_it_will_align():
    tx = [
        Customer(id="1", name="Bygg AS", organization_number="923456783"),
        Customer(id="2", name="Rør AS", organization_number="914778271", phone="22 22 22 22"),
    ]
    sv = [
        Customer(id="a", name="Bygg AS", organization_number="923456783"),
        Customer(id="b", name="Rør AS", organization_number="914778271", phone="33 33 33 33"),
    ]
    plan = plan_initial_sync({Entity.CUSTOMER: tx}, {Entity.CUSTOMER: sv}, linked={})
    counts = plan.entities[Entity.CUSTOMER].counts()
    assert counts["to_link"] == 2 and counts["to_align"] == 1


# --- agreement without a whole merge ----------------------------------------------------------

# Per kind, values that agree or not once normalised: formatting, case, blanks and empty
# values, values the normalisers cannot read, and any short text.
AGREEMENT_VALUES: dict[Kind, list[Any]] = {
    Kind.TEXT: [None, "", "  ", "A AS", " A AS ", "a as", "B AS", "Ø\tx"],
    Kind.EMAIL: [None, "", " ", "a@x.no", "A@X.no ", "b@x.no", "not an address"],
    Kind.PHONE: [None, "", "+4791111111", "91111111", "0047 911 11 111", "+4792222222", "x1"],
    Kind.ORG_NUMBER: [None, "", "923456789", "NO 923 456 789 MVA", "987654321", "12", "٩٢٣"],
    Kind.CUSTOMER_NUMBER: [None, "", 1, 2, "2", " 2 ", "02", "A1", "٢"],
    Kind.DATE: [None, "", "1990-01-01", " 1990-01-01", "1990-01-02"],
    Kind.FLAG: [None, True, False],
    Kind.ADDRESS: [
        None,
        {},
        {"city": None, "postal_code": " "},
        {"city": "Oslo", "postal_code": "150"},
        {"city": "Oslo ", "postal_code": "0150"},
        {"address_line1": "", "city": "Oslo", "postal_code": "0150", "country": None},
        {"address_line1": "Gate 1", "city": "Oslo", "postal_code": "0150"},
    ],
}


def field_values(name: str) -> st.SearchStrategy[Any]:
    listed = st.sampled_from(AGREEMENT_VALUES[KINDS[name]])
    if KINDS[name] is Kind.ADDRESS:
        return listed
    return st.one_of(listed, st.text(max_size=4))


def linked_record(entity: Entity) -> st.SearchStrategy[dict[str, Any]]:
    """A synced-field dict: any field may be missing, empty or blank."""
    return st.fixed_dictionaries({}, optional={n: field_values(n) for n in SYNCED_FIELDS[entity]})


def any_precedence(entity: Entity) -> st.SearchStrategy[Precedence]:
    names = st.sampled_from(SYNCED_FIELDS[entity])
    return st.builds(
        Precedence,
        default=st.sampled_from(list(System)),
        fields=st.dictionaries(names, st.sampled_from(list(System))),
        owners=st.dictionaries(names, st.sampled_from(list(System))),
        local=st.frozensets(names),
    )


def merge_agrees(
    entity: Entity, svenn: dict[str, Any], tripletex: dict[str, Any], rule: Precedence | None
) -> bool:
    decision = merge_entity(entity, {}, svenn, tripletex, rule)
    return decision.writes_nothing and not decision.conflicts


@settings(max_examples=600)
@given(st.data(), st.sampled_from(list(SYNCED_FIELDS)), st.booleans())
def test_agreed_is_the_whole_merges_answer(
    data: st.DataObject, entity: Entity, own_precedence: bool
) -> None:
    svenn = data.draw(linked_record(entity))
    tripletex = data.draw(linked_record(entity))
    if data.draw(st.booleans()):  # mostly the same record, a field or two apart
        few = linked_record(entity).map(lambda fields: dict(list(fields.items())[:2]))
        tripletex = svenn | data.draw(few)
    rule = data.draw(any_precedence(entity)) if own_precedence else None
    assert agreed(entity, svenn, tripletex, rule) == merge_agrees(entity, svenn, tripletex, rule)


def test_agreed_is_the_whole_merges_answer_at_the_edges() -> None:
    person: dict[str, Any] = {"first_name": "Kari", "is_active": True}
    cases: list[tuple[Entity, dict[str, Any], dict[str, Any]]] = [
        (Entity.CUSTOMER, {}, {}),
        (Entity.CUSTOMER, {"email": None}, {"email": "  "}),  # missing and empty agree
        (Entity.CUSTOMER, {"email": "a@x.no"}, {}),  # a gap to fill is a write
        (Entity.CUSTOMER, {"is_active": False}, {"is_active": True}),  # put back in Svenn
        (Entity.CUSTOMER, {"is_active": True}, {"is_active": False}),  # Tripletex inactivated
        (Entity.CUSTOMER, {"postal_address": {"city": None}}, {"postal_address": None}),
        (Entity.CUSTOMER, {"customer_number": "2"}, {"customer_number": 2}),
        (Entity.EMPLOYEE, {**person, "is_active": False}, person),  # stays in Svenn only
        (Entity.EMPLOYEE, person, {**person, "is_active": False}),
        (Entity.EMPLOYEE, {**person, "phone": "911 11 111"}, {**person, "phone": "+4791111111"}),
        (Entity.PROJECT, {"name": "P", "end_date": None}, {"name": "P", "end_date": ""}),
    ]
    for entity, svenn, tripletex in cases:
        for left, right in ((svenn, tripletex), (tripletex, svenn)):
            expected = merge_agrees(entity, left, right, None)
            assert agreed(entity, left, right) == expected, (entity, left, right)


@settings(max_examples=10)
@given(st.integers(0, 10_000))
def test_agreed_is_the_whole_merges_answer_on_generated_records(seed: int) -> None:
    """Records as the readers build them (every field present, addresses as dicts), paired
    as the matcher links them and also at random."""
    world = generate_world(WorldSize(60, 15, 10, 0), seed=seed, shape_share=0.1)
    tripletex = {e: getattr(world.tripletex, f"{e.value}s") for e in SYNCED_FIELDS}
    svenn = {e: getattr(world.svenn, f"{e.value}s") for e in SYNCED_FIELDS}
    plan = plan_initial_sync(tripletex, svenn, linked={})
    for entity in SYNCED_FIELDS:
        tx_by_id = {str(r.id): r for r in tripletex[entity]}
        sv_by_id = {str(r.id): r for r in svenn[entity]}
        pairs = [
            (sv_by_id[link.svenn_id], tx_by_id[link.tripletex_id])
            for link in plan.entities[entity].links
            if link.svenn_id in sv_by_id and link.tripletex_id in tx_by_id
        ]
        pairs += list(zip(svenn[entity], tripletex[entity], strict=False))
        for sv_record, tx_record in pairs:
            sv_fields, tx_fields = sv_record.synced_fields(), tx_record.synced_fields()
            expected = merge_agrees(entity, sv_fields, tx_fields, None)
            assert agreed(entity, sv_fields, tx_fields) == expected
