"""Benchmark: hours export of 10,000 approved Svenn hour rows for 500 employees over one month.

Sets up a tenant (activation, approval, initial sync of 500 employees and their projects),
seeds the hours, then measures the first export (wall time, Tripletex requests against the
minimum: POST /timesheet/entry/list batches of the largest size Tripletex takes, plus the reads
that cannot be avoided), a run with nothing new, and a run after 100 edits. Prints figures.

    .venv/bin/python bench/bench_hours.py [employees] [rows_per_employee]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pydantic import SecretStr

from sandboxes.datagen import World, WorldSize, generate_world
from sandboxes.pair import sandbox_pair
from sync.entities import HourEntry

BATCH = 1000  # the largest /list batch Tripletex takes (sandboxes/tripletex/README.md)
MONTH = [dt.date(2025, 10, d) for d in range(1, 32) if dt.date(2025, 10, d).weekday() < 5]


def received(root: str) -> Counter[str]:
    """Requests a sandbox received, by kind."""
    kinds: Counter[str] = Counter()
    for row in httpx.get(f"{root}/_admin/requests").json():
        if row["path"].endswith("/:create"):
            kinds["session"] += 1
        elif row["method"] == "GET":
            kinds["read " + row["path"].split("/v2")[-1].split("/api/v1")[-1]] += 1
        else:
            kinds["write"] += 1
    return kinds


def clear(*roots: str) -> None:
    for root in roots:
        httpx.delete(f"{root}/_admin/requests").raise_for_status()


def hours_for(world: World, rows_per_employee: int) -> list[HourEntry]:
    rng = random.Random(3)
    projects = [p for p in world.svenn.projects if p.start_date and not p.is_closed]
    task = next(a for a in world.svenn.activities if a.is_project_activity)
    made: list[HourEntry] = []
    for employee in world.svenn.employees:
        for day in rng.sample(MONTH, min(rows_per_employee, len(MONTH))):
            made.append(
                HourEntry(
                    id=f"hrs-b{len(made):05d}",
                    employee_id=str(employee.id),
                    project_id=rng.choice(projects).id,
                    activity_id=task.id,
                    date=day,
                    hours=Decimal(rng.choice(("7.5", "8", "4", "6.5"))),
                    comment=rng.choice((None, "Montering", "Rigging")),
                    status="approved",
                    approved_by=str(employee.id),
                    approved_at=dt.datetime(2025, 11, 3, 8, tzinfo=dt.UTC),
                )
            )
    return made


def report(label: str, seconds: float, tx: Counter[str], sv: Counter[str]) -> None:
    print(f"\n{label}: {seconds:.2f} s")
    print(f"  Tripletex: {dict(tx)}")
    print(f"  Svenn:     {dict(sv)}")


def main(employees: int = 500, rows_per_employee: int = 20) -> None:
    size = WorldSize(customers=20, projects=20, employees=employees, hours_per_employee=0)
    world = generate_world(size, seed=1, overlap=0.5, messy=False)
    world.svenn.hours[:] = hours_for(world, rows_per_employee)
    database = Path(tempfile.mkdtemp(prefix="bench-store-")) / "state.db"
    with sandbox_pair(world=world, rate_limit=0) as pair:
        os.environ.update(
            SVENN_SYNC_DATABASE_URL=f"sqlite:///{database}",
            SVENN_SYNC_TRIPLETEX_BASE_URL=pair.tripletex_url,
            SVENN_SYNC_SVENN_BASE_URL=pair.svenn_url,
        )
        from cli.operate import activate_tenant
        from flows.activate import ApprovalDecision, record_decision
        from flows.export_hours import export_hours
        from flows.initial_sync import initial_sync
        from tasks.tenant import state_store

        accepted, status = activate_tenant(
            pair.tenant, SecretStr(pair.employee_token), SecretStr(pair.svenn_api_key), 0
        )
        assert accepted, status
        store = state_store()
        record_decision.fn(
            store, pair.tenant, ApprovalDecision(decision="approve", approver="b"), None
        )
        asyncio.run(initial_sync(pair.tenant))
        roots = (pair.tripletex_root, pair.svenn_root)
        print(f"{len(world.svenn.hours)} approved rows, {employees} employees, October 2025")

        clear(*roots)
        t0 = time.perf_counter()
        first = asyncio.run(export_hours(tenant=pair.tenant))[pair.tenant]
        wall = time.perf_counter() - t0
        tx, sv = received(pair.tripletex_root), received(pair.svenn_root)
        report("first export", wall, tx, sv)
        print(f"  {first}")
        projects = tx["read /activity/>forTimeSheet"]
        min_writes = math.ceil(first["entries_created"] / BATCH)
        min_reads = 1 + projects  # the window's entries (one page of 10,000), >forTimeSheet
        writes, reads = tx["write"], sum(v for k, v in tx.items() if k.startswith("read"))
        print(
            f"  Tripletex writes {writes} vs minimum {min_writes} (batches of {BATCH}) = "
            f"{writes / max(min_writes, 1):.2f}x; all requests {writes + reads} vs "
            f"{min_writes + min_reads} = {(writes + reads) / (min_writes + min_reads):.2f}x "
            f"(+{tx['session']} session)"
        )

        clear(*roots)
        t0 = time.perf_counter()
        asyncio.run(export_hours(tenant=pair.tenant))
        report("run with nothing new", time.perf_counter() - t0,
               received(pair.tripletex_root), received(pair.svenn_root))  # fmt: skip

        edit_url = f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit"
        for hour in world.svenn.hours[:100]:
            body = {"entity": "hours", "id": hour.id, "operation": "update",
                    "changes": {"hours": 5}}  # fmt: skip
            httpx.post(edit_url, json=body).raise_for_status()
        clear(*roots)
        t0 = time.perf_counter()
        edited = asyncio.run(export_hours(tenant=pair.tenant))[pair.tenant]
        report("after 100 edits in Svenn", time.perf_counter() - t0,
               received(pair.tripletex_root), received(pair.svenn_root))  # fmt: skip
        print(f"  {edited}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
