"""Customer matching on generated messy worlds, timed, and judged against the ground truth.

Run: ``.venv/bin/python -m bench.bench_matching [customers ...]`` (default 10000 100000).

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
(``gc.freeze``): the generator's millions of objects are not the matcher's cost.
"""

from __future__ import annotations

import gc
import sys
import time

from sandboxes.datagen import WorldSize, generate_world
from sandboxes.ground_truth import judge_plan
from sync.matching import match_customers, records_frame
from sync.plan import SyncPlan, plan_entity
from sync.records import Entity


class Stopwatch:
    """Wall and CPU seconds since the last lap."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> str:
        """ "W s (C s CPU)" since the previous lap."""
        wall, cpu = time.perf_counter(), time.process_time()
        text = f"{wall - self.wall:5.2f} s ({cpu - self.cpu:5.2f} s CPU)"
        self.wall, self.cpu = wall, cpu
        return text


def bench(customers: int, seed: int = 0) -> None:
    """Generate, match and plan ``customers`` × ``customers`` customers; print times and counts."""
    clock = Stopwatch()
    world = generate_world(WorldSize(customers, 2, 2, 0), seed=seed, overlap=0.5, messy=True)
    generated = clock.lap()
    gc.collect()
    gc.freeze()
    clock.lap()
    result = match_customers(
        records_frame(world.tripletex.customers), records_frame(world.svenn.customers)
    )
    matched = clock.lap()
    plan = SyncPlan(
        {
            Entity.CUSTOMER: plan_entity(
                Entity.CUSTOMER, world.tripletex.customers, world.svenn.customers, linked={}
            )
        }
    )
    planned = clock.lap()
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
    gc.unfreeze()


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    for size in sizes:
        bench(size)
