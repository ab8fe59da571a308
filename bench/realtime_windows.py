"""The realtime bench's checks beyond latency: ticks across windows on a real Prefect server,
and linked pairs that still disagree after the busy part."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from typing import Any

DEPLOYMENT = "realtime-sync/realtime-sync"


def tick_times(store: Any, tenant: str, *, until: Any, poll: float) -> list[dt.datetime]:
    """The tenant's tick completions (``realtime_ok_at`` as it moves), sampled until ``until()``,
    from the first tick after sampling began (the server's first window)."""
    from store.integrations import get_integration

    seen: list[dt.datetime] = []
    before: dt.datetime | None = None  # the last tick before the windows: not one of theirs
    while not until():
        with store.sessions() as session:
            integration = get_integration(session, tenant)
            at = integration.realtime_ok_at if integration else None
        if before is None:
            before = at or dt.datetime.min
        if at is not None and at != before and (not seen or at != seen[-1]):
            seen.append(at)
        time.sleep(min(0.1, poll / 10))
    return seen


def largest_gap_across_windows(
    store: Any, tenant: str, *, window: float, wait_for_next: float, poll: float, windows: int = 3
) -> tuple[float, int, int]:
    """Run ``realtime-sync`` on a real server + worker with a ``window``-second schedule and
    ``window``-second runs that hand over to the next (ticking on up to ``wait_for_next`` s until it
    ticks); (largest gap between two ticks, ticks, runs seen)."""
    from tests.server.harness import PrefectServer

    with PrefectServer.start(scheduler_loop_seconds=1.0) as server:
        server.deploy()
        with server.worker({}):
            params = {
                "window_seconds": window,
                "wait_for_next_seconds": wait_for_next,
                "poll_seconds": poll,
            }
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


async def disagreeing_pairs(store: Any, tenant: str) -> dict[str, Any]:
    """Per entity: linked pairs whose two sides differ in a synced field, read as the sync reads
    them (the connectors) and compared as the merge compares them (normalised)."""
    from store.links import links_for
    from sync.merge import same_value
    from sync.records import SYNC_ORDER
    from tasks.tenant import tenant_clients

    found: dict[str, Any] = {}
    async with tenant_clients(tenant) as (tx, sv):
        for entity in SYNC_ORDER:
            name = entity.value
            tx_list = await tx.list(entity)
            sv_list = await sv.list(entity)
            tx_by_id = {str(r.id): r for r in tx_list}
            sv_by_id = {str(r.id): r for r in sv_list}
            with store.sessions() as session:
                links = links_for(session, tenant, name)
            fields: dict[str, int] = {}
            count = 0
            for link in links:
                if link.svenn_id not in sv_by_id or link.tripletex_id not in tx_by_id:
                    continue
                left = sv_by_id[link.svenn_id].synced_fields()
                right = tx_by_id[link.tripletex_id].synced_fields()
                differ = [n for n in left if not same_value(n, left[n], right.get(n))]
                count += bool(differ)
                for field_name in differ:
                    fields[field_name] = fields.get(field_name, 0) + 1
            found[name] = {"pairs": len(links), "disagree": count, "fields": fields}
    return found


def print_checks(args: Any, roots: tuple[str, str], store: Any, company: int) -> None:
    """5. pairs that disagree after the busy part; 6. the largest gap across windows."""
    from sandboxes.pair import TENANT

    found = asyncio.run(disagreeing_pairs(store, TENANT))
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
        wait_for_next=args.wait_for_next,
        poll=args.poll,
        windows=args.windows,
    )
    print(
        f"\n6. {args.windows} windows of {args.window_seconds:.0f} s (handing over, up to "
        f"{args.wait_for_next:.0f} s on) on a real Prefect server and worker, poll {args.poll} s: "
        "largest gap between "
        f"two ticks {gap:.2f} s (target ≤ {2 * args.poll:.1f} s); {ticks} ticks, {runs} runs"
    )
