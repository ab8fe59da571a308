"""Benchmark sharding the realtime ticks over worker processes: 1 vs 2 on the same fleet.

The same quiet fleet is ticked back to back for ``--seconds`` by one process (shard 0 of 1),
then by two processes at once (shard 0 and 1 of 2, as two workers on two queues run them),
each tick being the realtime window's own (``flows.realtime_sync.tick_all``). Printed: tenants
ticked per second for each, the ratio (target ≥ 1.8× on 2 cores), and the CPU the sandboxes
used meanwhile (they share the same 2 cores: what they take, the ticks cannot have). The ratio
goes to ``.bench/figures.jsonl`` as one JSON line, with the most the cores allow: a process
ticks on one core at most, and the sandboxes' CPU per tick comes out of the same cores.

    .venv/bin/python bench/bench_shards.py [--tenants 400] [--seconds 20]

The store is SQLite (WAL) in a temporary directory, or ``SVENN_SYNC_BENCH_DATABASE_URL``
(PostgreSQL) when set.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_realtime import (  # noqa: E402
    activate_in_store,
    add_tenants,
    configure,
    one_tick,
    sandbox_cpu,
    sandboxes,
)
from figures import record  # noqa: E402

TARGET = 1.8


async def tick_for(seconds: float, shard: int, shards: int) -> tuple[int, float, float]:
    """Tick shard ``shard`` of ``shards`` once to warm up (connections, sessions), say so, wait
    for the word to start, then tick back to back for ``seconds``: (tenant ticks, wall, CPU)."""
    from flows.realtime_sync import tick_all
    from tasks.tenant import ClientPool, state_store

    store, pool = state_store(), ClientPool()

    async def tick() -> int:
        outcomes = await tick_all(
            store,
            pool,
            f"bench-shard-{shard}",
            shard=shard,
            shards=shards,
            concurrency=50,
            lease=dt.timedelta(seconds=60),
            initial_sync_lease=dt.timedelta(seconds=120),
        )
        failed = [o.error for o in outcomes.values() if not o.ok]
        if failed:
            raise SystemExit(f"{len(failed)} tenants failed, e.g. {failed[0]}")
        return len(outcomes)

    try:
        await tick()
        print("ready", flush=True)
        sys.stdin.readline()  # the word to start, given to every shard at once
        ticked = 0
        cpu, started = time.process_time(), time.perf_counter()
        while time.perf_counter() - started < seconds:
            ticked += await tick()
        return ticked, time.perf_counter() - started, time.process_time() - cpu
    finally:
        await pool.aclose()


def worker_main(args: argparse.Namespace) -> None:
    """One shard's process: warm up, tick when told, print one JSON line."""
    ticked, wall, cpu = asyncio.run(tick_for(args.seconds, args.shard, args.shards))
    print(json.dumps({"ticked": ticked, "wall": wall, "cpu": cpu}), flush=True)


def run_processes(shards: int, seconds: float) -> dict[str, float]:
    """``shards`` processes, one per shard, started together; tenants ticked per second."""
    command = [sys.executable, __file__, "--worker", "--seconds", str(seconds)]
    processes = [
        subprocess.Popen(
            [*command, "--shard", str(k), "--shards", str(shards)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(shards)
    ]
    for process in processes:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a shard process failed to warm up")
    before = sandbox_cpu()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=seconds * 10 + 300)
        if process.returncode != 0:
            raise SystemExit(f"a shard process failed ({process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["wall"] for r in results)
    ticked = sum(r["ticked"] for r in results)
    return {
        "per_second": ticked / wall,
        "wall": wall,
        "ticked": ticked,
        "cpu": sum(r["cpu"] for r in results),
        "sandbox_cpu": sandbox_cpu() - before,
    }


def core_bound(one: dict[str, float], cores: int) -> float:
    """The largest ratio 2 processes could reach over 1 on ``cores`` cores shared with the
    sandboxes, from the CPU one tenant tick took in the 1-process run: a process ticks on at
    most one core (the GIL), and every tick also costs the sandboxes their share."""
    ours, theirs = one["cpu"] / one["ticked"], one["sandbox_cpu"] / one["ticked"]
    all_cores = cores / (ours + theirs)
    return min(2 / ours, all_cores) / min(1 / ours, all_cores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=400)
    parser.add_argument("--records", type=int, default=3, help="customers per tenant")
    parser.add_argument("--seconds", type=float, default=20.0, help="ticking, per measurement")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shard", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--shards", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    with sandboxes() as roots, tempfile.TemporaryDirectory() as data:
        store = configure(*roots, Path(data))
        if os.environ.get("SVENN_SYNC_BENCH_DATABASE_URL"):
            os.environ["SVENN_SYNC_DATABASE_URL"] = os.environ["SVENN_SYNC_BENCH_DATABASE_URL"]
            from config.settings import load_settings
            from tasks.tenant import state_store

            load_settings.cache_clear()
            store = state_store()
        activate_in_store(store, add_tenants(*roots, args.tenants, args.records))
        settle(store)
        print(f"fleet: {args.tenants} quiet tenants, {os.cpu_count()} cores")
        one = run_processes(1, args.seconds)
        two = run_processes(2, args.seconds)
    ratio = two["per_second"] / one["per_second"]
    bound = core_bound(one, os.cpu_count() or 1)
    for label, figures in (("1 process ", one), ("2 processes", two)):
        print(
            f"{label}: {figures['per_second']:7.1f} tenants/s ({figures['ticked']} tenant ticks "
            f"in {figures['wall']:.1f} s; ticking CPU {figures['cpu']:.1f} s, sandboxes' CPU "
            f"{figures['sandbox_cpu']:.1f} s)"
        )
    print(
        f"ratio 2 vs 1: {ratio:.2f}x (target >= {TARGET}x); the most these cores allow with the "
        f"sandboxes on them: {bound:.2f}x"
    )
    record("tenants per second, 2 workers vs 1", ratio, "x", TARGET, core_bound=round(bound, 2))


def settle(store: Any) -> None:
    """The first ticks compare everything once; after them every tenant is quiet."""
    from tasks.tenant import ClientPool

    async def run() -> None:
        pool = ClientPool()
        try:
            for _ in range(2):
                await one_tick(store, pool)
        finally:
            await pool.aclose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
