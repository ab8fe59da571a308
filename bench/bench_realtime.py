"""Benchmark the realtime sync against both sandboxes (run as separate processes); prints figures.

1. A quiet tick: requests per tenant, per entity and side (the limit is 1).
2. 1,000 active, quiet tenants in one tick: wall time (the target is < 10 s on 2 cores).
3. Random edits on both sides at a steady rate while ticking every ``--poll`` seconds:
   change-to-visible latency p50/p95/max (target p95 ≤ 2 × poll), and requests per applied
   change (target well under 2).
5. Linked pairs that disagree on any synced field after the busy part (target 0), and 6. the
   largest gap between two ticks over ``--windows`` realtime-sync windows on a real Prefect
   server + worker (target ≤ 2 × poll): ``bench/realtime_windows.py``.

Tenants are made active directly in a fresh SQLite store; each one's first tick compares
everything once (what the first tick after an initial sync does), which is setup here.

    .venv/bin/python -m bench.bench_realtime [--tenants 1000] [--seconds 30] [--rate 4] [--poll 1]
"""

# ruff: noqa: ASYNC210, ASYNC212  (the bench edits and reads back between ticks, on purpose)
from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import record
from profiling import wanted
from pydantic import SecretStr
from realtime_windows import print_checks

from sandboxes.runner import free_port

CONSUMER = "sandbox-consumer-token"
ENTITIES = ("employee", "customer", "project")
BUSY_COMPANY = 5001


SANDBOX_PIDS: list[int] = []


def sandbox_cpu() -> float:
    """CPU seconds the sandbox processes have used so far (Linux ``/proc``; 0 elsewhere)."""
    return _cpu_of(SANDBOX_PIDS)


def other_children_cpu() -> float:
    """CPU seconds this process's other child processes have used so far: Prefect's own
    temporary server, when a flow runs without one configured (Linux ``/proc``; 0 elsewhere)."""
    children: list[int] = []
    for path in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        children += [int(pid) for pid in path.read_text().split()]
    return _cpu_of([pid for pid in children if pid not in SANDBOX_PIDS])


