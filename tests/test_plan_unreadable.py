"""A record that could not be read still takes part in matching (as what could be read of it):
its counterpart is held back, never linked to another record or created a second time, and no
other record is matched differently because it is missing. Plain data, no I/O."""

from __future__ import annotations

from connectors.records import read_records
from connectors.svenn import mapping as svenn
from sync.entities import Customer
from sync.plan import plan_entity
from sync.records import Entity, System
from sync.rules import ReasonCode
from tests.test_malformed_records import SVENN_ROWS


def customer(id_: str, name: str, **fields) -> Customer:
    return Customer(id=id_, name=name, **fields)


def test_the_counterpart_of_an_unreadable_record_is_held_back_not_created_twice() -> None:
    tx = [customer("15", "Fjord Bygg AS", organization_number="923456783")]
    unreadable = {"svenn": [customer("c-4", "Fjord Bygg AS", organization_number="923456783")]}
    plan = plan_entity(Entity.CUSTOMER, tx, [], linked={}, unreadable=unreadable)
    assert not plan.links and not plan.create_in_svenn and not plan.create_in_tripletex
    (failure,) = plan.failures
    assert failure.reason_code == ReasonCode.COUNTERPART_MALFORMED.value
    assert failure.tripletex_id == "15" and failure.details == {
        "counterpart": "c-4",
        "key": "org_number",
    }
    assert "c-4" in failure.message_en and "MALFORMED_RECORD" in failure.message_en
    # The Norwegian text is the tenant's: it names the record, never a reason code.
    assert "c-4" in failure.message_no and "MALFORMED_RECORD" not in failure.message_no


def test_an_unreadable_record_keeps_an_ambiguity_ambiguous_instead_of_a_guessed_link() -> None:
    # Without the unreadable "c-1", "15" would match "c-2" alone and be linked to it.
    tx = [customer("15", "Fjord Bygg AS", organization_number="923456783")]
    sv = [customer("c-2", "Fjord Bygg AS", organization_number="923456783")]
    unreadable = {"svenn": [customer("c-1", "Fjord Bygg AS", organization_number="923456783")]}
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={}, unreadable=unreadable)
    assert not plan.links and not plan.create_in_svenn and not plan.create_in_tripletex
    assert {(f.reason_code, f.tripletex_id, f.svenn_id) for f in plan.failures} == {
        ("AMBIGUOUS_MATCH", "15", None),
        ("AMBIGUOUS_MATCH", None, "c-2"),
    }


def test_records_unrelated_to_the_unreadable_one_plan_as_before() -> None:
    tx = [
        customer("15", "Fjord Bygg AS", organization_number="923456783"),
        customer("16", "Ny Kunde AS", customer_number=7),
    ]
    sv = [customer("c-9", "Annen AS", customer_number=9)]
    unreadable = {"svenn": [customer("c-4", "Fjord Bygg AS", organization_number="923456783")]}
    with_it = plan_entity(Entity.CUSTOMER, tx, sv, linked={}, unreadable=unreadable)
    without = plan_entity(Entity.CUSTOMER, tx[1:], sv, linked={})
    assert [r.id for r in with_it.create_in_svenn] == [r.id for r in without.create_in_svenn]
    assert [r.id for r in with_it.create_in_tripletex] == ["c-9"]


def test_a_malformed_record_keeps_what_can_be_read_of_it_for_matching() -> None:
    rows = [
        dict(SVENN_ROWS[Entity.CUSTOMER], version="x"),
        dict(SVENN_ROWS[Entity.CUSTOMER], id="c-2", name=42),
        dict(SVENN_ROWS[Entity.CUSTOMER], id="c-3", organizationNumber={"x": 1}),
    ]
    read = read_records(
        System.SVENN,
        Entity.CUSTOMER,
        rows,
        svenn.RECORD_READERS[Entity.CUSTOMER],
        field_names=svenn.FIELD_NAMES.get(Entity.CUSTOMER),
    )
    assert not read
    stand_ins = {m.record_id: m.stand_in for m in read.malformed}
    assert stand_ins["c-1"].organization_number == "923456783"
    assert stand_ins["c-2"].organization_number == "923456783" and not stand_ins["c-2"].name
    assert stand_ins["c-3"].organization_number is None and stand_ins["c-3"].name
