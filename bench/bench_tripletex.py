"""Benchmark the Tripletex connector against the in-process sandbox; prints figures.

Seeds 10,000 customers, 2,000 projects and 500 employees, reads all of each, then creates
5,000 customers. For each step: wall time, requests made, and the minimum possible (pages or
batches needed). Goals: requests <= 1.05 x minimum; reading 10,000 customers < 2 s.

Run: .venv/bin/python bench/bench_tripletex.py
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.tripletex import TripletexClient
from connectors.tripletex.reading import PAGE_SIZE
from sandboxes.runner import serve_in_thread
from sandboxes.tripletex.app import create_app
from sync.entities import Customer
from sync.records import Entity

TOKEN = "bench-employee-token"
N_CUSTOMERS, N_PROJECTS, N_EMPLOYEES, N_CREATE = 10_000, 2_000, 500, 5_000
INACTIVE_EVERY = 20  # 5 % of customers are inactive


def seed() -> dict[str, Any]:
    """One company with the benchmark's data, as Tripletex JSON."""
    employees = [
        {
            "id": 1 + n,
            "firstName": f"Ansatt{n}",
            "lastName": "Nordmann",
            "email": f"ansatt{n}@bench.no",
            "userType": "STANDARD",
            "employeeNumber": str(n),
        }
        for n in range(N_EMPLOYEES)
    ]
    customers = [
        {
            "id": 100_000 + n,
            "name": f"Kunde {n} AS",
            "organizationNumber": f"{800_000_000 + n}",
            "customerNumber": 1 + n,
            "email": f"post{n}@kunde.no",
            "isInactive": n % INACTIVE_EVERY == 0,
        }
        for n in range(N_CUSTOMERS)
    ]
    projects = [
        {
            "id": 500_000 + n,
            "name": f"Prosjekt {n}",
            "number": f"P{n}",
            "customer": {"id": 100_000 + n},
            "projectManager": {"id": 1},
            "startDate": "2025-01-01",
            "isInternal": False,
        }
        for n in range(N_PROJECTS)
    ]
    company = {
        "id": 1001,
        "name": "Benchmark AS",
        "employeeTokens": [{"token": TOKEN, "entitlements": ["ALL"]}],
        "customers": customers,
        "employees": employees,
        "projects": projects,
        "activities": [],
        "timesheetEntries": [],
    }
    return {"companies": [company]}


async def measure(
    tx: TripletexClient, label: str, minimum: int, step: Callable[[], Awaitable[int]]
) -> None:
    """Run one step and print its wall time, requests and the minimum possible."""
    tx.api.counters.reset()
    started = time.perf_counter()
    count = await step()
    elapsed = time.perf_counter() - started
    made = tx.api.counters.total
    ratio = made / minimum if minimum else float("nan")
    verdict = "OK" if ratio <= 1.05 else "OVER"
    print(
        f"{label:<28} {count:>6} records  {elapsed:6.2f} s  "
        f"requests {made:>4} / min {minimum:>4} = {ratio:4.2f}x {verdict}"
    )


def pages(n: int) -> int:
    """Pages needed for ``n`` records (an empty list still costs one request)."""
    return max(1, math.ceil(n / PAGE_SIZE))


async def run(base_url: str) -> None:
    """Every benchmark step against one sandbox."""
    inactive = math.ceil(N_CUSTOMERS / INACTIVE_EVERY)
    async with TripletexClient(base_url, "sandbox-consumer-token", TOKEN) as tx:
        await tx.who_am_i()  # open the session outside the timed steps

        async def customers() -> int:
            return len(await tx.list(Entity.CUSTOMER))

        async def projects() -> int:
            return len(await tx.list(Entity.PROJECT))

        async def employees() -> int:
            return len(await tx.list(Entity.EMPLOYEE))

        new = [
            Customer(
                name=f"Ny kunde {n} AS",
                organization_number=f"{900_000_000 + n}",
                customer_number=50_000 + n,
            )
            for n in range(N_CREATE)
        ]

        async def create() -> int:
            return len(await tx.create_many(Entity.CUSTOMER, new))

        customer_pages = pages(N_CUSTOMERS - inactive) + pages(inactive)
        await measure(tx, "read customers", customer_pages, customers)
        await measure(tx, "read projects", pages(N_PROJECTS), projects)
        await measure(tx, "read employees", pages(N_EMPLOYEES), employees)
        await measure(tx, "create customers (/list)", math.ceil(N_CREATE / tx.batch_size), create)


def main() -> None:
    """Start the sandbox in-process, run the benchmark, print the figures."""
    started = time.perf_counter()
    app = create_app(seed(), rate_limit=0)
    print(f"sandbox seeded in {time.perf_counter() - started:.2f} s (rate limit off)")
    with serve_in_thread(app) as url:
        asyncio.run(run(f"{url}/v2"))


if __name__ == "__main__":
    main()
