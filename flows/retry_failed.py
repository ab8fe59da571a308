"""Retry failed records: read both sides again, re-apply the rules, sync what now can.

A person asks for it (``svenn-sync failures retry``, or a run from the UI) for one tenant, a
reason, an entity or one row; the scheduled deployment retries rows the other system did not
answer (TARGET_UNAVAILABLE) for every active tenant, with backoff. A record that syncs has its
row resolved (by whom, when); one still refused stays open with the new reason, attempts + 1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from store.integrations import list_integrations, turned_off
from store.models import IntegrationStatus
from store.state import StateStore
from sync.records import SYNC_ORDER, System
from tasks.apply import Applier
from tasks.extract import check_extracts, extract_both_sides, unwalked
from tasks.planning import all_decisions
from tasks.report import Progress, tenant_run_name
from tasks.retry import Backoff, choose_rows, claim_tenant, keys_by_entity, settle
from tasks.sync_steps import release_initial_sync, step_one, step_three, step_two
from tasks.tenant import one_api_client, run_setup, tenant_clients


async def retry_tenant(
    store: StateStore, tenant: str, rows: list[Any], by: str, run_id: str
) -> dict[str, int]:
    """The runbook for one tenant: read both sides, plan, write the chosen records, settle."""
    logger = get_run_logger()
    since = dt.datetime.now(dt.UTC)
    applier = Applier(store, tenant, run_id, actor=by, resend_unchanged=True)
    only = keys_by_entity(rows)
    with one_api_client():
        async with tenant_clients(tenant) as (tripletex, svenn):
            extracts = await extract_both_sides(tripletex, svenn)
            excluded = check_extracts(unwalked(extracts), all_decisions(store, tenant))
            progress = await Progress.start(tenant, len(rows), "retry-failed")
            plans, _ = await step_one(applier, svenn, extracts, excluded, progress, only=only)
            await step_two(applier, tripletex, svenn, extracts, plans, progress)
            await step_three(applier, tripletex, svenn, extracts)
        read = {
            entity: {system.value: extracts.side(system)[entity] for system in System}
            for entity in SYNC_ORDER
        }
        outcome = settle(store, tenant, rows, unwalked(read), by=by, since=since)
    await progress.finish(f"{outcome['resolved']} resolved, {outcome['still_open']} still open")
    logger.info(
        "retry of %s: %d rows, %d resolved, %d still open",
        tenant,
        outcome["retried"],
        outcome["resolved"],
        outcome["still_open"],
    )
    return outcome


@flow(name="retry-failed", flow_run_name=tenant_run_name("retry-failed"))
async def retry_failed(
    tenant: str | None = None,
    reason: str | None = None,
    entity: str | None = None,
    failure_id: int | None = None,
    failure_ids: list[int] | None = None,
    retried_by: str = "retry-failed",
    respect_backoff: bool = False,
    first_wait_minutes: float = 5.0,
    longest_wait_minutes: float = 360.0,
) -> dict[str, Any]:
    """Retry the open failed records of one tenant (or of every active tenant)."""
    logger = get_run_logger()
    setup = run_setup()
    settings, store, run_id = setup.settings, setup.store, setup.run_id
    backoff = (
        Backoff(
            dt.timedelta(minutes=first_wait_minutes), dt.timedelta(minutes=longest_wait_minutes)
        )
        if respect_backoff
        else None
    )
    if tenant is None:
        with store.sessions() as session:
            tenants = [
                i.tenant
                for i in list_integrations(session)
                if i.status == IntegrationStatus.ACTIVE.value
            ]
    else:
        with store.sessions() as session:
            if turned_off(session, tenant):  # asked for by name: say why nothing is retried
                return Failed(message=f"{tenant} is turned off: nothing is retried")  # type: ignore[return-value]
        tenants = [tenant]
    results: dict[str, Any] = {}
    for name in tenants:
        rows = choose_rows(
            store,
            name,
            reason=reason,
            entity=entity,
            failure_id=failure_id,
            backoff=backoff,
            failure_ids=failure_ids,
        )
        if not rows:
            results[name] = {"retried": 0, "resolved": 0, "still_open": 0}
            continue
        refusal = claim_tenant(store, name, run_id, settings.sync_lease_seconds)
        if refusal is not None:
            if tenant is not None:  # asked for this tenant: say why not, in one sentence
                return Failed(message=refusal)  # type: ignore[return-value]
            logger.warning("retry of %s skipped: %s", name, refusal)
            continue
        try:
            results[name] = await retry_tenant(store, name, rows, retried_by, run_id)
        finally:
            release_initial_sync(store, name, run_id)
    return results
