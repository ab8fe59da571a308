"""Survivors of deletes (plain data): resting until a person changes them, then planned once."""

from __future__ import annotations

from sync.entities import Customer, Employee, Project
from sync.plan import plan_entity
from sync.records import Entity, System
from sync.tombstones import resting_keys, tombstone_for


def test_a_survivor_left_as_the_sync_left_it_is_no_new_record_for_either_planner():
    closed = Project(id="p1", name="Tak", number="31", is_closed=True)
    inactive = Employee(id="9", first_name="Kari", last_name="Nordmann", is_active=False)
    stones = [tombstone_for(closed, System.TRIPLETEX, "312")]
    resting = resting_keys(stones, {System.SVENN: [closed]})
    plan = plan_entity(Entity.PROJECT, [], [closed], linked={}, resting=resting)
    assert resting == {"svenn:p1"} and not plan.create_in_tripletex and not plan.failures
    stones = [tombstone_for(inactive, System.SVENN, "emp-1")]
    resting = resting_keys(stones, {System.TRIPLETEX: [inactive]})
    plan = plan_entity(Entity.EMPLOYEE, [inactive], [], linked={}, resting=resting)
    assert resting == {"tripletex:9"} and not plan.create_in_svenn


def test_a_survivor_a_person_changed_is_planned_again():
    kept = Customer(id="7", name="Bygg AS", customer_number=7)
    changed = Customer(id="7", name="Bygg AS", customer_number=7, phone="+4791234567")
    stones = [tombstone_for(kept, System.SVENN, "cus-1")]
    resting = resting_keys(stones, {System.TRIPLETEX: [changed]})
    plan = plan_entity(Entity.CUSTOMER, [changed], [], linked={}, resting=resting)
    assert resting == set() and [r.id for r in plan.create_in_svenn] == ["7"]


def test_a_survivor_not_read_stays_resting():
    kept = Customer(id="7", name="Bygg AS")
    assert resting_keys([tombstone_for(kept, System.SVENN, "c")], {}) == {"tripletex:7"}
