"""The CLI's integration commands: activate, approve, reject, initial-sync."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from pydantic import SecretStr

from store.integrations import get_integration, history
from store.models import IntegrationStatus
from store.state import StateStore


class DecisionError(RuntimeError):
    """The decision cannot be applied (wrong state, no such tenant)."""


def activate_tenant(
    tenant: str, token: SecretStr, svenn_key: SecretStr, approval_timeout: int
) -> tuple[bool, str]:
    """Run the activation flow in this process: (accepted, status or the refusal)."""
    from flows.activate import activate

    async def run() -> Any:
        return await activate(
            tenant,
            token,
            svenn_key,
            approval_timeout_seconds=max(approval_timeout, 0),
            approval_poll_seconds=1,
            return_state=True,
        )

    state = asyncio.run(run())
    if not state.is_completed():
        return False, str(state.message)
    return True, str(state.result())


def pending_activation_run(store: StateStore, tenant: str) -> str | None:
    """The activation flow run that put the tenant into review, if any."""
    with store.sessions() as session:
        for event in reversed(history(session, tenant)):
            if event.to_status == IntegrationStatus.REVIEW.value:
                return event.flow_run_id
    return None


def _paused(run_id: str) -> bool:
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(run_id))
    except Exception:  # no server holds that run (e.g. it ran in an ephemeral server)
        return False
    return bool(run.state and run.state.is_paused())


def decide(store: StateStore, tenant: str, decision: str, approver: str, reason: str) -> str:
    """Approve or reject: answer the paused activation run, or decide directly if none waits."""
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        if integration is None:
            raise DecisionError(f"no integration for tenant {tenant!r}; activate it first")
        if integration.status != IntegrationStatus.REVIEW.value:
            raise DecisionError(
                f"{tenant} is {integration.status}, not in review: there is nothing to {decision}"
            )
    form = {"decision": decision, "approver": approver, "reason": reason}
    run_id = pending_activation_run(store, tenant)
    if run_id and _paused(run_id):
        from prefect.flow_runs import resume_flow_run

        resume_flow_run(UUID(run_id), run_input=form)
        return f"answered the paused activation run {run_id}; it continues there"
    from flows.activate import ApprovalDecision, record_decision
    from flows.initial_sync import initial_sync

    status = record_decision.fn(store, tenant, ApprovalDecision(**form), None)  # type: ignore[arg-type]
    if status != IntegrationStatus.APPROVED.value:
        return f"{tenant} is {status}"
    result = asyncio.run(initial_sync(tenant))
    return f"{tenant} approved by {approver}; initial sync finished: {result['status']}"
