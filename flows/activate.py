"""Activation: show the plan for a tenant whose keys are in review, wait for a person's decision.

The keys reach the store through the key intake (:mod:`intake`), never as flow parameters.
Nothing is written to Svenn or Tripletex until a person approves in the Prefect UI (the paused
run's form) or with ``svenn-sync approve``.
"""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import apause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from prefect.states import Failed, State
from pydantic import Field

from store.integrations import transition
from store.models import IntegrationStatus
from store.state import StateStore
from store.tenancy import Parties
from tasks.activation import Refusal, take_keys_from_secret_blocks
from tasks.alerts import review_requested
from tasks.approval import signs_of_life, take_review
from tasks.extract import check_extracts, extract_both_sides, unwalked
from tasks.heap import long_lived
from tasks.initial_sync import sync_approved_tenant
from tasks.planning import all_decisions, preview_plan
from tasks.report import CLI, artifact_key, plan_summary, publish_plan, tenant_run_name
from tasks.stopping import record_stop, why_no_preview
from tasks.tenant import one_api_client, run_setup, tenant_clients

APPROVAL_PAUSE_KEY = "approval"


class ApprovalDecision(RunInput):
    """The form ops fill in to approve or reject an integration."""

    decision: Literal["approve", "reject"] = Field(
        description="Approve starts the initial sync; reject turns the integration down."
    )
    approver: str = Field(min_length=1, max_length=200, description="Your name or e-mail")
    reason: str = Field(default="", max_length=2000, description="Why (required to reject)")


@task(name="record-decision", cache_policy=NO_CACHE)
def record_decision(
    store: StateStore, tenant: str, decision: ApprovalDecision, run_id: str | None
) -> str:
    """Store who decided what and why; approval or rejection leaves the review state."""
    status = (
        IntegrationStatus.APPROVED if decision.decision == "approve" else IntegrationStatus.REJECTED
    )
    with store.sessions.begin() as session:
        transition(
            session,
            tenant,
            status,
            actor=decision.approver,
            reason=decision.reason or None,
            flow_run_id=run_id,
        )
    return status.value


async def preview(store: StateStore, tenant: str, parties: Parties) -> str:
    """Build the initial-sync plan without writing, publish it, and return its summary."""
    with long_lived() as spare, one_api_client():
        async with tenant_clients(tenant) as (tripletex, svenn):
            extracts = await extract_both_sides(tripletex, svenn)
        spare()  # the records read live as long as the preview
        excluded = check_extracts(unwalked(extracts), all_decisions(store, tenant))
        plan = preview_plan(store, tenant, unwalked(extracts), unwalked(excluded))
    await publish_plan(tenant, plan, extracts.counts(), parties=parties.describe())
    return plan_summary(tenant, plan)


async def refused(tenant: str, refusal: Refusal) -> State:
    """Log and show why the activation was refused, and end the run failed."""
    # An answer to the tenant, not a fault of ours: the run ends Failed with this sentence.
    get_run_logger().warning("activation of %s refused (%s)", tenant, refusal)
    await acreate_markdown_artifact(
        f"# Activation of `{tenant}` refused\n\n**{refusal.code}**: {refusal.message}",
        key=artifact_key("activation", tenant),
    )
    return Failed(message=str(refusal))


async def wait_for_decision(
    parties: Parties, summary: str, timeout_seconds: int, poll_seconds: int
) -> ApprovalDecision | None:
    """Pause for the approver's form; ``None`` when nobody answered in time."""
    # The form shows both accounts and the plan beside the decision fields.
    form = ApprovalDecision.with_initial_data(description=f"{parties.describe()}\n\n{summary}")
    try:
        decision: ApprovalDecision = await apause_flow_run(
            wait_for_input=form,
            timeout=timeout_seconds,
            poll_interval=poll_seconds,
            key=APPROVAL_PAUSE_KEY,
        )
    except FlowPauseTimeout:
        return None
    return decision


@flow(name="activate-integration", flow_run_name=tenant_run_name("activate"))
async def activate(
    tenant: str,
    tripletex_token_block: str | None = None,
    svenn_key_block: str | None = None,
    approval_timeout_seconds: int | None = None,  # 0: do not wait; None: the setting
    approval_poll_seconds: int = 10,
) -> str | State:
    """Keys in review → plan preview → wait for approval → initial sync.

    The keys are never parameters: the key intake (``svenn-sync activate`` or the HTTP intake)
    stores them encrypted before this run starts, or the run reads them from the two Prefect
    Secret blocks *named* by ``tripletex_token_block`` and ``svenn_key_block``. While it
    prepares the plan and waits, the run shows signs of life in the store, so that
    ``svenn-sync approve`` can tell a waiting run from one whose process died.
    """
    logger = get_run_logger()
    setup = run_setup()
    settings, store, run_id = setup.settings, setup.store, setup.run_id
    if tripletex_token_block or svenn_key_block:
        if not (tripletex_token_block and svenn_key_block):
            return await refused(tenant, Refusal("NO_KEYS", "Name both Secret blocks, or neither."))
        taken = await take_keys_from_secret_blocks(
            settings, tenant, tripletex_token_block, svenn_key_block
        )
        if isinstance(taken, Refusal):
            return await refused(tenant, taken)
    parties = take_review(store, tenant, run_id, settings.activation_heartbeat_seconds)
    if isinstance(parties, Refusal):
        return await refused(tenant, parties)
    logger.info("%s is in review: %s", tenant, parties.describe())
    with signs_of_life(store, tenant, run_id, settings.activation_heartbeat_seconds):
        try:
            summary = await preview(store, tenant, parties)
        except Exception as error:  # no plan to show: leave review, never invite a blind yes
            reason = why_no_preview(error)
            status = record_stop(store, tenant, reason, run_id)
            logger.error("activation of %s stopped, %s: %s", tenant, status, reason)
            return Failed(message=reason)
        review_requested(store, tenant, parties, run_id, flow_run.get_flow_run_ui_url())
        if approval_timeout_seconds == 0:  # do not wait: approve later in the UI or the CLI
            logger.info("%s stays in review until `%s approve %s --by NAME`", tenant, CLI, tenant)
            return IntegrationStatus.REVIEW.value
        decision = await wait_for_decision(
            parties,
            summary,
            approval_timeout_seconds or settings.approval_timeout_seconds,
            approval_poll_seconds,
        )
    if decision is None:
        logger.warning(
            "no decision for %s in time: it stays in review; approve later with "
            "`%s approve %s --by NAME`",
            tenant,
            CLI,
            tenant,
        )
        return IntegrationStatus.REVIEW.value
    status = record_decision(store, tenant, decision, run_id)
    logger.info("%s %s by %s", tenant, status, decision.approver)
    if status != IntegrationStatus.APPROVED.value:
        return status
    synced = await sync_approved_tenant(tenant)
    if isinstance(synced, State):
        return synced  # the sync's own one-sentence reason (it is also the integration's)
    return str(synced["status"])
