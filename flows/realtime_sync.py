"""Realtime sync: every active tenant, every few seconds, both ways, for one window.

One flow run covers one *window* and ticks every ``poll_seconds`` inside it. Windows hand over
without a gap: a window holds its shard's baton (a row in the store) at every tick and ticks on
past its end until a window due later takes the baton at its first tick; then it stops at once,
so no tick waits for a run to start, and after a pile-up of late windows one of them ticks (a
late window finding a later one live ends without a tick; the one it found ticks on until the
next takes over). A
tick serves every active tenant of the shard concurrently (bounded); one tenant's failure is
recorded on its integration (``last_error``) and never stops the others. Each tenant is ticked
under the store's ``realtime`` lease, never while its initial sync holds its lease, and only
while it is active: disabling an integration stops its ticks from the next tick on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from connectors.errors import AuthenticationError, PermissionDeniedError
from store.leases import (
    INITIAL_SYNC,
    REALTIME,
    acquire_leases,
    hold_baton,
    live_leases,
    release_leases,
)
from store.realtime import TickState, mark_tick, mark_ticks_ok, tick_states
from store.state import StateStore
from sync.push_schedule import TickPlan
from sync.records import SYNC_ORDER
from tasks.alerts import key_stopped_working
from tasks.fleet import TenantOutcome, active_tenants, run_for_tenants, window_baton
from tasks.push_wake import WAKE_SECONDS, PushClock
from tasks.realtime_report import RunTotals, publish_realtime_summary, safe_error
from tasks.realtime_tick import TenantTick, TickReport, tick_time
from tasks.report import tenant_run_name
from tasks.tenant import ClientPool, run_setup


async def tick_tenant(
    store: StateStore,
    pool: ClientPool,
    tenant: str,
    run_id: str,
    state: TickState | None = None,
    plan: TickPlan | None = None,
) -> TickReport:
    """One tick of one tenant (the caller holds its realtime lease; ``state``: its cursors,
    read already for the whole fleet; ``plan``: what push and poll say to read)."""
    try:
        tripletex, svenn = await pool.get(tenant)
        return await TenantTick(
            store, tenant, tripletex, svenn, run_id, state=state, plan=plan
        ).run()
    except Exception as error:
        with store.sessions.begin() as session:
            mark_tick(session, tenant, ok=False, error=safe_error(error), at=tick_time())
        if isinstance(error, AuthenticationError | PermissionDeniedError):
            await pool.drop(tenant)  # a new key after re-activation gets new clients
            key_stopped_working(store, tenant, safe_error(error), run_id)
        raise


def claim_tenants_to_tick(
    store: StateStore,
    tenants: list[str],
    run_id: str,
    lease: dt.timedelta,
    initial_sync_lease: dt.timedelta,
) -> list[str]:
    """The tenants this run ticks now: active, initial sync not running, lease taken (one
    transaction for all of them)."""
    with store.sessions.begin() as session:
        syncing = live_leases(session, INITIAL_SYNC, ttl=initial_sync_lease)
        free = [tenant for tenant in tenants if tenant not in syncing]
        return acquire_leases(session, free, REALTIME, run_id, ttl=lease)


async def tick_all(
    store: StateStore,
    pool: ClientPool,
    run_id: str,
    *,
    shard: int,
    shards: int,
    concurrency: int,
    lease: dt.timedelta,
    initial_sync_lease: dt.timedelta,
    clock: PushClock | None = None,
    woken: list[str] | None = None,
) -> dict[str, TenantOutcome[TickReport]]:
    """One tick of every active tenant of the shard (or only the ``woken`` ones, between
    regular ticks), concurrently (bounded). Tenants whose initial sync is running, or that
    another run is ticking, sit it out. Disabling a tenant takes effect here: the list of
    active tenants is read at the start of every tick."""
    regular = woken is None
    serving = active_tenants(store, shard=shard, shards=shards) if woken is None else woken
    tenants = claim_tenants_to_tick(store, serving, run_id, lease, initial_sync_lease)
    clock = clock or PushClock(enabled=False, fallback_seconds=0)
    now = dt.datetime.now(dt.UTC)
    try:
        plans = clock.plans(store, tenants, regular=regular, now=now)
        with store.sessions() as session:
            states = tick_states(session, tenants, [e.value for e in SYNC_ORDER])
        outcomes = await run_for_tenants(
            tenants,
            lambda tenant: tick_tenant(store, pool, tenant, run_id, states[tenant], plans[tenant]),
            concurrency=concurrency,
        )
        clock.settle(store, outcomes, plans, regular=regular, now=now)
    finally:
        with store.sessions.begin() as session:
            release_leases(session, tenants, REALTIME, run_id)
    with store.sessions.begin() as session:
        mark_ticks_ok(session, [t for t, o in outcomes.items() if o.ok], at=tick_time())
    return outcomes


def window_over(next_tick: float, deadline: float, wait_for_next: float) -> bool:
    """Whether a window that still holds the baton stops before its next tick: only once no
    newer window came within ``wait_for_next`` seconds after its end (a schedule paused or
    removed); until then it ticks on, so the next window takes over without a gap however long
    a run takes to start."""
    return next_tick >= deadline + wait_for_next


def handover_line(newer: str, ticks: int) -> str:
    """The log line of a window that stops because a window due later holds the baton."""
    if ticks == 0:
        return f"a newer window (flow run {newer}) ticks the tenants: this late one ends unticked"
    return f"a newer window (flow run {newer}) took over after {ticks} ticks: this one ends"


def due_at() -> dt.datetime:
    """When this run was due: its scheduled start (a deployment's run), else now."""
    moment = flow_run.scheduled_start_time if flow_run.get_id() else None
    if moment is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.fromtimestamp(moment.timestamp(), dt.UTC)


@flow(name="realtime-sync", retries=0, flow_run_name=tenant_run_name("realtime-sync"))
async def realtime_sync(
    window_seconds: float = 300.0,
    poll_seconds: float | None = None,
    concurrency: int = 50,
    shard: int = 0,
    shards: int = 1,
    max_ticks: int | None = None,
    wait_for_next_seconds: float = 120.0,
) -> dict[str, Any]:
    """Tick every active tenant of shard ``shard`` of ``shards`` every ``poll_seconds``
    (default: SVENN_SYNC_REALTIME_POLL_SECONDS) for ``window_seconds`` and then on until the
    next window has ticked (at most ``wait_for_next_seconds`` longer), or ``max_ticks`` ticks;
    then publish what moved."""
    logger = get_run_logger()
    setup = run_setup()
    settings, store, run_id = setup.settings, setup.store, setup.run_id
    poll = poll_seconds or settings.realtime_poll_seconds
    lease = dt.timedelta(seconds=max(60.0, 3 * poll))
    initial_sync_lease = dt.timedelta(seconds=settings.sync_lease_seconds)
    totals = RunTotals()
    deadline = time.monotonic() + window_seconds
    pool = ClientPool(settings)
    clock = PushClock(
        enabled=settings.webhook_base_url is not None,
        fallback_seconds=settings.realtime_fallback_poll_seconds,
    )
    baton, due = window_baton(shard, shards), due_at()
    handed_over_to: str | None = None
    regular_ticks, next_tick = 0, time.monotonic()
    try:
        while True:
            started = time.monotonic()
            regular = started >= next_tick
            woken = None if regular else clock.woken(store, shard=shard, shards=shards)
            if regular:
                with store.sessions.begin() as session:
                    newer = hold_baton(session, baton, run_id, due_at=due, ttl=lease)
                if newer is not None:
                    handed_over_to = newer
                    logger.info(handover_line(newer, regular_ticks))
                    break
            if regular or woken:
                outcomes = await tick_all(
                    store,
                    pool,
                    run_id,
                    shard=shard,
                    shards=shards,
                    concurrency=concurrency,
                    lease=lease,
                    initial_sync_lease=initial_sync_lease,
                    clock=clock,
                    woken=woken,
                )
                totals.add_tick(outcomes, time.monotonic() - started)
                if totals.last_tick_writes or totals.last_tick_failed:
                    logger.info("tick %d: %s", totals.ticks, totals.last_tick_line())
            if regular:
                regular_ticks, next_tick = regular_ticks + 1, started + poll
                if max_ticks is not None and regular_ticks >= max_ticks:
                    break
                if window_over(next_tick, deadline, wait_for_next_seconds):
                    break
            wait = next_tick - time.monotonic()
            if clock.enabled:  # recorded webhook events wake their tenant within this
                wait = min(wait, WAKE_SECONDS)
            await asyncio.sleep(max(0.0, wait))
    finally:
        await pool.aclose()
    if totals.ticks:  # a late window that found a later one live has nothing to report
        await publish_realtime_summary(totals)
    return totals.summary() | {"handed_over_to": handed_over_to}


if __name__ == "__main__":  # `python -m flows.realtime_sync [MAX_TICKS]` (the crash tests use it)
    import sys

    ticks = int(sys.argv[1]) if len(sys.argv) > 1 else None
    asyncio.run(realtime_sync(max_ticks=ticks, poll_seconds=0.2))
