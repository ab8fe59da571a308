"""Realtime sync: every active tenant, every few seconds, both ways, for one window.

One flow run covers one *window* (default 5 minutes) and ticks every ``poll_seconds`` inside it;
the deployment's schedule starts the next window as this one ends. A tick serves every active
tenant of the shard concurrently (bounded); one tenant's failure is recorded on its integration
(``last_error``) and never stops the others. Each tenant is ticked under the store's
``realtime`` lease, never while its initial sync holds its lease, and only while it is active:
disabling an integration stops its ticks from the next tick on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Mapping
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from config.settings import load_settings
from store.integrations import get_integration
from store.leases import live_lease, release_lease, try_acquire_lease
from store.models import IntegrationStatus
from store.realtime import mark_tick
from store.state import StateStore
from tasks.fleet import active_tenants, run_for_tenants
from tasks.realtime_report import RunTotals, publish_realtime_summary, safe_error
from tasks.realtime_tick import TenantTick, TickReport, tick_time
from tasks.tenant import state_store, tenant_clients

REALTIME = "realtime"
INITIAL_SYNC = "initial-sync"


async def tick_tenant(
    store: StateStore, tenant: str, run_id: str, lease_seconds: float
) -> TickReport | None:
    """One tick of one tenant under its realtime lease; ``None`` when it is not its turn."""
    with store.sessions.begin() as session:
        integration = get_integration(session, tenant)
        if integration is None or integration.status != IntegrationStatus.ACTIVE.value:
            return None  # disabled (or anything but active) since the tenant list was read
        if live_lease(session, tenant, INITIAL_SYNC) is not None:
            return None
        ttl = dt.timedelta(seconds=lease_seconds)
        if not try_acquire_lease(session, tenant, REALTIME, run_id, ttl=ttl):
            return None
    try:
        async with tenant_clients(tenant) as (tx, sv):
            report = await TenantTick(store, tenant, tx, sv, run_id).run()
    except Exception as error:
        with store.sessions.begin() as session:
            mark_tick(session, tenant, ok=False, error=safe_error(error), at=tick_time())
        raise
    finally:
        with store.sessions.begin() as session:
            release_lease(session, tenant, REALTIME, run_id)
    with store.sessions.begin() as session:
        mark_tick(session, tenant, ok=True, at=tick_time())
    return report


async def tick_all(
    store: StateStore,
    run_id: str,
    *,
    shard: int,
    shards: int,
    concurrency: int,
    lease_seconds: float,
) -> Mapping[str, Any]:
    """One tick of every active tenant of the shard, concurrently (bounded)."""
    tenants = active_tenants(store, shard=shard, shards=shards)
    return await run_for_tenants(
        tenants,
        lambda tenant: tick_tenant(store, tenant, run_id, lease_seconds),
        concurrency=concurrency,
    )


@flow(name="realtime-sync", retries=0)
async def realtime_sync(
    window_seconds: float = 300.0,
    poll_seconds: float | None = None,
    concurrency: int = 50,
    shard: int = 0,
    shards: int = 1,
    max_ticks: int | None = None,
) -> dict[str, Any]:
    """Tick every active tenant of shard ``shard`` of ``shards`` every ``poll_seconds``
    (default: SVENN_SYNC_REALTIME_POLL_SECONDS) until ``window_seconds`` have passed (or
    ``max_ticks`` ticks), then publish what moved."""
    logger = get_run_logger()
    settings = load_settings()
    store = state_store(settings)
    run_id = flow_run.get_id() or f"local-{uuid.uuid4()}"
    poll = poll_seconds or settings.realtime_poll_seconds
    lease = max(60.0, 3 * poll)
    totals = RunTotals()
    deadline = time.monotonic() + window_seconds
    while True:
        started = time.monotonic()
        outcomes = await tick_all(
            store, run_id, shard=shard, shards=shards, concurrency=concurrency, lease_seconds=lease
        )
        totals.add_tick(outcomes, time.monotonic() - started)
        if totals.last_tick_writes or totals.last_tick_failed:
            logger.info("tick %d: %s", totals.ticks, totals.last_tick_line())
        if max_ticks is not None and totals.ticks >= max_ticks:
            break
        next_tick = started + poll
        if next_tick >= deadline:
            break
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
    await publish_realtime_summary(totals)
    return totals.summary()


if __name__ == "__main__":  # `python -m flows.realtime_sync [MAX_TICKS]` (the crash tests use it)
    import sys

    ticks = int(sys.argv[1]) if len(sys.argv) > 1 else None
    asyncio.run(realtime_sync(max_ticks=ticks, poll_seconds=0.2))
