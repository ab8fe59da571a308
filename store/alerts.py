"""What ops must be told about, read from the store, and the record that each alert went out once.

An alert is claimed here before it is sent: the primary key (tenant, kind, occurrence) lets
exactly one claim succeed, however many ticks or runs see the same occurrence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import AlertSent, FailedRecord, FailureStatus, Integration, IntegrationStatus


def claim_alert(session: Session, tenant: str, kind: str, occurrence: str) -> bool:
    """True the first time (tenant, kind, occurrence) is claimed; False ever after."""
    if session.get(AlertSent, (tenant, kind, occurrence)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(AlertSent(tenant=tenant, kind=kind, occurrence=occurrence[:120]))
    except IntegrityError:  # another run claimed it a moment ago
        return False
    return True


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Lagging:
    """An active integration with no successful tick since ``since`` (None: none ever)."""

    tenant: str
    since: dt.datetime
    ever_synced: bool
    last_error: str | None


def lagging_integrations(session: Session, now: dt.datetime, lag: dt.timedelta) -> list[Lagging]:
    """Active integrations whose last successful tick (or activation, when none yet) is older
    than ``lag``."""
    query = select(Integration).where(Integration.status == IntegrationStatus.ACTIVE.value)
    found = []
    for integration in session.scalars(query.order_by(Integration.tenant)):
        since = integration.realtime_ok_at or integration.activated_at
        if since is not None and now - _aware(since) > lag:
            found.append(
                Lagging(
                    integration.tenant,
                    _aware(since),
                    integration.realtime_ok_at is not None,
                    integration.last_error,
                )
            )
    return found


@dataclass(frozen=True)
class HeldHours:
    """A tenant's approved hours held back for longer than the limit (open failed records)."""

    tenant: str
    rows: int
    oldest: dt.datetime
    newest_row_id: int
    reasons: tuple[str, ...]


def held_hours(
    session: Session, older_than: dt.datetime, reasons: Iterable[str]
) -> list[HeldHours]:
    """Per tenant, the open hours rows with one of ``reasons`` first seen before
    ``older_than``."""
    held = (
        FailedRecord.entity == "hours",
        FailedRecord.status == FailureStatus.OPEN.value,
        FailedRecord.first_seen < older_than,
        FailedRecord.reason_code.in_(list(reasons)),
    )
    query = (
        select(
            FailedRecord.tenant,
            func.count(),
            func.min(FailedRecord.first_seen),
            func.max(FailedRecord.id),
        )
        .where(*held)
        .group_by(FailedRecord.tenant)
        .order_by(FailedRecord.tenant)
    )
    codes = select(FailedRecord.tenant, FailedRecord.reason_code).where(*held).distinct()
    by_tenant: dict[str, set[str]] = {}
    for tenant, code in session.execute(codes):
        by_tenant.setdefault(tenant, set()).add(code)
    return [
        HeldHours(tenant, count, _aware(oldest), newest, tuple(sorted(by_tenant.get(tenant, ()))))
        for tenant, count, oldest, newest in session.execute(query)
    ]


def last_ok_tick(session: Session, tenant: str) -> dt.datetime | None:
    """When the tenant's last realtime tick succeeded (None: never)."""
    at = session.scalar(select(Integration.realtime_ok_at).where(Integration.tenant == tenant))
    return _aware(at) if at else None


def alert_sent_at(session: Session, tenant: str, kind: str) -> dt.datetime | None:
    """When the tenant's latest alert of ``kind`` went out (None: never)."""
    at = session.scalar(
        select(func.max(AlertSent.sent_at)).where(
            AlertSent.tenant == tenant, AlertSent.kind == kind
        )
    )
    return _aware(at) if at else None
