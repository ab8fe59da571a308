"""Benchmark: initial sync of a tenant with 10,000 customers, 2,000 projects and 500 employees
on each side, about half of them overlapping (messy), against both sandboxes on localhost.

Prints wall time (activation with plan preview, then the initial sync), requests each sandbox
received against the minimum possible, and peak memory. Not a test: it prints figures.

    .venv/bin/python bench/bench_initial_sync.py [size] [--profile]
    # size: bench (default), demo, small, N

The sandboxes run in processes of their own, as the real systems are remote: the sync's CPU is
this process's, the sandboxes' is measured apart and printed next to it, and so is that of
Prefect's temporary server (the bench configures none; in a deployment it is the ops' server),
which shares the cores too. At the bench size both
walls go to the figures table (:mod:`figures`), with both CPU figures. ``--profile`` runs
each under cProfile (bench/profiles/activation.prof, initial_sync.prof; figures then include
the profiler's overhead and are not recorded).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))
# On a loaded machine the ephemeral server takes longer than the default 20 s to answer.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from bench_realtime import other_children_cpu, sandbox_cpu, sandboxes
from figures import record
from profiling import arguments, profiled, wanted
from pydantic import SecretStr

from sandboxes.datagen import generate_world
from sandboxes.pair import SandboxPair, seeds
from sync.records import SYNC_ORDER, Entity

TRIPLETEX_PAGE, SVENN_PAGE = 1000, 1000
TRIPLETEX_BATCH, SVENN_BATCH = 100, 500


@contextmanager
def remote_pair(world: Any) -> Iterator[SandboxPair]:
    """Both sandboxes seeded with ``world``, each in its own process as the real systems are
    (their CPU is then not ours: it is measured apart, from /proc)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-seeds-"))
    files = []
    for name, seed in zip(("tripletex", "svenn"), seeds(world), strict=True):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(seed, default=str))
        files.append(str(path))
    with sandboxes(["--seed", files[0]], ["--seed", files[1]]) as (tx_root, sv_root):
        yield SandboxPair(f"{tx_root}/v2", f"{sv_root}/api/v1", None, None, world)


def received(root: str) -> Counter[str]:
    """Requests a sandbox received, by kind (reads, writes, sessions)."""
    kinds: Counter[str] = Counter()
    for row in httpx.get(f"{root}/_admin/requests").json():
        if os.environ.get("BENCH_SHOW_REQUESTS"):
            print("   ", row["method"], row["path"], row["query"][:80])
        if row["path"].endswith("/:create"):
            kinds["session"] += 1
        elif row["method"] == "GET":
            kinds["read"] += 1
        else:
            kinds["write"] += 1
    return kinds


