"""Benchmark the Svenn connector against the in-process sandbox; prints figures.

Seeds one tenant with 10,000 customers, 2,000 projects, 500 employees and 100,000 hours
(generated Norwegian data when ``sandboxes.datagen`` is there), reads every entity in full,
then drains a change feed of 50,000 events. For each step: wall time, records, requests sent
and the minimum a reader needs: one request per 1,000 records (a full last page already
says there is no more).

    .venv/bin/python -m bench.bench_svenn
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.http import HttpPolicy
from connectors.svenn.client import PAGE_LIMIT, SvennClient
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app
from sync.records import Entity

TENANT, API_KEY = "t-bench", "svenn-bench-key"
SIZES = {"customers": 10_000, "projects": 2_000, "employees": 500, "hours": 100_000}
FEED_EVENTS = 50_000


def build_seed() -> dict[str, Any]:
    """One tenant of the sizes above, from the data generator."""
    from sandboxes.datagen import WorldSize, generate_world
    from sandboxes.svenn.seed import tenant_from_dataset

    size = WorldSize(
        customers=SIZES["customers"],
        projects=SIZES["projects"],
        employees=SIZES["employees"],
        hours_per_employee=SIZES["hours"] // SIZES["employees"],
    )
    world = generate_world(size, seed=1, overlap=1.0, messy=False)
    return {"tenants": [tenant_from_dataset(world.svenn, TENANT, API_KEY)]}


def minimum_requests(count: int) -> int:
    """Pages a reader cannot avoid: ceil(n/1000) (Svenn ends a full last page with next=null)."""
    return max(1, math.ceil(count / PAGE_LIMIT))


async def measure(
    svenn: SvennClient,
    label: str,
    read: Callable[[], Awaitable[int]],
    minimum: Callable[[int], int],
) -> None:
    svenn.api.counters.reset()
    started = time.perf_counter()
    count = await read()
    seconds = time.perf_counter() - started
    sent = svenn.api.counters.total
    print(
        f"{label:<12} {count:>8,} records {seconds:>7.2f} s {count / seconds:>9,.0f}/s "
        f"{sent:>4} requests (minimum {minimum(count)})"
    )


async def drain_feed(svenn: SvennClient) -> int:
    events = 0
    async for page in svenn.iter_changes(None):
        events += len(page.events)
    return events


async def run(api_url: str) -> None:
    async with SvennClient(api_url, API_KEY, policy=HttpPolicy(timeout=120)) as svenn:
        await measure(
            svenn, "customers", lambda: _count(svenn.list(Entity.CUSTOMER)), minimum_requests
        )
        await measure(
            svenn, "projects", lambda: _count(svenn.list(Entity.PROJECT)), minimum_requests
        )
        await measure(
            svenn, "employees", lambda: _count(svenn.list(Entity.EMPLOYEE)), minimum_requests
        )
        await measure(svenn, "hours", lambda: _count(svenn.list(Entity.HOURS)), minimum_requests)
        await measure(svenn, "feed", lambda: drain_feed(svenn), minimum_requests)


async def _count(listing: Awaitable[list[Any]]) -> int:
    return len(await listing)


def main() -> None:
    started = time.perf_counter()
    seed = build_seed()
    generated = time.perf_counter() - started
    tenant = seed["tenants"][0]
    sizes = ", ".join(f"{len(tenant[k]):,} {k}" for k in SIZES)
    print(f"generated {sizes} in {generated:.1f} s")
    started = time.perf_counter()
    app = create_app(seed, feed_retention=200_000)
    print(f"seeded the sandbox in {time.perf_counter() - started:.1f} s")
    with serve_in_thread(app) as url:
        response = httpx.post(f"{url}/_admin/tenants/{TENANT}/feed/compact?keep={FEED_EVENTS}")
        response.raise_for_status()
        asyncio.run(run(url + "/api/v1"))


if __name__ == "__main__":
    main()
