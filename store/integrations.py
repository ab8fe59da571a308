"""Integration lifecycle: allowed status transitions, the approval trail and the gate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.leases import (
    INITIAL_SYNC,
    LeaseHeldError,
    acquire_lease,
    release_lease,
    renew_lease,
)
from store.models import Integration, IntegrationEvent
from store.models import IntegrationStatus as S

ALLOWED: dict[S, frozenset[S]] = {
    S.OFF: frozenset({S.REVIEW}),
    S.REVIEW: frozenset({S.APPROVED, S.REJECTED, S.OFF}),
    S.APPROVED: frozenset({S.SYNCING, S.DISABLED}),
    S.SYNCING: frozenset({S.ACTIVE, S.FAILED, S.DISABLED}),
    S.FAILED: frozenset({S.SYNCING, S.DISABLED}),
    S.ACTIVE: frozenset({S.SYNCING, S.DISABLED}),
    S.REJECTED: frozenset({S.REVIEW, S.OFF}),
    # Turned on again by the same company and Svenn tenant: no new review, a reconciliation
    # (syncing) first, then active.
    S.DISABLED: frozenset({S.REVIEW, S.OFF, S.SYNCING}),
}

# States in which a person has approved the integration, so writes may reach either system.
APPROVED_STATES = frozenset({S.APPROVED, S.SYNCING, S.ACTIVE, S.FAILED})


class TransitionError(ValueError):
    """A status change that the lifecycle does not allow."""


class SyncInProgressError(LeaseHeldError):
    """Another run holds the tenant's initial sync and is alive."""


class NotApprovedError(PermissionError):
    """A write path was called for a tenant that no person has approved."""


def get_integration(session: Session, tenant: str, *, lock: bool = False) -> Integration | None:
    """The tenant's integration row, optionally locked for update."""
    query = select(Integration).where(Integration.tenant == tenant)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def ensure_integration(session: Session, tenant: str) -> Integration:
    """The tenant's integration, created with status ``off`` when it does not exist."""
    integration = get_integration(session, tenant, lock=True)
    if integration is None:
        integration = Integration(tenant=tenant, status=S.OFF.value)
        session.add(integration)
        session.flush()
    return integration


def transition(
    session: Session,
    tenant: str,
    to: S,
    *,
    actor: str | None = None,
    reason: str | None = None,
    flow_run_id: str | None = None,
) -> Integration:
    """Move the tenant's integration to ``to``; refuse transitions the lifecycle forbids."""
    integration = get_integration(session, tenant, lock=True)
    if integration is None:
        raise TransitionError(f"tenant {tenant!r} has no integration; activate it first")
    current = S(integration.status)
    if to not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "none"
        raise TransitionError(
            f"tenant {tenant!r}: cannot go from {current.value} to {to.value} "
            f"(allowed from {current.value}: {allowed})"
        )
    now = dt.datetime.now(dt.UTC)
    integration.status = to.value
    if to in (S.APPROVED, S.REJECTED):
        integration.decided_by, integration.decided_at = actor, now
        integration.decision_reason = reason
    if to is S.REVIEW:
        integration.review_requested_at = now
        integration.decided_by = integration.decided_at = integration.decision_reason = None
    if to is S.ACTIVE:
        integration.activated_at = now
    if to in (S.ACTIVE, S.REVIEW):  # a fresh start: an earlier stop's reason no longer holds
        integration.last_error = None
    if to is S.FAILED:
        integration.last_error = reason
    session.add(
        IntegrationEvent(
            tenant=tenant,
            from_status=current.value,
            to_status=to.value,
            actor=actor,
            reason=reason,
            flow_run_id=flow_run_id,
            at=now,
        )
    )
    session.flush()
    return integration


def turned_off(session: Session, tenant: str) -> bool:
    """Whether the tenant turned its integration off (nothing is read or written for it)."""
    integration = get_integration(session, tenant)
    return integration is not None and integration.status == S.DISABLED.value


def require_approved(session: Session, tenant: str) -> Integration:
    """The gate every write path passes: the tenant must have been approved by a person."""
    integration = get_integration(session, tenant)
    status = S(integration.status) if integration else S.OFF
    if status is S.DISABLED:
        raise NotApprovedError(
            f"tenant {tenant!r} is turned off (disabled): nothing is read or written until it "
            "is turned on again"
        )
    if integration is None or status not in APPROVED_STATES:
        raise NotApprovedError(
            f"tenant {tenant!r} is {status.value}, not approved: nothing may be written to "
            "Svenn or Tripletex until a person approves the integration"
        )
    return integration


def erase_keys(integration: Integration) -> None:
    """Forget the integration's stored keys (links, cursors and the ledger stay)."""
    integration.employee_token_encrypted = None
    integration.svenn_api_key_encrypted = None


def record_event(session: Session, integration: Integration, *, actor: str, reason: str) -> None:
    """An entry in the audit trail that changes no status (e.g. a key replaced)."""
    session.add(
        IntegrationEvent(
            tenant=integration.tenant,
            from_status=integration.status,
            to_status=integration.status,
            actor=actor,
            reason=reason,
            at=dt.datetime.now(dt.UTC),
        )
    )


def list_integrations(session: Session) -> list[Integration]:
    """Every integration, by tenant."""
    return list(session.scalars(select(Integration).order_by(Integration.tenant)))


def history(session: Session, tenant: str) -> list[IntegrationEvent]:
    """The tenant's status changes, oldest first."""
    query = (
        select(IntegrationEvent)
        .where(IntegrationEvent.tenant == tenant)
        .order_by(IntegrationEvent.id)
    )
    return list(session.scalars(query))


def claim_sync(session: Session, tenant: str, run_id: str, *, lease: dt.timedelta) -> Integration:
    """Take the tenant's initial sync for ``run_id``; refuse while another live run holds it.

    A run that died (kill -9, lost machine) stops renewing its lease; once the lease has run
    out, the next run takes over and resumes.
    """
    integration = require_approved(session, tenant)
    try:
        acquire_lease(session, tenant, INITIAL_SYNC, run_id, ttl=lease)
    except LeaseHeldError as held:
        raise SyncInProgressError(
            tenant, held.purpose, held.holder, held.age_seconds, held.wait_seconds
        ) from None
    return integration


def renew_sync(session: Session, tenant: str, run_id: str) -> None:
    """A sign of life from the run holding the initial sync (extends its lease)."""
    renew_lease(session, tenant, INITIAL_SYNC, run_id)


def release_sync(session: Session, tenant: str, run_id: str) -> None:
    """The run is done with the initial sync."""
    release_lease(session, tenant, INITIAL_SYNC, run_id)
