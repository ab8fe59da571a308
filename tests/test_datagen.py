"""Generated worlds: deterministic, realistic, overlapping as asked, references consistent."""

from __future__ import annotations

import re

import pytest

from sandboxes.datagen import PRESETS, WorldSize, generate_world, world_size
from sync import normalize
from sync.records import Entity


@pytest.fixture(scope="module")
def world():
    return generate_world("small", seed=11)


def test_same_seed_gives_same_world_and_other_seed_differs():
    assert generate_world("small", seed=3) == generate_world("small", seed=3)
    assert generate_world("small", seed=3) != generate_world("small", seed=4)


def test_small_preset_sizes(world):
    size = PRESETS["small"]
    assert len(world.tripletex.customers) == size.customers
    assert len(world.tripletex.projects) == size.projects
    assert len(world.tripletex.employees) == size.employees
    assert size.customers <= len(world.svenn.customers) <= size.customers * 1.2


def test_int_size_is_customer_count_with_proportional_rest():
    size = world_size(200)
    assert size.customers == 200 and 0 < size.projects < 200 and 0 < size.employees < 200
    assert world_size(WorldSize(5, 2, 2, 1)) == WorldSize(5, 2, 2, 1)


def test_an_unknown_size_names_the_ones_there_are():
    with pytest.raises(ValueError, match=r"world size 'huge': one of small, .*or a number"):
        world_size("huge")


def test_ids_follow_each_systems_style_and_are_unique(world):
    t_ids = [
        r.id
        for r in world.tripletex.customers + world.tripletex.employees + world.tripletex.projects
    ]
    assert all(i is not None and i.isdigit() for i in t_ids)
    assert len(set(t_ids)) == len(t_ids)
    assert all(re.fullmatch(r"cus_\d{5}", c.id or "") for c in world.svenn.customers)
    assert all(re.fullmatch(r"emp_\d{5}", e.id or "") for e in world.svenn.employees)
    assert all(re.fullmatch(r"prj_\d{5}", p.id or "") for p in world.svenn.projects)


def test_tripletex_org_numbers_are_clean_and_checksum_valid(world):
    orgs = [c.organization_number for c in world.tripletex.customers if c.organization_number]
    assert orgs and all(normalize.is_valid_org_number(o) for o in orgs)
    assert len(set(orgs)) == len(orgs)


def test_names_addresses_and_phones_look_norwegian(world):
    suffixes = (" AS", " ASA", " A/S", " ANS", " DA")
    assert (
        sum(c.name.endswith(suffixes) for c in world.tripletex.customers)
        > len(world.tripletex.customers) / 2
    )
    for c in world.tripletex.customers:
        assert c.postal_address and re.fullmatch(r"\d{4}", c.postal_address.postal_code or "")
        assert normalize.phone(c.phone) is not None
    assert all(e.date_of_birth and e.employee_number for e in world.tripletex.employees)


def test_references_point_at_records_on_the_same_side(world):
    for data in (world.tripletex, world.svenn):
        customers = {c.id for c in data.customers}
        employees = {e.id for e in data.employees}
        projects = {p.id for p in data.projects}
        activities = {a.id for a in data.activities}
        for p in data.projects:
            assert p.customer_id is None or p.customer_id in customers
            assert p.project_manager_id in employees
            assert p.parent_project_id is None or p.parent_project_id in projects
        for h in data.hours:
            assert h.employee_id in employees and h.activity_id in activities
            assert h.project_id is None or h.project_id in projects


def test_truth_pairs_exist_on_both_sides_and_are_one_to_one(world):
    sides = {
        Entity.CUSTOMER: (world.tripletex.customers, world.svenn.customers),
        Entity.EMPLOYEE: (world.tripletex.employees, world.svenn.employees),
        Entity.PROJECT: (world.tripletex.projects, world.svenn.projects),
    }
    for entity, (t, s) in sides.items():
        pairs = world.truth[entity]
        assert set(pairs) <= {r.id for r in t}
        assert set(pairs.values()) <= {r.id for r in s}
        assert len(set(pairs.values())) == len(pairs)
    assert len(world.truth[Entity.CUSTOMER]) == round(PRESETS["small"].customers * 0.5)


def test_overlap_controls_shared_fraction():
    assert all(not pairs for pairs in generate_world(30, seed=1, overlap=0.0).truth.values())
    full = generate_world(30, seed=1, overlap=1.0)
    assert len(full.truth[Entity.CUSTOMER]) == 30


