"""The initial sync of one approved tenant: the gate, the two steps, validation, then active.

Step 1 (Tripletex → Svenn) links matches and creates Tripletex-only records in Svenn; step 2
(Svenn → Tripletex) creates the Svenn-only records in Tripletex. The run refuses to start for a
tenant no person approved, and can be rerun after a crash at any point. The initial-sync flow
runs :func:`sync_approved_tenant`, and so does the activation once a person approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from connectors.errors import ApiError
from store.failures import open_failure_columns
from store.integrations import (
    NotApprovedError,
    SyncInProgressError,
    claim_sync,
    transition,
)
from store.models import IntegrationStatus
from store.state import StateStore
from sync.records import SYNC_ORDER
from tasks.apply import Applier
from tasks.extract import check_extracts, extract_both_sides, unwalked
from tasks.heap import long_lived
from tasks.planning import all_decisions
from tasks.push import push_for_active
from tasks.report import Progress, failure_row, publish_summary
from tasks.stopping import record_stop, why_stopped
from tasks.sync_steps import release_initial_sync, step_one, step_three, step_two
from tasks.tenant import one_api_client, run_setup, tenant_clients
from tasks.verify import verify_after_sync


async def sync_approved_tenant(tenant: str) -> dict[str, Any] | State:
    """The initial sync's runbook, run by the initial-sync flow and by the activation once
    approved: the gate, the two-step sync, validation, then active. Returns the summary, or a
    failed state whose message says in one sentence why the run refused or stopped."""
    setup = run_setup()
    settings, store, run_id = setup.settings, setup.store, setup.run_id
    with one_api_client():  # its sync task runs share one Prefect client
        refusal = start_initial_sync(store, tenant, run_id, settings.sync_lease_seconds)
        if refusal is not None:  # a refusal is an answer, not a crash: one sentence, no traceback
            get_run_logger().warning("initial sync of %s refused: %s", tenant, refusal)
            return Failed(message=refusal)
        try:
            result = await sync_tenant(store, tenant, run_id)
        except Exception as error:  # a run that gives up says why, and leaves a state to act on
            reason = why_stopped(error)
            status = record_stop(store, tenant, reason, run_id)
            get_run_logger().error("initial sync of %s stopped, %s: %s", tenant, status, reason)
            if isinstance(error, ApiError | NotApprovedError):
                # An answer, not a crash: the run ends Failed with this one sentence, no traceback
                # (Prefect makes a returned state the run's state; a direct caller gets it raised).
                return Failed(message=reason)
            raise
        finally:
            release_initial_sync(store, tenant, run_id)
        if result["status"] == IntegrationStatus.ACTIVE.value:  # Tripletex tells us what changes
            push = await push_for_active(settings, store, tenant)
            get_run_logger().info("%s: %s", tenant, push.note)
        return result


@task(name="start-initial-sync", cache_policy=NO_CACHE)
def start_initial_sync(
    store: StateStore, tenant: str, run_id: str, lease_seconds: float
) -> str | None:
    """The gate: only an approved tenant syncs, one run at a time. A run that died mid-way
    resumes from syncing once its lease has run out. Returns why the run may not start (one
    sentence, with the time to wait when another run holds the tenant), or ``None``."""
    try:
        with store.sessions.begin() as session:
            lease = dt.timedelta(seconds=lease_seconds)
            integration = claim_sync(session, tenant, run_id, lease=lease)
            if integration.status != IntegrationStatus.SYNCING.value:
                transition(session, tenant, IntegrationStatus.SYNCING, flow_run_id=run_id)
    except (NotApprovedError, SyncInProgressError) as refusal:  # an answer, not a crash
        return str(refusal)
    return None


@task(name="finish-initial-sync", cache_policy=NO_CACHE)
def finish_initial_sync(store: StateStore, tenant: str, ok: bool, run_id: str | None) -> str:
    """Active when the checks after the sync passed, failed (with the reason) otherwise."""
    status = IntegrationStatus.ACTIVE if ok else IntegrationStatus.FAILED
    reason = None if ok else "validation after the initial sync found problems (see artifacts)"
    with store.sessions.begin() as session:
        transition(session, tenant, status, reason=reason, flow_run_id=run_id)
    return status.value


_SUMMARY_COLUMNS = ("id", "entity", "svenn_id", "tripletex_id", "reason_code", "message_no")


def open_failure_rows(store: StateStore, tenant: str) -> list[dict[str, Any]]:
    """The tenant's open failed records as JSON-safe rows (for the summary artifact)."""
    with store.sessions() as session:
        return [
            failure_row(
                id=f.id,
                entity=f.entity,
                svenn_id=f.svenn_id,
                tripletex_id=f.tripletex_id,
                reason_code=f.reason_code,
                message_no=f.message_no,
            )
            for f in open_failure_columns(session, tenant, *_SUMMARY_COLUMNS)
        ]


async def sync_tenant(store: StateStore, tenant: str, run_id: str) -> dict[str, Any]:
    """The runbook: extract, check, step one, step two, verify, report."""
    logger = get_run_logger()
    applier = Applier(store, tenant, run_id)
    with long_lived() as spare:
        async with tenant_clients(tenant) as (tripletex, svenn):
            extracts = await extract_both_sides(tripletex, svenn)
            spare()  # the records read live as long as the run
            logger.info("read %s", extracts.counts())
            excluded = check_extracts(unwalked(extracts), all_decisions(store, tenant))
            progress = await Progress.start(tenant, extracts.total())
            applier.on_progress = progress.advance
            plans, created_in_svenn = await step_one(applier, svenn, extracts, excluded, progress)
            spare()  # and so do its plans and the records it created
            created_in_tripletex = await step_two(
                applier, tripletex, svenn, extracts, plans, progress
            )
            spare()
            await step_three(applier, tripletex, svenn, extracts)
        verification = verify_after_sync(
            store,
            tenant,
            unwalked({e: extracts.tripletex[e] + created_in_tripletex[e] for e in SYNC_ORDER}),
            unwalked({e: extracts.svenn[e] + created_in_svenn[e] for e in SYNC_ORDER}),
        )
        applier.fail(verification.failures)
        status = finish_initial_sync(store, tenant, verification.ok, run_id)
        await progress.finish()
        rows = [{"entity": e.value, **vars(applier.tally(e))} for e in SYNC_ORDER]
        failures = open_failure_rows(store, tenant)
        await publish_summary(tenant, rows, failures, "\n\n".join(verification.markdown), status)
    logger.info("initial sync of %s: %s, %d open failed records", tenant, status, len(failures))
    return {"status": status, "entities": rows, "open_failures": len(failures)}
