"""Per-link decisions of a realtime tick (sync.realtime), with plain records."""

from __future__ import annotations

from sync.entities import Customer, Employee, Project
from sync.plan import EntityPlan
from sync.realtime import (
    ON_DELETE,
    LinkState,
    OnDelete,
    decide_link,
    feed_changes,
    link_twins,
    version_changes,
)
from sync.records import Entity, System

SV = Customer(id="cus-1", version=3, name="Fjord AS", email="post@fjord.no", phone="+4791111111")
TX = Customer(id="71", version=5, name="Fjord AS", email="post@fjord.no", phone="+4791111111")


def link_for(svenn=SV, tripletex=TX, entity=Entity.CUSTOMER) -> LinkState:
    return LinkState(
        entity,
        str(svenn.id),
        str(tripletex.id),
        svenn.fingerprint(),
        tripletex.fingerprint(),
        tripletex.synced_fields(),
    )


def test_our_own_write_coming_back_does_nothing():
    decision = decide_link(link_for(), SV, TX)
    assert decision.merge is None and decision.writes == 0 and not decision.log


def test_a_svenn_edit_is_written_to_tripletex_with_the_tripletex_version():
    edited = SV.model_copy(update={"phone": "+4799999999"})
    decision = decide_link(link_for(), edited, TX)
    assert decision.tripletex_write is not None and decision.svenn_write is None
    assert decision.tripletex_write.phone == "+4799999999"
    assert (decision.tripletex_write.id, decision.tripletex_write.version) == ("71", 5)


def test_a_conflict_is_one_row_keyed_on_the_winner_with_both_values():
    sv = SV.model_copy(update={"email": "a@svenn.no", "name": "S AS"})
    tx = TX.model_copy(update={"email": "b@tripletex.no", "name": "T AS"})
    decision = decide_link(link_for(), sv, tx)
    (row,) = decision.log
    assert row.reason_code == "FIELD_CONFLICT" and row.direction.value == "tripletex_to_svenn"
    assert (row.svenn_id, row.tripletex_id) == ("cus-1", "71")
    assert row.details is not None and set(row.details["fields"]) == {"email", "name"}
    assert "a@svenn.no" in row.message_en and "a@svenn.no" in row.message_no
    assert decision.svenn_write is not None and decision.svenn_write.email == "b@tripletex.no"


def test_svenn_deactivating_a_customer_is_put_back_and_explained():
    decision = decide_link(link_for(), SV.model_copy(update={"is_active": False}), TX)
    assert decision.svenn_write is not None and decision.svenn_write.is_active is True
    (row,) = decision.log
    assert row.reason_code == "CHANGE_NOT_SYNCED" and row.svenn_id == "cus-1"


def test_deletes_follow_the_table():
    for entity, record_sv, record_tx in (
        (Entity.CUSTOMER, SV, TX),
        (
            Entity.EMPLOYEE,
            Employee(id="e1", first_name="K", last_name="N"),
            Employee(id="9", first_name="K", last_name="N"),
        ),
        (Entity.PROJECT, Project(id="p1", name="Bad"), Project(id="8", name="Bad")),
    ):
        link = link_for(record_sv, record_tx, entity)
        gone_in_tx = decide_link(link, record_sv, None)
        gone_in_sv = decide_link(link, None, record_tx)
        assert gone_in_tx.unlink and gone_in_sv.unlink
        assert gone_in_tx.on_delete is ON_DELETE[(entity, System.TRIPLETEX)].action
        assert gone_in_sv.on_delete is ON_DELETE[(entity, System.SVENN)].action
        if gone_in_sv.on_delete is OnDelete.LOG_ONLY:
            (row,) = gone_in_sv.log
            assert row.reason_code == "DELETE_NOT_SYNCED" and row.svenn_id == record_sv.id
    assert ON_DELETE[(Entity.PROJECT, System.SVENN)].action is OnDelete.CLOSE_IN_TRIPLETEX
    assert ON_DELETE[(Entity.CUSTOMER, System.TRIPLETEX)].action is OnDelete.DEACTIVATE_IN_SVENN


def test_version_changes_finds_new_changed_and_vanished_ids():
    changed, vanished = version_changes({"1": 1, "2": 4, "3": 0}, {"1": 1, "2": 5, "4": 0})
    assert changed == {"2", "4"} and vanished == {"3"}


def test_the_feed_echo_of_our_own_svenn_write_needs_no_read():
    newest = {"a": 3, "b": 5, "c": 1}
    echoes = {"a": 3, "b": 4}  # we wrote a@3 and b@4; b has moved on since
    assert feed_changes(newest, echoes) == {"b", "c"}
    assert feed_changes(newest, {}) == {"a", "b", "c"}


def test_a_customer_typed_into_both_systems_in_one_tick_is_linked_not_duplicated():
    sv_new = Customer(id="s1", name="Ny Kunde AS")
    tx_new = Customer(id="t1", name="NY KUNDE AS", customer_number=10051)  # Tripletex numbers it
    namesakes_sv = [Customer(id="s2", name="Dobbel AS"), Customer(id="s3", name="Dobbel AS")]
    tx_dobbel = Customer(id="t2", name="Dobbel AS")
    apart_sv = Customer(id="s4", name="Skilt AS", email="a@skilt.no")
    apart_tx = Customer(id="t4", name="Skilt AS", email="b@skilt.no")
    plan = EntityPlan(
        Entity.CUSTOMER,
        create_in_svenn=[tx_new, tx_dobbel, apart_tx],
        create_in_tripletex=[sv_new, *namesakes_sv, apart_sv],
    )
    link_twins(plan, [tx_new, tx_dobbel, apart_tx], [sv_new, *namesakes_sv, apart_sv])
    assert [(lk.svenn_id, lk.tripletex_id) for lk in plan.links] == [("s1", "t1")]
    # two namesakes on one side are never guessed; different e-mails tell two apart
    assert [r.id for r in plan.create_in_svenn] == ["t2", "t4"]
    assert [r.id for r in plan.create_in_tripletex] == ["s2", "s3", "s4"]
