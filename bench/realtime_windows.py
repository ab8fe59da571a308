"""The realtime bench's checks beyond latency: ticks across windows on a real Prefect server,
and linked pairs that still disagree after the busy part."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

import httpx

DEPLOYMENT = "realtime-sync/realtime-sync"


def tick_times(store: Any, tenant: str, *, until: Any, poll: float) -> list[dt.datetime]:
    """The tenant's tick completions (``realtime_ok_at`` as it moves), sampled until ``until()``."""
    from store.integrations import get_integration

    seen: list[dt.datetime] = []
    while not until():
        with store.sessions() as session:
            integration = get_integration(session, tenant)
            at = integration.realtime_ok_at if integration else None
        if at is not None and (not seen or at != seen[-1]):
            seen.append(at)
        time.sleep(min(0.1, poll / 10))
    return seen


def largest_gap_across_windows(
    store: Any, tenant: str, *, window: float, overlap: float, poll: float, windows: int = 3
) -> tuple[float, int, int]:
    """Run ``realtime-sync`` on a real server + worker with a ``window``-second schedule and
    ``window + overlap``-second runs; (largest gap between two ticks, ticks, runs seen)."""
    from tests.server.harness import PrefectServer

    with PrefectServer.start(scheduler_loop_seconds=1.0) as server:
        server.deploy()
        with server.worker({}):
            params = {"window_seconds": window + overlap, "poll_seconds": poll}
            server.run_on_schedule(DEPLOYMENT, window, params)

            def done() -> bool:
                runs = server.flow_runs(DEPLOYMENT)
                ended = [r for r in runs if (r.get("state") or {}).get("type") == "COMPLETED"]
                return len(ended) >= windows

            started = time.monotonic()
            times = tick_times(
                store,
                tenant,
                until=lambda: done() or time.monotonic() - started > windows * window * 4,
                poll=poll,
            )
            server.pause(DEPLOYMENT)
            runs = len(server.flow_runs(DEPLOYMENT))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return (max(gaps) if gaps else float("nan")), len(times), runs


def disagreeing_pairs(roots: tuple[str, str], store: Any, tenant: str, company: int) -> dict:
    """Per entity: linked pairs whose two sides differ in a synced field, and which fields."""
    from connectors.svenn.mapping import record_from_svenn
    from connectors.tripletex.mapping import (
        customer_from_tripletex,
        employee_from_tripletex,
        project_from_tripletex,
    )
    from store.links import links_for
    from sync.records import SYNC_ORDER

    readers: dict[str, Any] = {
        "customer": customer_from_tripletex,
        "employee": employee_from_tripletex,
        "project": project_from_tripletex,
    }
    resources = {"customer": "customers", "employee": "employees", "project": "projects"}
    tx_state = httpx.get(f"{roots[0]}/_admin/companies/{company}/state", timeout=60).json()
    sv_state = httpx.get(f"{roots[1]}/_admin/tenants/{tenant}/state", timeout=60).json()
    found: dict[str, Any] = {}
    for entity in SYNC_ORDER:
        tx = {str(r["id"]): r for r in tx_state[entity.value]}
        sv = {r["id"]: r for r in sv_state[resources[entity.value]]}
        with store.sessions() as session:
            links = links_for(session, tenant, entity.value)
        fields: dict[str, int] = {}
        count = 0
        for link in links:
            if link.svenn_id not in sv or link.tripletex_id not in tx:
                continue
            left = record_from_svenn(entity, sv[link.svenn_id]).synced_fields()
            right = readers[entity.value](tx[link.tripletex_id]).synced_fields()
            differ = [name for name in left if left[name] != right.get(name)]
            count += bool(differ)
            for name in differ:
                fields[name] = fields.get(name, 0) + 1
        found[entity.value] = {"pairs": len(links), "disagree": count, "fields": fields}
    return found


def print_checks(args: Any, roots: tuple[str, str], store: Any, company: int) -> None:
    """5. pairs that disagree after the busy part; 6. the largest gap across windows."""
    from sandboxes.pair import TENANT

    found = disagreeing_pairs(roots, store, TENANT, company)
    total = sum(e["disagree"] for e in found.values())
    print(
        f"\n5. linked pairs that disagree on a synced field after the busy part: {total} (target 0)"
    )
    for entity, figures in found.items():
        print(f"   {entity}: {figures['disagree']} of {figures['pairs']} {figures['fields'] or ''}")
    if not args.windows:
        return
    gap, ticks, runs = largest_gap_across_windows(
        store,
        TENANT,
        window=args.window_seconds,
        overlap=args.overlap,
        poll=args.poll,
        windows=args.windows,
    )
    print(
        f"\n6. {args.windows} windows of {args.window_seconds:.0f} s (+{args.overlap:.0f} s "
        f"overlap) on a real Prefect server and worker, poll {args.poll} s: largest gap between "
        f"two ticks {gap:.2f} s (target ≤ {2 * args.poll:.1f} s); {ticks} ticks, {runs} runs"
    )
