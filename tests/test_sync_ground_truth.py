"""Property: a first sync of two systems drawn from one set of real-world things (issue 11).

Hypothesis draws generated worlds (sandboxes.datagen): how many companies, people and jobs, how
much the systems overlap, how dense the real-world shapes are (Svenn duplicates of customers,
employees and projects; clients of one accountant sharing its e-mail; namesakes in one
postcode; ENK next to AS) on top of the everyday noise (org numbers with spaces, "A/S", case,
typos, missing fields, rule breakers, exact duplicates). The generator keeps the ground truth:
which real-world thing each record is a copy of. The whole initial-sync plan (sync/, every
entity, the targets' refusals included) is applied purely and judged against it:

- no false merge: no link joins copies of two different things;
- no thing is on a side more times after the sync than before (or more than once where it was
  absent);
- every thing the rules allow is on both sides: a thing missing from a side has a record held
  back, and every record is either linked or held back with a failed record naming why.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.datagen import World, WorldSize, generate_world
from sandboxes.ground_truth import judge_plan
from sync.initial_plan import plan_initial_sync
from sync.plan import PlannedLink, SyncPlan
from sync.records import Entity


def first_sync_plan(world: World) -> SyncPlan:
    """The plan a first sync of ``world`` makes (nothing linked yet)."""
    managers = frozenset(str(p.project_manager_id) for p in world.tripletex.projects)
    employees = world.tripletex.employees
    return plan_initial_sync(
        {
            Entity.EMPLOYEE: employees,
            Entity.CUSTOMER: world.tripletex.customers,
            Entity.PROJECT: world.tripletex.projects,
        },
        {
            Entity.EMPLOYEE: world.svenn.employees,
            Entity.CUSTOMER: world.svenn.customers,
            Entity.PROJECT: world.svenn.projects,
        },
        linked={},
        fallback_manager=employees[0].id if employees else None,
        project_managers=managers | ({str(employees[0].id)} if employees else set()),
    )


worlds = st.builds(
    lambda customers, projects, employees, seed, overlap, share: generate_world(
        WorldSize(customers, projects, employees, 0),
        seed=seed,
        overlap=overlap,
        shape_share=share,
    ),
    customers=st.integers(2, 40),
    projects=st.integers(2, 12),
    employees=st.integers(2, 10),
    seed=st.integers(0, 2**16),
    overlap=st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
    share=st.sampled_from([0.01, 0.1, 0.25]),
)


@settings(max_examples=60, deadline=None)
@given(worlds)
def test_first_sync_never_merges_two_things_nor_creates_one_twice(world):
    plan = first_sync_plan(world)
    outcome = judge_plan(world, plan)
    assert outcome.false_merges == []
    assert outcome.duplicates_created == []
    assert outcome.missing == [], "a thing the rules allow is not on both sides"
    assert outcome.unaccounted == [], "a record neither linked nor held back with a reason"
    assert outcome.unexplained == []
    for entity_plan in plan.entities.values():
        for failure in entity_plan.failures:
            assert failure.reason_code and failure.message_en and failure.message_no


def test_each_shape_ends_as_the_issue_asks_in_a_dense_world():
    """The shapes themselves: Svenn duplicates held back as DUPLICATE_IN_SOURCE, naming their
    twin; shared e-mails, namesakes and ENK/AS pairs synced (none parked by matching)."""
    world = generate_world(WorldSize(120, 30, 20, 0), seed=5, shape_share=0.05)
    plan = first_sync_plan(world)
    held = {
        f"{'svenn' if f.svenn_id else 'tripletex'}:{f.svenn_id or f.tripletex_id}": f
        for p in plan.entities.values()
        for f in p.failures
    }
    # a rule may stop any record (an inactive customer...); matching must not stop these
    parked = {"AMBIGUOUS_MATCH", "MATCH_CONFLICT", "DUPLICATE_IN_SOURCE"}
    things_parked = {world.origin[key] for key, f in held.items() if f.reason_code in parked}
    for entity in Entity.CUSTOMER, Entity.EMPLOYEE, Entity.PROJECT:
        duplicated = world.shapes[f"{entity.value}.svenn_duplicate"]
        assert duplicated
        for thing in duplicated:
            copies = sorted(k for k, v in world.origin.items() if v == thing and "svenn:" in k)
            older = held[copies[0]]  # the older copy was made first
            assert older.reason_code == "DUPLICATE_IN_SOURCE", older
            assert copies[1].removeprefix("svenn:") in older.message_en
    for shape in ("shared_accountant", "namesake", "enk_vs_as"):
        shaped = world.shapes[f"customer.{shape}"]
        assert shaped and not set(shaped) & things_parked, shape
    assert judge_plan(world, plan).false_merges == []


def test_the_judge_sees_a_false_merge_a_double_create_and_a_silent_drop():
    world = generate_world(WorldSize(12, 3, 3, 0), seed=1, overlap=0.5)
    plan = first_sync_plan(world)
    customers = plan.entities[Entity.CUSTOMER]
    assert judge_plan(world, plan).false_merges == []
    first, second = customers.links[:2]
    customers.links[:2] = [
        PlannedLink(Entity.CUSTOMER, first.tripletex_id, second.svenn_id, "email"),
        PlannedLink(Entity.CUSTOMER, second.tripletex_id, first.svenn_id, "email"),
    ]
    tripletex = {str(c.id): c for c in world.tripletex.customers}
    customers.create_in_svenn.append(tripletex[customers.links[2].tripletex_id])
    dropped = customers.create_in_tripletex.pop(0)  # neither created nor held back
    outcome = judge_plan(world, plan)
    assert len(outcome.false_merges) == 2
    assert outcome.duplicates_created == [
        f"svenn:{world.origin['tripletex:' + customers.links[2].tripletex_id]}"
    ]
    assert outcome.unaccounted == [f"svenn:{dropped.id}"]
    assert outcome.missing == [world.origin[f"svenn:{dropped.id}"]]
