"""Activation: validate the pasted key, go to review, show the plan, wait for a person's decision.

Nothing is stored until the keys are validated; nothing is written to Svenn or Tripletex until a
person approves in the Prefect UI (the paused run's form) or with ``svenn-sync approve``.
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
from pydantic import Field, SecretStr

from config.settings import load_settings
from flows.initial_sync import initial_sync
from store.integrations import transition
from store.models import IntegrationStatus
from store.state import StateStore
from tasks.activation import Refusal, ValidatedAccess, request_review, validate_credentials
from tasks.extract import check_extracts, extract_both_sides
from tasks.planning import preview_plan
from tasks.report import CLI, artifact_key, plan_summary, publish_plan, tenant_run_name
from tasks.tenant import state_store, tenant_clients

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


async def preview(store: StateStore, tenant: str) -> str:
    """Build the initial-sync plan without writing, publish it, and return its summary."""
    async with tenant_clients(tenant) as (tx, sv):
        extracts = await extract_both_sides(tx, sv)
    excluded = check_extracts(extracts)
    plan = preview_plan(store, tenant, extracts, excluded)
    await publish_plan(tenant, plan, extracts.counts())
    return plan_summary(tenant, plan)


@flow(name="activate-integration", flow_run_name=tenant_run_name("activate"))
async def activate(
    tenant: str,
    tripletex_employee_token: SecretStr,
    svenn_api_key: SecretStr,
    approval_timeout_seconds: int | None = None,  # 0: do not wait; None: the setting
    approval_poll_seconds: int = 10,
) -> str | State:
    """Validate → review → plan preview → wait for approval → initial sync."""
    logger = get_run_logger()
    settings = load_settings()
    store = state_store(settings)
    run_id = flow_run.get_id()
    access = await validate_credentials(settings, tripletex_employee_token, svenn_api_key)
    refusal = (
        access
        if isinstance(access, Refusal)
        else request_review(
            settings, tenant, tripletex_employee_token, svenn_api_key, access, run_id
        )
    )
    if refusal is not None:
        # An answer to the tenant, not a fault of ours: the run ends Failed with this sentence.
        logger.warning("activation of %s refused (%s): %s", tenant, refusal.code, refusal.message)
        await acreate_markdown_artifact(
            f"# Activation of `{tenant}` refused\n\n**{refusal.code}**: {refusal.message}",
            key=artifact_key("activation", tenant),
        )
        return Failed(message=f"{refusal.code}: {refusal.message}")
    assert isinstance(access, ValidatedAccess)
    logger.info("%s is in review (Tripletex company %s)", tenant, access.company_id)
    summary = await preview(store, tenant)
    if approval_timeout_seconds == 0:  # do not wait: approve later in the UI or with the CLI
        logger.info("%s stays in review until `%s approve %s --by NAME`", tenant, CLI, tenant)
        return IntegrationStatus.REVIEW.value
    try:
        decision = await apause_flow_run(
            # The form shows the tenant and the plan beside the decision fields.
            wait_for_input=ApprovalDecision.with_initial_data(description=summary),
            timeout=approval_timeout_seconds or settings.approval_timeout_seconds,
            poll_interval=approval_poll_seconds,
            key=APPROVAL_PAUSE_KEY,
        )
    except FlowPauseTimeout:
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
    result = await initial_sync(tenant)
    return str(result["status"])
