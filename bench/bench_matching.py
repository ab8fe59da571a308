"""Time customer matching on generated worlds (half overlapping, messy).

Run: ``.venv/bin/python -m bench.bench_matching [customers ...]`` (default 10000 100000).
Prints generation, frame building and matching times separately; the figure that the
< 5 s target is about is "match".
"""

from __future__ import annotations

import sys
import time

from sandboxes.datagen import WorldSize, generate_world
from sync.matching import match_customers, records_frame
from sync.records import Entity


def bench(customers: int, seed: int = 0) -> None:
    """Generate, frame and match ``customers`` × ``customers`` customers; print the timings."""
    started = time.perf_counter()
    world = generate_world(WorldSize(customers, 2, 2, 0), seed=seed, overlap=0.5, messy=True)
    generated = time.perf_counter()
    tripletex = records_frame(world.tripletex.customers)
    svenn = records_frame(world.svenn.customers)
    framed = time.perf_counter()
    result = match_customers(tripletex, svenn)
    matched = time.perf_counter()
    truth = {(t, s) for t, s in world.truth[Entity.CUSTOMER].items() if t not in world.ambiguous}
    found = {(link.tripletex_id, link.svenn_id) for link in result.links}
    print(
        f"{customers:>7} x {len(svenn):>7} customers: generate {generated - started:6.2f} s, "
        f"frames {framed - generated:5.2f} s, match {matched - framed:5.2f} s; "
        f"links {len(result.links)}, ambiguous {len(result.ambiguous)}, "
        f"unmatched {len(result.unmatched_tripletex)}/{len(result.unmatched_svenn)}, "
        f"truth recovered exactly: {found == truth}"
    )


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 100_000]
    for size in sizes:
        bench(size)
