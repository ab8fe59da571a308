"""Customer matching on generated messy worlds, timed, and judged against the ground truth.

Run: ``.venv/bin/python bench/bench_matching.py [customers ...] [--profile]`` (default 10000
100000).

Each world is half overlapping and messy: everyday noise (org numbers with spaces or "NO … MVA",
"A/S", case, typos, missing fields, rule breakers, exact duplicates) and 1 % of the companies
in each real-world shape of issue 11 (Svenn duplicates without org number, shared accountant
e-mails, namesakes in one postcode, ENK next to AS). Prints, separately:

- ``match``: building both frames and matching them (the figure the < 5 s target is about);
- ``plan``: the whole customer plan as the sync runs it (rules, matching, the resume key, and
  holding back duplicates inside one system);

then the plan's outcome judged against the generator's ground truth: false merges, duplicates
created, companies on both sides, records unaccounted for, and held-back records by reason.
CPU seconds are printed next to wall seconds: on a loaded machine the wall figure is mostly
waiting. The world is generated first and frozen out of the garbage collector's way
(``gc.freeze``): the generator's millions of objects are not the matcher's cost. The match and
the plan each run as the activation's preview and the initial sync run their plans: within
``tasks.heap.long_lived`` (the young generation collected every 20,000 allocations, not 700).
The memoised normalisers start cold for the match and again for the plan, as in a fresh
process.

Last, ``small``: the plan of each entity for a tenant of a few records, the plan a realtime
tick runs when a record is new (it plans the tenant's whole entity, so a small tenant's plan is
mostly the fixed cost of the frames and joins); CPU per plan, the median of 50, warm.

At 100,000 the CPU figures go to the figures table (:mod:`bench.figures`); ``--profile`` then
runs the match and the plan once more under cProfile (bench/profiles/match_*.prof, plan_*.prof).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence

from figures import record
from profiling import arguments, profiled, wanted

import sync.normalize
import sync.normalize_frames
from sandboxes.datagen import World, WorldSize, generate_world
from sandboxes.ground_truth import judge_plan
from sync.matching import MatchResult, match_customers, records_frame
from sync.plan import EntityPlan, SyncPlan, plan_entity
from sync.records import Entity, Record
from tasks.heap import long_lived

FIGURE_SIZE = 100_000


class Stopwatch:
    """Wall and CPU seconds since the last lap."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.last = (0.0, 0.0)

    def lap(self) -> str:
        """ "W s (C s CPU)" since the previous lap (kept in ``last`` as (wall, CPU))."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.last = (wall - self.wall, cpu - self.cpu)
        text = f"{self.last[0]:5.2f} s ({self.last[1]:5.2f} s CPU)"
        self.wall, self.cpu = wall, cpu
        return text


def cold_normalisers() -> None:
    """Forget every memoised normalisation, as a fresh process would start."""
    for module in (sync.normalize, sync.normalize_frames):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def bench(customers: int, seed: int = 0) -> None:
    """Generate, match and plan ``customers`` × ``customers`` customers; print times and counts."""
    clock = Stopwatch()
    world = generate_world(WorldSize(customers, 2, 2, 0), seed=seed, overlap=0.5, messy=True)
    generated = clock.lap()
    gc.collect()
    gc.freeze()
    cold_normalisers()
    clock.lap()
    with long_lived():
        result = run_match(world)
    matched = clock.lap()
    match_times = clock.last
    cold_normalisers()
    clock.lap()
    with long_lived():
        plan = SyncPlan({Entity.CUSTOMER: run_plan(world)})
    planned = clock.lap()
    plan_times = clock.last
    if customers == FIGURE_SIZE:
        wall, cpu = match_times
        record("matching alone 100k x 100k, CPU", cpu, "s", 1.5, wall=wall)
        wall, cpu = plan_times
        record("whole customer plan 100k x 100k, CPU", cpu, "s", 4, wall=wall)
    outcome = judge_plan(world, plan, entities=[Entity.CUSTOMER])
    truth = {(t, s) for t, s in world.truth[Entity.CUSTOMER].items() if t not in world.ambiguous}
    found = {(link.tripletex_id, link.svenn_id) for link in result.links}
    print(
        f"{len(world.tripletex.customers):>7} x {len(world.svenn.customers):>7} customers: "
        f"generate {generated}\n"
        f"  match {matched}: links {len(result.links)}, ambiguous {len(result.ambiguous)}, "
        f"kept apart {result.kept_apart}, truth recovered exactly: {found == truth}\n"
        f"  plan  {planned}: link {len(plan.entities[Entity.CUSTOMER].links)}, "
        f"create {len(plan.entities[Entity.CUSTOMER].create_in_svenn)} in Svenn and "
        f"{len(plan.entities[Entity.CUSTOMER].create_in_tripletex)} in Tripletex"
    )
    for line in outcome.lines():
        print(f"  {line}")
    if wanted():
        for label, step in (("match", run_match), ("plan", run_plan)):
            cold_normalisers()
            with long_lived(), profiled(f"{label}_{customers}"):
                step(world)
    gc.unfreeze()


def run_match(world: World) -> MatchResult:
    """Both frames and every key pass."""
    return match_customers(
        records_frame(world.tripletex.customers), records_frame(world.svenn.customers)
    )


def run_plan(world: World) -> EntityPlan:
    """The whole customer plan as the sync runs it."""
    return plan_entity(Entity.CUSTOMER, world.tripletex.customers, world.svenn.customers, linked={})


def small_tenant_plans(customers: int = 5, runs: int = 50) -> None:
    """CPU per plan of each entity of a small tenant, as a realtime tick with a new record
    plans it (normalisers warm: a realtime window's process keeps them)."""
    world = generate_world(WorldSize(customers, 2, 2, 0), seed=1, overlap=0.5, messy=True)
    sides: dict[Entity, tuple[Sequence[Record], Sequence[Record]]] = {
        Entity.CUSTOMER: (world.tripletex.customers, world.svenn.customers),
        Entity.PROJECT: (world.tripletex.projects, world.svenn.projects),
        Entity.EMPLOYEE: (world.tripletex.employees, world.svenn.employees),
    }
    parts = []
    for entity, (tripletex, svenn) in sides.items():
        times = []
        for _ in range(runs):
            started = time.process_time()
            plan_entity(entity, tripletex, svenn, linked={})
            times.append(time.process_time() - started)
        median = sorted(times)[len(times) // 2] * 1000
        parts.append(f"{entity.value} {len(tripletex)} x {len(svenn)}: {median:.1f} ms")
    print(f"small tenant's plan, CPU each (median of {runs}): {'; '.join(parts)}")


if __name__ == "__main__":
    sizes = [int(arg) for arg in arguments()] or [10_000, FIGURE_SIZE]
    for size in sizes:
        bench(size)
    small_tenant_plans()
