"""What people decided about held-back records, with plain data (no I/O): matching and the plan
respect it, and linking or choosing a value writes what the realtime rules say."""

from __future__ import annotations

from sync.decisions import (
    Decisions,
    distinct_pair,
    merge_for_link,
    value_to_keep,
)
from sync.entities import Customer
from sync.plan import plan_entity
from sync.records import Address, Entity, System

ORG = "923456783"


def customer(id_: str, name: str, **fields) -> Customer:
    return Customer(id=id_, name=name, **fields)


def _codes(plan) -> dict[str, str]:
    return {str(f.tripletex_id or f.svenn_id): f.reason_code for f in plan.failures}


def test_a_pair_kept_apart_is_never_proposed_again_and_the_rest_matches():
    tx = [customer("1", "Bygg AS", organization_number=ORG)]
    sv = [
        customer("a", "Bygg AS", organization_number=ORG),
        customer("b", "Bygg AS avd. Bergen", organization_number=ORG),
    ]
    before = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    assert set(_codes(before).values()) == {"AMBIGUOUS_MATCH"}

    after = plan_entity(
        Entity.CUSTOMER, tx, sv, linked={}, decisions=Decisions(kept_apart=frozenset({("1", "b")}))
    )
    assert [(lk.tripletex_id, lk.svenn_id) for lk in after.links] == [("1", "a")]
    assert "AMBIGUOUS_MATCH" not in _codes(after).values()


def test_records_kept_apart_from_every_candidate_are_planned_on_their_own():
    here = Address(postal_code="5003")
    tx = [customer("1", "Hansen Bygg AS", postal_address=here)]
    sv = [customer("a", "Hansen Bygg AS", postal_address=here, email="post@hansen.no")]
    assert not plan_entity(Entity.CUSTOMER, tx, sv, linked={}).create_in_svenn  # linked
    apart = Decisions(kept_apart=frozenset({("1", "a")}))
    plan = plan_entity(Entity.CUSTOMER, tx, sv, linked={}, decisions=apart)
    assert not plan.links and not plan.failures
    assert [r.id for r in plan.create_in_svenn] == ["1"]
    assert [r.id for r in plan.create_in_tripletex] == ["a"]


def test_not_a_duplicate_releases_a_held_back_record_and_a_duplicate_of_leaves_it_out():
    tx = [customer("1", "Fjord Rør AS", organization_number=ORG, email="post@fjord.no")]
    sv = [
        customer("a", "Fjord Rør AS", organization_number=ORG, email="post@fjord.no"),
        customer("b", "Fjord Rør", email="post@fjord.no"),
    ]
    held = plan_entity(Entity.CUSTOMER, tx, sv, linked={})
    assert _codes(held) == {"b": "DUPLICATE_IN_SOURCE"}

    released = plan_entity(
        Entity.CUSTOMER,
        tx,
        sv,
        linked={},
        decisions=Decisions(distinct=frozenset({distinct_pair("svenn", "b", "a")})),
    )
    assert not released.failures
    assert [r.id for r in released.create_in_tripletex] == ["b"]

    left_out = plan_entity(
        Entity.CUSTOMER,
        tx,
        sv,
        linked={},
        decisions=Decisions(left_out=frozenset({("svenn", "b")})),
    )
    assert not left_out.failures and not left_out.create_in_tripletex
    assert [(lk.tripletex_id, lk.svenn_id) for lk in left_out.links] == [("1", "a")]


def test_linking_by_hand_copies_what_one_side_lacks_and_tripletex_wins_a_difference():
    svenn = customer("a", "Bygg A/S", email="post@bygg.no", phone="+47 22 00 00 00")
    tripletex = customer("1", "Bygg AS", organization_number=ORG, phone="+47 99 99 99 99")
    merge = merge_for_link(Entity.CUSTOMER, svenn.synced_fields(), tripletex.synced_fields())
    assert merge.merge.to_svenn == {
        "name": "Bygg AS",
        "organization_number": ORG,
        "phone": "+47 99 99 99 99",
    }
    assert merge.merge.to_tripletex == {"email": "post@bygg.no"}
    assert "Svenn name: 'Bygg A/S' → 'Bygg AS'" in merge.summary_en


def test_keeping_the_losing_value_writes_it_to_the_side_that_won():
    conflicts = [
        {"field": "phone", "svenn": "+47 1", "tripletex": "+47 2", "winner": "tripletex"},
    ]
    kept = value_to_keep(conflicts, System.SVENN)
    assert kept.target is System.SVENN and kept.fields == {"phone": "+47 1"}
    assert value_to_keep(conflicts, System.TRIPLETEX).target is None  # already stands