def clear(root: str) -> None:
    httpx.delete(f"{root}/_admin/requests").raise_for_status()


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def main(size: str = "bench") -> None:
    started = time.perf_counter()
    world = generate_world(size, seed=1)
    print(f"world {size}: generated in {time.perf_counter() - started:.1f} s")
    database = Path(tempfile.mkdtemp(prefix="bench-store-")) / "state.db"
    with remote_pair(world) as pair:
        os.environ.update(
            SVENN_SYNC_DATABASE_URL=f"sqlite:///{database}",
            SVENN_SYNC_TRIPLETEX_BASE_URL=pair.tripletex_url,
            SVENN_SYNC_SVENN_BASE_URL=pair.svenn_url,
        )
        from cli.operate import activate_tenant
        from flows.activate import ApprovalDecision, record_decision
        from flows.initial_sync import initial_sync
        from tasks.tenant import state_store

        tx_side, sv_side = world.tripletex, world.svenn
        print(
            f"each side: Tripletex {len(tx_side.customers)} customers, {len(tx_side.projects)} "
            f"projects, {len(tx_side.employees)} employees; Svenn {len(sv_side.customers)}, "
            f"{len(sv_side.projects)}, {len(sv_side.employees)}"
        )
        asyncio.run(_warm_up())
        t0, c0, s0, p0 = (
            time.perf_counter(),
            time.process_time(),
            sandbox_cpu(),
            other_children_cpu(),
        )
        with profiled("activation"):
            accepted, status = activate_tenant(
                pair.tenant, SecretStr(pair.employee_token), SecretStr(pair.svenn_api_key), 0
            )
        activation, activation_cpu = time.perf_counter() - t0, time.process_time() - c0
        activation_served, activation_prefect = sandbox_cpu() - s0, other_children_cpu() - p0
        assert accepted, status
        store = state_store()
        record_decision.fn(
            store, pair.tenant, ApprovalDecision(decision="approve", approver="bench"), None
        )
        for root in (pair.tripletex_root, pair.svenn_root):
            clear(root)
        rss_before = _max_rss_mb()
        t0, c0, s0, p0 = (
            time.perf_counter(),
            time.process_time(),
            sandbox_cpu(),
            other_children_cpu(),
        )
        with profiled("initial_sync"):
            result = asyncio.run(initial_sync(pair.tenant))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        served, prefect_served = sandbox_cpu() - s0, other_children_cpu() - p0
        rss_after = _max_rss_mb()
        tx, sv = received(pair.tripletex_root), received(pair.svenn_root)
        rows = {r["entity"]: r for r in result["entities"]}
        inactive = sum(1 for c in tx_side.customers if not c.is_active)
        tx_min_reads = (
            pages(len(tx_side.customers) - inactive, TRIPLETEX_PAGE)
            + pages(inactive, TRIPLETEX_PAGE)
            + pages(len(tx_side.projects), TRIPLETEX_PAGE)
            + pages(len(tx_side.employees), TRIPLETEX_PAGE)
            + 1  # whoAmI: the token's own employee is the fallback project manager
            + 1  # who may manage projects (Tripletex refuses other project managers)
        )
        sv_min_reads = sum(
            pages(len(r), SVENN_PAGE)
            for r in (sv_side.customers, sv_side.projects, sv_side.employees)
        )
        tx_min_writes = sum(
            math.ceil(rows[e]["created_in_tripletex"] / TRIPLETEX_BATCH) for e in rows
        )
        sv_min_writes = sum(math.ceil(rows[e]["created_in_svenn"] / SVENN_BATCH) for e in rows)
        to_svenn, to_tripletex = alignments(store, pair.tenant, world)
        # Aligning a linked pair that differs writes each record once: Svenn has no batch
        # update (one PATCH per record), Tripletex updates in batches except employees.
        sv_min_writes += sum(to_svenn.values())
        tx_min_writes += sum(
            n if e is Entity.EMPLOYEE else math.ceil(n / TRIPLETEX_BATCH)
            for e, n in to_tripletex.items()
        )
        print(
            "\nlinked pairs that differed and were aligned: "
            + ", ".join(
                f"{e.value} {to_svenn[e]} toward Svenn, {to_tripletex[e]} toward Tripletex"
                for e in SYNC_ORDER
            )
        )
        print(
            f"\nactivation (validate keys, extract both sides, plan preview): {activation:.2f} s "
            f"({activation_cpu:.2f} s CPU; the sandboxes' CPU meanwhile {activation_served:.2f} s, "
            f"Prefect's temporary server's {activation_prefect:.2f} s)"
        )
        print(
            f"initial sync: {wall:.2f} s ({cpu:.2f} s CPU; the sandboxes' CPU meanwhile "
            f"{served:.2f} s, Prefect's temporary server's {prefect_served:.2f} s), status "
            f"{result['status']}, {result['open_failures']} open failed records"
        )
        if size == "bench" and not wanted():
            record(
                "activation (validate, extract both sides, plan preview), wall",
                activation,
                "s",
                4,
                cpu=activation_cpu,
                sandbox_cpu=activation_served,
            )
            record(
                "initial sync 10k/2k/500 per side, wall", wall, "s", 6, cpu=cpu, sandbox_cpu=served
            )
        for entity, row in rows.items():
            print(
                f"  {entity:9s} linked {row['linked']:6d}  created in Svenn "
                f"{row['created_in_svenn']:6d}  created in Tripletex "
                f"{row['created_in_tripletex']:6d}  failed {row['failed']:5d}"
            )
        for name, got, reads, writes in (
            ("Tripletex", tx, tx_min_reads, tx_min_writes),
            ("Svenn", sv, sv_min_reads, sv_min_writes),
        ):
            total, minimum = got["read"] + got["write"], reads + writes
            print(
                f"  {name:9s} requests {total:5d} (reads {got['read']}, writes {got['write']}, "
                f"+{got['session']} session) vs minimum {minimum} (reads {reads}, writes {writes})"
                f" = {total / max(minimum, 1):.2f}x"
            )
        print(
            f"  peak memory: process max RSS {rss_after:.0f} MB (the sandboxes run apart), of "
            f"which the sync added {rss_after - rss_before:.0f} MB"
        )


def alignments(store: Any, tenant: str, world: Any) -> tuple[Counter[Entity], Counter[Entity]]:
    """Per entity, how many linked pairs need a write to Svenn and to Tripletex to agree, as
    the world generated them (a person's link rules over an empty base)."""
    from store.links import links_for
    from sync.merge import merge_entity

    to_svenn: Counter[Entity] = Counter()
    to_tripletex: Counter[Entity] = Counter()
    for entity in SYNC_ORDER:
        attr = f"{entity.value}s"
        tripletex = {str(r.id): r for r in getattr(world.tripletex, attr)}
        svenn = {str(r.id): r for r in getattr(world.svenn, attr)}
        with store.sessions() as session:
            links = links_for(session, tenant, entity.value)
        for link in links:
            theirs, ours = tripletex.get(link.tripletex_id), svenn.get(link.svenn_id)
            if theirs is None or ours is None:
                continue  # created by the sync: nothing to align
            decision = merge_entity(entity, {}, ours.synced_fields(), theirs.synced_fields())
            to_svenn[entity] += bool(decision.to_svenn)
            to_tripletex[entity] += bool(decision.to_tripletex)
    return to_svenn, to_tripletex


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _warm_up() -> None:
    # Start Prefect's ephemeral server before timing anything.
    from prefect import flow

    @flow
    async def warm_up() -> None:
        return None

    await warm_up()


if __name__ == "__main__":
    main(next(iter(arguments()), "bench"))
