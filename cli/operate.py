"""The CLI's integration commands: activate, approve, reject, initial-sync."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from prefect.states import State
from pydantic import SecretStr

from store.activation_runs import MISSED_BEATS, stop_waiting, waiting_run
from store.integrations import get_integration
from store.models import IntegrationStatus
from store.state import StateStore
from tasks.activation import Refusal


class DecisionError(RuntimeError):
    """The decision cannot be applied (wrong state, no such tenant)."""


def activate_tenant(
    tenant: str, token: SecretStr, svenn_key: SecretStr, approval_timeout: int
) -> tuple[bool, str]:
    """Take the keys (validate, store encrypted), then run the activation flow in this process.

    (accepted, status or the refusal). The flow run gets the tenant only, never a key.
    """
    from intake.keys import run_in_process, take_keys

    taken = asyncio.run(take_keys(tenant, token, svenn_key))
    if isinstance(taken, Refusal):
        return False, str(taken)
    state = run_in_process(tenant, max(approval_timeout, 0), approval_poll_seconds=1)
    if not state.is_completed():
        return False, str(state.message)
    return True, str(state.result())


def pending_activation_run(store: StateStore, tenant: str) -> str | None:
    """The activation run that prepares the plan or waits for a decision, if any."""
    from config.settings import load_settings

    with store.sessions() as session:
        waiting = waiting_run(session, tenant, load_settings().activation_heartbeat_seconds)
    return waiting.run_id if waiting else None


def _paused(run_id: str) -> bool:
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(UUID(run_id))
    except Exception:  # no server holds that run (e.g. it ran in an ephemeral server)
        return False
    return bool(run.state and run.state.is_paused())


def _mark_crashed(run_id: str, message: str) -> None:
    """Tell Prefect the paused run is gone, so it does not show as waiting forever."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(UUID(run_id), Crashed(message=message), force=True)


def _answer_or_take_over(store: StateStore, tenant: str, form: dict[str, str]) -> tuple[bool, str]:
    """Answer the activation run if it is alive and paused: (answered, what happened)."""
    from config.settings import load_settings

    heartbeat = load_settings().activation_heartbeat_seconds
    with store.sessions() as session:
        waiting = waiting_run(session, tenant, heartbeat)
    if waiting is None:  # no run waits (it ended, or ran without waiting): decide here
        return False, ""
    paused = _paused(waiting.run_id)
    if waiting.alive and paused:
        from prefect.flow_runs import resume_flow_run

        try:
            resume_flow_run(UUID(waiting.run_id), run_input=form)
        except RuntimeError as refused:  # paused, but no form stored to answer (killed there)
            if _taken_up(store, tenant, waiting.run_id, heartbeat) is not None:
                raise DecisionError(
                    f"the activation run {waiting.run_id} of {tenant} is paused but Prefect "
                    f"cannot take an answer yet ({refused}); run this command again"
                ) from refused
            taken = None
        else:
            taken = _taken_up(store, tenant, waiting.run_id, heartbeat)
        if taken is not None:
            return True, taken
        # The run was paused in Prefect but its process is gone (e.g. killed while it waited):
        # the answer was accepted by the server and would be dropped; decide here instead.
        paused = True
    elif waiting.alive:
        gone_after = MISSED_BEATS * heartbeat - waiting.silent_seconds
        raise DecisionError(
            f"the activation run {waiting.run_id} of {tenant} is not waiting for a decision: "
            f"it is still preparing the plan, or its process stopped (last sign of life "
            f"{waiting.silent_seconds:.0f} s ago); if it stopped, it is taken for gone in "
            f"{max(gone_after, 1):.0f} s and this command then decides itself: run it again"
        )
    with store.sessions() as session:
        silent = waiting_run(session, tenant, heartbeat)
    silent_seconds = silent.silent_seconds if silent else waiting.silent_seconds
    gone = (
        f"the activation run {waiting.run_id} is gone (its process stopped; last sign of life "
        f"{silent_seconds:.0f} s ago)"
    )
    if paused:
        _mark_crashed(waiting.run_id, f"{gone}; the decision was taken by `svenn-sync`")
    with store.sessions.begin() as session:
        stop_waiting(session, tenant, waiting.run_id)
    return False, f"{gone}; deciding here. "


def _taken_up(store: StateStore, tenant: str, run_id: str, heartbeat: float) -> str | None:
    """After answering the paused run: what it did with the decision once its status moves on,
    or None when the run shows no sign of life for 1.5 heartbeats (its process is gone)."""
    import time

    deadline = time.monotonic() + MISSED_BEATS * heartbeat
    while time.monotonic() < deadline:
        with store.sessions() as session:
            integration = get_integration(session, tenant)
            waiting = waiting_run(session, tenant, heartbeat)
        status = integration.status if integration else None
        if status != IntegrationStatus.REVIEW.value:
            then = "; the initial sync runs there" if status in ("approved", "syncing") else ""
            return f"the activation run {run_id} took the decision up: {tenant} is {status}{then}"
        mine = waiting is not None and waiting.run_id == run_id
        if mine and waiting is not None and waiting.silent_seconds > 1.5 * heartbeat:
            return None
        time.sleep(min(0.5, heartbeat / 4))
    return (
        f"answered the activation run {run_id}; it is alive but has not taken the decision up "
        f"yet, and goes on there (`svenn-sync integrations show {tenant}` tells when it has)"
    )


def decide(store: StateStore, tenant: str, decision: str, approver: str, reason: str) -> str:
    """Approve or reject: answer the paused activation run if it is alive, else decide here.

    A paused run whose process died (no sign of life for three heartbeats) is marked crashed,
    and the decision, and on approval the initial sync, run in this process.
    """
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        if integration is None:
            raise DecisionError(f"no integration for tenant {tenant!r}; activate it first")
        if integration.status != IntegrationStatus.REVIEW.value:
            raise DecisionError(
                f"{tenant} is {integration.status}, not in review: there is nothing to {decision}"
            )
    form = {"decision": decision, "approver": approver, "reason": reason}
    answered, note = _answer_or_take_over(store, tenant, form)
    if answered:
        return note
    from flows.activate import ApprovalDecision, record_decision

    status = record_decision.fn(store, tenant, ApprovalDecision(**form), None)  # type: ignore[arg-type]
    if status != IntegrationStatus.APPROVED.value:
        return f"{note}{tenant} is {status}"
    synced: State[dict[str, Any]] = asyncio.run(sync_with_state(tenant))
    if not synced.is_completed():
        raise DecisionError(f"{note}{tenant} approved by {approver}, but: {synced.message}")
    done = synced.result()["status"]
    return f"{note}{tenant} approved by {approver}; initial sync finished: {done}"


async def sync_with_state(tenant: str) -> State[dict[str, Any]]:
    """Run the initial sync and return its final state (a stopped run is an answer here)."""
    from flows.initial_sync import initial_sync

    return await initial_sync(tenant, return_state=True)
