"""Why a run stopped, in one sentence an operator can act on, and the state it leaves.

A run that gives up (rate limited past every retry, a write whose outcome stayed unknown, a
system that stayed unreachable, a key that stopped working, or anything unexpected) must not
leave the integration ``syncing`` with no reason: it goes to ``failed`` with ``last_error``
saying what happened and what to do. A rerun resumes (links are stored as they are made, and
writes whose outcome was unknown are looked up before anything is sent again).
"""

from __future__ import annotations

import datetime as dt

from connectors.errors import (
    ApiError,
    AuthenticationError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    TransientError,
)
from connectors.tripletex.errors import TripletexError
from store.integrations import NotApprovedError, get_integration, transition
from store.models import IntegrationStatus
from store.state import StateStore
from tasks.alerts import integration_failed

RERUN = "run the initial sync again (it resumes where it stopped and creates nothing twice)"


def _system(error: ApiError) -> str:
    if isinstance(error, TripletexError) or "tripletex" in type(error).__module__:
        return "Tripletex"
    return "Svenn" if "svenn" in type(error).__module__ else "Tripletex or Svenn"


def cause_and_advice(error: BaseException) -> tuple[str, str]:
    """(What went wrong, what to do before trying again), without traceback or secret."""
    if isinstance(error, NotApprovedError):
        return f"the integration is no longer approved ({error})", "approve it again"
    if not isinstance(error, ApiError):
        return (
            f"an unexpected error ({type(error).__name__}; the flow run's log has the details)",
            "fix the cause",
        )
    system = _system(error)
    if isinstance(error, RateLimitedError):
        return (
            f"{system} kept refusing requests as too many (HTTP 429) after every retry",
            "wait a few minutes",
        )
    if isinstance(error, OutcomeUnknownError):
        return (
            f"{system} did not confirm a write even after retries ({error.message})",
            f"wait until {system} answers normally again",
        )
    if isinstance(error, TransientError):
        return (
            f"{system} could not be reached or kept failing ({error.message})",
            f"wait until {system} is available again",
        )
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return (
            f"{system} refused the stored key ({error.message})",
            "have the tenant create a new key, disable the integration and activate it again",
        )
    return f"{system} refused a request the sync needs ({error})", "fix the cause"


def why_stopped(error: BaseException) -> str:
    """One sentence for a stopped initial sync: what happened and what to do."""
    cause, advice = cause_and_advice(error)
    return f"The initial sync stopped: {cause}; {advice}, then {RERUN}."


def why_no_preview(error: BaseException) -> str:
    """One sentence for an activation whose plan preview could not be built."""
    cause, advice = cause_and_advice(error)
    return (
        f"The plan preview could not be built: {cause}. Nothing was written, and the "
        "integration went back to off so that nobody approves a plan they cannot see; "
        f"{advice}, then activate again."
    )


# Where a run that gave up leaves the integration (other states keep their status).
STOPPED_TO = {
    IntegrationStatus.SYNCING: IntegrationStatus.FAILED,  # a rerun may start from failed
    IntegrationStatus.REVIEW: IntegrationStatus.OFF,  # no plan to show: not approvable blind
}


def record_stop(store: StateStore, tenant: str, reason: str, run_id: str | None) -> str:
    """Leave a visible reason: the status moves as :data:`STOPPED_TO` says and ``last_error``
    holds ``reason``; ops are told (``integration-failed``, once per run). Returns the status
    left."""
    with store.sessions.begin() as session:
        integration = get_integration(session, tenant, lock=True)
        if integration is None:
            return IntegrationStatus.OFF.value
        to = STOPPED_TO.get(IntegrationStatus(integration.status))
        if to is not None:
            transition(session, tenant, to, actor="system", reason=reason, flow_run_id=run_id)
        integration.last_error = reason
        status = integration.status
    occurrence = f"run-{run_id}" if run_id else f"stop-{dt.datetime.now(dt.UTC).isoformat()}"
    integration_failed(store, tenant, reason, occurrence, run_id)
    return status