def _cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def sandboxes(
    tripletex_args: Sequence[str] = (), svenn_args: Sequence[str] = ()
) -> Iterator[tuple[str, str]]:
    """Both sandboxes in their own processes (so their work does not share our GIL), with
    extra command-line arguments (e.g. ``--seed FILE``)."""
    tx_port, sv_port = free_port(), free_port()
    python = sys.executable
    tripletex = [python, "-m", "sandboxes.tripletex", "--port", str(tx_port), "--rate-limit", "0"]
    procs = [
        subprocess.Popen(
            [*tripletex, *tripletex_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [python, "-m", "sandboxes.svenn", "--port", str(sv_port), *svenn_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    SANDBOX_PIDS[:] = [proc.pid for proc in procs]
    roots = (f"http://127.0.0.1:{tx_port}", f"http://127.0.0.1:{sv_port}")
    try:
        for root, probe in zip(roots, ("/_admin/companies", "/openapi.json"), strict=True):
            for _ in range(1200):
                try:
                    httpx.get(root + probe, timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
        yield roots
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def add_tenants(tx_root: str, sv_root: str, count: int, records: int) -> list[tuple[str, str, str]]:
    """``count`` tenants, each a Tripletex company + Svenn tenant with ``records`` customers."""
    made = []
    with httpx.Client(timeout=60) as http:
        for n in range(count):
            tenant, token, key = f"t-{n:04d}", f"tok-{n:04d}", f"key-{n:04d}"
            customers = [
                {"name": f"Kunde {n}-{i} AS", "customerNumber": 1000 + i} for i in range(records)
            ]
            http.post(
                f"{tx_root}/_admin/companies",
                json={
                    "id": 10_000 + n,
                    "name": f"Firma {n}",
                    "employeeTokens": [{"token": token, "entitlements": ["ALL"]}],
                    "employees": [
                        {"firstName": "Eier", "lastName": f"N{n}", "email": f"e{n}@x.no"}
                    ],
                },
            ).raise_for_status()
            http.post(
                f"{sv_root}/_admin/tenants",
                json={"id": tenant, "name": f"Firma {n}", "apiKey": key, "customers": customers},
            ).raise_for_status()
            made.append((tenant, token, key))
    return made


def activate_in_store(store: Any, tenants: list[tuple[str, str, str]]) -> None:
    from store.integrations import ensure_integration, transition
    from store.models import IntegrationStatus as S

    with store.sessions.begin() as session:
        for tenant, token, key in tenants:
            row = ensure_integration(session, tenant)
            row.employee_token_encrypted = store.cipher.encrypt(SecretStr(token))
            row.svenn_api_key_encrypted = store.cipher.encrypt(SecretStr(key))
            for status in (S.REVIEW, S.APPROVED, S.SYNCING, S.ACTIVE):
                transition(session, tenant, status, actor="bench")


def requests(root: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = httpx.get(f"{root}/_admin/requests", timeout=60).json()
    return rows  # session creations included: a quiet tick makes none


def forget(roots: tuple[str, str]) -> None:
    for root in roots:
        httpx.delete(f"{root}/_admin/requests", timeout=60).raise_for_status()


async def one_tick(
    store: Any, pool: Any, concurrency: int = 50, clock: Any = None
) -> dict[str, Any]:
    from flows.realtime_sync import tick_all

    outcomes = await tick_all(
        store,
        pool,
        "bench",
        shard=0,
        shards=1,
        concurrency=concurrency,
        lease=dt.timedelta(seconds=60),
        initial_sync_lease=dt.timedelta(seconds=120),
        clock=clock,
    )
    failed = {t: o.error for t, o in outcomes.items() if not o.ok}
    if failed:
        raise SystemExit(
            f"tick failed for {len(failed)} tenants, e.g. {next(iter(failed.items()))}"
        )
    return outcomes


def configure(tx_root: str, sv_root: str, data: Path) -> Any:
    os.environ.update(
        {
            "SVENN_SYNC_DATABASE_URL": f"sqlite:///{data / 'state.db'}",
            "SVENN_SYNC_TRIPLETEX_BASE_URL": f"{tx_root}/v2",
            "SVENN_SYNC_SVENN_BASE_URL": f"{sv_root}/api/v1",
            "SVENN_SYNC_TRIPLETEX_CONSUMER_TOKEN": CONSUMER,
        }
    )
    from config.settings import load_settings
    from tasks.tenant import state_store

    load_settings.cache_clear()
    return state_store()


async def quiet_and_fleet(args: argparse.Namespace, roots: tuple[str, str], store: Any) -> None:
    from tasks.tenant import ClientPool

    tenants = add_tenants(*roots, args.tenants, records=args.records)
    activate_in_store(store, tenants)
    pool = ClientPool()
    try:
        started = time.perf_counter()
        await one_tick(store, pool)  # baseline: compare once, create what is missing
        print(f"setup: {args.tenants} tenants, baseline tick {time.perf_counter() - started:.1f} s")
        await one_tick(store, pool)  # our own creates come back once
        forget(roots)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        cpu, served = time.process_time(), sandbox_cpu()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        await one_tick(store, pool)
        wall = time.perf_counter() - started
        cpu, served = time.process_time() - cpu, sandbox_cpu() - served
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        tx, sv = requests(roots[0]), requests(roots[1])
        writes = [r for r in tx + sv if r["method"] != "GET"]
        per_tenant_tx = len(tx) / args.tenants / len(ENTITIES)
        per_tenant_sv = len(sv) / args.tenants / len(ENTITIES)
        print("\n1. quiet tick, requests per tenant per entity per side (limit 1):")
        print(
            f"   Tripletex {per_tenant_tx:.2f}  ({len(tx)} requests, all 304s: "
            f"{all(r['status'] == 304 for r in tx)})"
        )
        print(f"   Svenn     {per_tenant_sv:.2f}  ({len(sv)} requests: one feed read per tenant)")
        print(f"   writes: {len(writes)}")
        print(
            f"\n2. {args.tenants} active, quiet tenants, one tick: {wall:.2f} s wall "
            f"(target < 10 s); load average {os.getloadavg()[0]:.1f}\n"
            f"   CPU used meanwhile: the sync {cpu:.2f} s, the two sandboxes {served:.2f} s "
            f"(on {os.cpu_count()} cores shared with other work)"
        )
        if not profiler:
            per_tenant_ms = cpu / args.tenants * 1000
            name = "quiet realtime tick, CPU per active tenant"
            record(name, per_tenant_ms, "ms", 0.5, wall=wall, tenants=args.tenants)
            await quiet_with_webhooks(args, roots, store, pool, tenants)
    finally:
        await pool.aclose()


async def quiet_with_webhooks(
    args: argparse.Namespace,
    roots: tuple[str, str],
    store: Any,
    pool: Any,
    tenants: list[tuple[str, str, str]],
) -> None:
    """1b. The same fleet with healthy webhook subscriptions (``sync.push_schedule``): a quiet
    regular tick reads only Svenn's feed; Tripletex is polled once per fallback interval. Then
    the floor: the CPU of the same request sent bare with aiohttp, no sync code around it."""
    from sqlalchemy import update

    from store.models import Integration
    from store.webhooks import HEALTHY
    from tasks.push_wake import PushClock

    with store.sessions.begin() as session:
        session.execute(
            update(Integration).values(
                push_status=HEALTHY, tripletex_polled_at=dt.datetime.now(dt.UTC)
            )
        )
    clock = PushClock(enabled=True, fallback_seconds=300)
    await one_tick(store, pool, clock=clock)
    forget(roots)
    cpu, started = time.process_time(), time.perf_counter()
    await one_tick(store, pool, clock=clock)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    sent = len(requests(roots[0])) + len(requests(roots[1]))
    floor = await bare_request_cpu(roots[1], tenants)
    per_tenant_ms = cpu / args.tenants * 1000
    print(
        f"\n1b. with healthy webhooks (Tripletex polled once per 300 s fallback): "
        f"{sent / args.tenants:.2f} requests per tenant, {per_tenant_ms:.2f} ms CPU per tenant "
        f"({wall:.2f} s wall for {args.tenants})\n"
        f"   the same feed request sent bare with aiohttp: {floor * 1000:.2f} ms CPU each "
        f"(the HTTP library's share; the rest, {per_tenant_ms - floor * 1000:.2f} ms, is ours)"
    )
    name = "quiet realtime tick with webhooks, CPU per active tenant"
    record(name, per_tenant_ms, "ms", 0.5, wall=wall, requests=sent / args.tenants)
    record("bare aiohttp request, CPU each", floor * 1000, "ms")


async def bare_request_cpu(sv_root: str, tenants: list[tuple[str, str, str]]) -> float:
    """CPU seconds per request of each tenant's feed read from its latest cursor (what a quiet
    tick reads), sent bare with aiohttp (the sync's HTTP library) over one shared pool, as the
    sync sends it, 50 at a time, after one warm-up round."""
    import aiohttp

    from connectors.svenn.reader import PAGE_LIMIT

    gate = asyncio.Semaphore(50)
    cursors: dict[int, str] = {}

    async with aiohttp.ClientSession(f"{sv_root}/") as http:

        async def read(n: int, key: str) -> None:
            headers = {"Authorization": f"Bearer {key}"}
            async with gate:
                if n not in cursors:
                    async with http.get("api/v1/changes/latest", headers=headers) as latest:
                        cursors[n] = (await latest.json())["cursor"]
                params: dict[str, str | int] = {"limit": PAGE_LIMIT, "cursor": cursors[n]}
                async with http.get("api/v1/changes", params=params, headers=headers) as answer:
                    answer.raise_for_status()
                    await answer.read()

        await asyncio.gather(*(read(n, key) for n, (_, _, key) in enumerate(tenants)))
        cpu = time.process_time()
        await asyncio.gather(*(read(n, key) for n, (_, _, key) in enumerate(tenants)))
        return (time.process_time() - cpu) / len(tenants)


async def latency(args: argparse.Namespace, roots: tuple[str, str], store: Any) -> None:
    """One busy tenant: random edits on both sides at a steady rate while ticking."""
    from sandboxes.datagen import generate_world
    from sandboxes.pair import EMPLOYEE_TOKEN, SVENN_API_KEY, TENANT, seeds
    from store.links import links_for
    from tasks.tenant import ClientPool

    tx_seed, sv_seed = seeds(generate_world("small", seed=3))
    tx_seed["companies"][0]["id"] = BUSY_COMPANY  # the sandbox's default company is 1001
    httpx.post(f"{roots[0]}/_admin/companies", json=tx_seed["companies"][0]).raise_for_status()
    httpx.post(f"{roots[1]}/_admin/tenants", json=sv_seed["tenants"][0]).raise_for_status()
    with store.sessions.begin() as session:
        from store.models import Integration

        session.query(Integration).delete()  # only the busy tenant from here on
    activate_in_store(store, [(TENANT, EMPLOYEE_TOKEN, SVENN_API_KEY)])
    pool = ClientPool()
    try:
        await one_tick(store, pool)  # baseline
        await one_tick(store, pool)
        with store.sessions() as session:
            pairs = [
                (lk.svenn_id, lk.tripletex_id) for lk in links_for(session, TENANT, "customer")
            ]
        forget(roots)
        rng = random.Random(1)
        pending: dict[tuple[str, str, str], float] = {}  # (side, id, value) → edit time
        latencies: list[float] = []
        applied = 0
        stop = time.monotonic() + args.seconds
        next_edit = time.monotonic()
        next_tick = time.monotonic()
        http = httpx.Client(timeout=30)
        n = 0
        while time.monotonic() < stop or pending:
            now = time.monotonic()
            if now < stop and now >= next_edit:
                # a customer with no edit in flight: two edits of one field before a tick are
                # a conflict (one value is logged, never visible), not a latency sample
                busy = {key[1] for key in pending}
                sv_id, tx_id = rng.choice([p for p in pairs if not busy & set(p)])
                n += 1
                phone = f"+47{90000000 + n}"
                if rng.random() < 0.5:
                    http.post(
                        f"{roots[1]}/_admin/tenants/{TENANT}/edit",
                        json={
                            "entity": "customer",
                            "id": sv_id,
                            "operation": "update",
                            "changes": {"phone": phone},
                        },
                    ).raise_for_status()
                    pending[("tripletex", tx_id, phone)] = now
                else:
                    http.post(
                        f"{roots[0]}/_admin/companies/{BUSY_COMPANY}/edit",
                        json={
                            "entity": "customer",
                            "id": int(tx_id),
                            "changes": {"phoneNumber": phone},
                        },
                    ).raise_for_status()
                    pending[("svenn", sv_id, phone)] = now
                next_edit += 1 / args.rate
            if now >= next_tick:
                outcomes = await one_tick(store, pool)
                applied += sum(
                    c.written_to_svenn + c.written_to_tripletex
                    for o in outcomes.values()
                    if o.value
                    for c in o.value.entities.values()
                )
                done = time.monotonic()
                seen = _visible(http, roots, pending)
                for key in seen:
                    latencies.append(done - pending.pop(key))
                next_tick += args.poll
            await asyncio.sleep(0.01)
            if time.monotonic() > stop + 30:
                break
        http.close()
        total = len(requests(roots[0])) + len(requests(roots[1]))
        q = (
            statistics.quantiles(latencies, n=20, method="inclusive")
            if len(latencies) > 1
            else [0.0] * 19
        )
        print(
            f"\n3. change-to-visible latency, {len(latencies)} edits at {args.rate}/s over "
            f"{args.seconds} s, poll {args.poll} s:"
        )
        print(
            f"   p50 {statistics.median(latencies):.2f} s, p95 {q[18]:.2f} s, "
            f"max {max(latencies):.2f} s (target p95 ≤ {2 * args.poll:.1f} s); "
            f"{len(pending)} never seen"
        )
        print(
            f"\n4. requests per applied change: {total} requests / {applied} changes = "
            f"{total / max(applied, 1):.2f}"
        )
        print("   by endpoint: " + breakdown(requests(roots[0]) + requests(roots[1])))
    finally:
        await pool.aclose()


def breakdown(rows: list[dict[str, Any]]) -> str:
    """``METHOD path`` (ids folded to ``{id}``) → count, most frequent first."""
    counts: dict[str, int] = {}
    for row in rows:
        parts = row["path"].split("/")
        path = "/".join(
            "{id}" if re.search(r"\d", p) and not re.fullmatch(r"v\d+", p) else p for p in parts
        )
        key = f"{row['method']} {path}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _visible(
    http: httpx.Client, roots: tuple[str, str], pending: dict
) -> list[tuple[str, str, str]]:
    from sandboxes.pair import TENANT

    if not pending:
        return []
    tx = {
        str(r["id"]): r
        for r in http.get(f"{roots[0]}/_admin/companies/{BUSY_COMPANY}/state").json()["customer"]
    }
    sv = {
        r["id"]: r
        for r in http.get(f"{roots[1]}/_admin/tenants/{TENANT}/state").json()["customers"]
    }
    found = []
    for side, record_id, phone in pending:
        value = (
            (tx.get(record_id) or {}).get("phoneNumber")
            if side == "tripletex"
            else (sv.get(record_id) or {}).get("phone")
        )
        if value == phone:
            found.append((side, record_id, phone))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=4.0, help="edits per second")
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between ticks")
    parser.add_argument("--only", choices=("fleet", "busy"), help="run one part only")
    parser.add_argument("--records", type=int, default=3, help="customers per fleet tenant")
    parser.add_argument(
        "--profile",
        action="store_true",
        default=wanted(),
        help="cProfile the quiet fleet tick (also BENCH_PROFILE=1)",
    )
    parser.add_argument("--windows", type=int, default=3, help="windows on a server (0: skip)")
    parser.add_argument("--window-seconds", type=float, default=20.0)
    parser.add_argument(
        "--wait-for-next",
        type=float,
        default=60.0,
        help="seconds a window ticks on past its end until the next one ticks",
    )
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}; load: {os.getloadavg()[0]:.1f}")
    with sandboxes() as roots, tempfile.TemporaryDirectory() as tmp:
        store = configure(*roots, Path(tmp))
        if args.only != "busy":
            asyncio.run(quiet_and_fleet(args, roots, store))
        if args.only != "fleet":
            asyncio.run(latency(args, roots, store))
            print_checks(args, roots, store, BUSY_COMPANY)


if __name__ == "__main__":
    main()