def test_messy_world_has_messy_spellings_duplicates_and_rule_breakers():
    world = generate_world("demo", seed=2)
    svenn_orgs = [c.organization_number or "" for c in world.svenn.customers]
    assert any(" " in o or "." in o or "MVA" in o for o in svenn_orgs)
    assert any(isinstance(c.customer_number, str) for c in world.svenn.customers)
    assert any(c.email and c.email != c.email.strip().lower() for c in world.svenn.customers)
    assert any(not c.is_active for c in world.tripletex.customers)
    assert any(p.is_internal for p in world.tripletex.projects)
    assert any(p.parent_project_id for p in world.tripletex.projects)
    assert any(p.start_date is None for p in world.svenn.projects)
    assert any(e.last_name is None for e in world.svenn.employees)
    assert any(" " in e.first_name for e in world.tripletex.employees)  # middle names
    assert world.ambiguous
    statuses = {h.status for h in world.svenn.hours}
    assert statuses == {"approved", "submitted", "draft", "rejected"}
    approved = [h for h in world.svenn.hours if h.status == "approved"]
    assert len(approved) > len(world.svenn.hours) / 2
    assert all(h.approved_at and h.approved_by for h in approved)


def test_clean_world_has_no_mess():
    world = generate_world("small", seed=2, messy=False)
    assert not world.ambiguous
    assert all(
        c.organization_number is None or normalize.is_valid_org_number(c.organization_number)
        for c in world.svenn.customers
    )
    assert all(isinstance(c.customer_number, int) for c in world.svenn.customers)


def test_hours_are_unique_per_employee_date_project_activity():
    world = generate_world("small", seed=5)
    keys = [(h.employee_id, h.date, h.project_id, h.activity_id) for h in world.svenn.hours]
    assert len(keys) == len(set(keys))
    assert world.tripletex.hours == []
    assert {a.name for a in world.tripletex.activities} >= {"Normaltid", "Overtid 50 %", "Reise"}


def test_bench_preset_has_the_sizes_the_benchmarks_promise():
    # How long it takes is a benchmark's figure (bench/), not a timed assertion.
    world = generate_world("bench", seed=0)
    assert len(world.tripletex.customers) == 10_000
    assert len(world.svenn.employees) >= 500


def test_every_record_knows_the_real_world_thing_it_is_a_copy_of(world):
    sides = {"tripletex": world.tripletex, "svenn": world.svenn}
    keys = {
        f"{side}:{r.id}"
        for side, data in sides.items()
        for r in [*data.customers, *data.employees, *data.projects]
    }
    assert set(world.origin) == keys
    for entity, pairs in world.truth.items():
        for t_id, s_id in pairs.items():
            assert world.origin[f"tripletex:{t_id}"] == world.origin[f"svenn:{s_id}"]
            assert world.origin[f"svenn:{s_id}"].startswith(entity.value)


def test_messy_worlds_hold_a_few_of_each_real_world_shape_and_clean_ones_none():
    world = generate_world("demo", seed=2)
    assert {shape: len(things) for shape, things in world.shapes.items()} == {
        "customer.svenn_duplicate": 4,
        "customer.shared_accountant": 4,
        "customer.namesake": 4,
        "customer.enk_vs_as": 4,
        "employee.svenn_duplicate": 1,
        "project.svenn_duplicate": 1,
    }
    customers = {f"svenn:{c.id}": c for c in world.svenn.customers}
    customers |= {f"tripletex:{c.id}": c for c in world.tripletex.customers}

    def copies(thing: str) -> list:
        return [customers[k] for k, v in world.origin.items() if v == thing and k in customers]

    for thing in world.shapes["customer.svenn_duplicate"]:
        svenn = [k for k, v in world.origin.items() if v == thing and k.startswith("svenn:")]
        older, newer = (customers[k] for k in sorted(svenn))
        assert older.organization_number is None and newer.organization_number
        assert normalize.email(older.email) == normalize.email(newer.email)
    for thing in world.shapes["customer.enk_vs_as"]:
        assert {normalize.legal_form(c.name) for c in copies(thing)} == {"enk"}
    for thing in world.shapes["customer.shared_accountant"]:
        assert all("regnskap.no" in (c.email or "").lower() for c in copies(thing))
    assert generate_world("small", seed=2, messy=False).shapes == {}
