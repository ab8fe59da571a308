"""Nightly reconciliation: read both sides in full, compare with the links, repair, report.

The realtime path can miss a change: an event lost, the answer to a create lost, an edit made
while the integration was disabled. Once a night this flow reads every customer, employee and
project on both sides (paged, the same minimum-request extract the initial sync uses), merges
each linked pair that changed since the sides last agreed with the realtime sync's own rules,
links or creates what no link covers with the initial sync's own plan, and publishes the drift
per tenant and entity. Over consistent data it writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed, State

from store.integrations import (
    TransitionError,
    get_integration,
    require_approved,
    transition,
)
from store.leases import REALTIME, RECONCILE, LeaseHeldError, acquire_lease, release_lease
from store.links import tripletex_to_svenn
from store.models import IntegrationStatus
from store.state import StateStore
from sync.records import SYNC_ORDER
from tasks.extract import check_extracts, extract_both_sides, unwalked
from tasks.fleet import active_tenants, describe_error, run_for_tenants
from tasks.planning import all_decisions
from tasks.push import push_for_active
from tasks.reconcile import (
    DriftReport,
    ReconcileApplier,
    align_linked,
    compare_tenant,
    publish_drift,
    repair_linked,
    report_unlinked,
)
from tasks.report import Progress, tenant_run_name
from tasks.sync_steps import step_one, step_two
from tasks.tenant import one_api_client, run_setup, tenant_clients

# The realtime lease is held too while a tenant is reconciled, so its ticks skip the tenant
# instead of racing the repairs. A killed reconciliation frees both after this long.
LEASE_TTL = dt.timedelta(minutes=30)
LEASE_WAIT = dt.timedelta(minutes=2)


@asynccontextmanager
async def tenant_leases(store: StateStore, tenant: str, holder: str) -> AsyncIterator[None]:
    """Hold the tenant's reconcile and realtime leases while the block runs (waiting up to
    ``LEASE_WAIT`` for a realtime tick in progress to let go; a tick takes seconds)."""
    deadline = time.monotonic() + LEASE_WAIT.total_seconds()
    while True:
        try:
            with store.sessions.begin() as session:  # both or neither
                for purpose in (RECONCILE, REALTIME):
                    acquire_lease(session, tenant, purpose, holder, ttl=LEASE_TTL)
            break
        except LeaseHeldError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)
    try:
        yield
    finally:
        with store.sessions.begin() as session:
            for purpose in (RECONCILE, REALTIME):
                release_lease(session, tenant, purpose, holder)


@flow(name="reconcile", flow_run_name=tenant_run_name("reconcile"))
async def reconcile(
    tenant: str | None = None, shard: int = 0, shards: int = 1, concurrency: int = 2
) -> dict[str, dict[str, Any]]:
    """Reconcile one tenant, or every active tenant of shard ``shard`` of ``shards``."""
    logger = get_run_logger()
    setup = run_setup()
    store, run_id = setup.store, setup.run_id
    tenants = [tenant] if tenant else active_tenants(store, shard=shard, shards=shards)
    logger.info("reconciling %d tenant(s): %s", len(tenants), ", ".join(tenants) or "none")

    async def one(name: str) -> DriftReport:
        with store.sessions() as session:
            require_approved(session, name)  # a tenant turned off is not read (its keys are gone)
        async with tenant_leases(store, name, f"reconcile:{run_id}"):
            return await reconcile_tenant(store, name, run_id)

    outcomes = await run_for_tenants(tenants, one, concurrency=concurrency)
    results: dict[str, dict[str, Any]] = {}
    for name, outcome in outcomes.items():
        if outcome.value is not None:
            report = outcome.value
            results[name] = {"drifted": len(report.rows), "repaired": report.repaired}
            logger.info("%s: %d drifted, %d repaired", name, len(report.rows), report.repaired)
        else:
            results[name] = {"error": outcome.error}
            logger.error("%s: reconciliation failed: %s", name, outcome.error)
    return results


@flow(name="turn-on-again", flow_run_name=tenant_run_name("turn-on-again"))
async def turn_on_again(tenant: str) -> str | State:
    """A tenant turned on again (``syncing``, no new review): reconcile what changed on both
    sides while it was off, with the realtime merge rules, then make it active; failed, with
    the one-sentence reason, if the reconciliation could not finish."""
    logger = get_run_logger()
    setup = run_setup()
    store, run_id = setup.store, setup.run_id
    try:
        with store.sessions() as session:
            require_approved(session, tenant)
        async with tenant_leases(store, tenant, f"turn-on:{run_id}"):
            report = await reconcile_tenant(store, tenant, run_id)
    except Exception as error:  # the tenant reads why; ops see the run failed
        reason = f"turning {tenant} on again stopped while reconciling: {describe_error(error)}"
        logger.error(reason)
        with store.sessions.begin() as session:
            _settle(session, tenant, IntegrationStatus.FAILED, reason, run_id)
        return Failed(message=reason)
    reason = f"reconciled after being off: {len(report.rows)} drifted, {report.repaired} repaired"
    with store.sessions.begin() as session:
        status = _settle(session, tenant, IntegrationStatus.ACTIVE, reason, run_id)
    logger.info("%s is %s (%s)", tenant, status, reason)
    if status == IntegrationStatus.ACTIVE.value:  # subscribed again (the secret is kept)
        push = await push_for_active(setup.settings, store, tenant)
        logger.info("%s: %s", tenant, push.note)
    return status


def _settle(session: Any, tenant: str, to: IntegrationStatus, reason: str, run_id: str) -> str:
    try:
        return transition(
            session, tenant, to, actor="turn-on-again", reason=reason, flow_run_id=run_id
        ).status
    except TransitionError:  # turned off again meanwhile: that stands
        integration = get_integration(session, tenant)
        return integration.status if integration else IntegrationStatus.OFF.value


async def reconcile_tenant(store: StateStore, tenant: str, run_id: str) -> DriftReport:
    """The runbook for one tenant: read, compare, repair linked pairs, link/create the rest."""
    applier = ReconcileApplier(store, tenant, run_id)
    report = DriftReport(tenant)
    with one_api_client():
        async with tenant_clients(tenant) as (tripletex, svenn):
            extracts = await extract_both_sides(tripletex, svenn)
            excluded = check_extracts(unwalked(extracts), all_decisions(store, tenant))
            drifts = compare_tenant(store, tenant, unwalked(extracts))
            await repair_linked(applier, tripletex, svenn, drifts, report)
            quiet = Progress(None, 1)  # no progress artifact: the drift report says what happened
            plans, created_in_svenn = await step_one(applier, svenn, extracts, excluded, quiet)
            created_in_tripletex = await step_two(applier, tripletex, svenn, extracts, plans, quiet)
            await align_linked(
                applier, tripletex, svenn, extracts, report
            )  # pairs linked again that differ
    for entity in SYNC_ORDER:
        with store.sessions() as session:
            by_tripletex = tripletex_to_svenn(session, tenant, entity.value)
        report_unlinked(
            report,
            entity,
            [(p.tripletex_id, p.svenn_id) for p in plans[entity].links],
            created_in_svenn[entity],
            created_in_tripletex[entity],
            by_tripletex,
        )
    await publish_drift(report)
    return report
