"""The tenant's side of the store: the integration's status and the "Logg" (the failed-record
log in the tenant's words), read the same way for the JSON API and the HTML page.

Rows are found by the label each failed record carries (``record_name``, ``record_number``,
``search_text``: see :mod:`sync.record_label`); the Norwegian title and what-to-do of each
reason come from :mod:`sync.tenant_text`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.integrations import get_integration
from store.models import FailedRecord, FailureStatus, HoursLedger, Integration, IntegrationEvent
from sync.record_label import search_form
from sync.tenant_text import (
    ENTITY_TEXT,
    PushText,
    error_sentence,
    push_text,
    reason_text,
    status_text,
)

LogStatus = Literal["open", "resolved", "all"]
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class LogEntry:
    """One row of the tenant's log: the record, what happened, what to do, and its state."""

    id: int
    entity: str
    entity_text: str
    name: str | None
    number: str | None
    svenn_id: str | None
    tripletex_id: str | None
    reason_code: str
    title: str
    message_no: str
    message_en: str
    what_to_do: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved: bool
    resolved_at: dt.datetime | None
    resolved_by: str | None


@dataclass(frozen=True)
class LogPage:
    """One page of the log, newest first, and how many rows match in all."""

    entries: list[LogEntry]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the matching rows fill (at least one)."""
        return max(1, math.ceil(self.total / self.page_size))


def _entry(row: FailedRecord) -> LogEntry:
    text = reason_text(row.reason_code)
    return LogEntry(
        id=row.id,
        entity=row.entity,
        entity_text=ENTITY_TEXT.get(row.entity, row.entity),
        name=row.record_name,
        number=row.record_number,
        svenn_id=row.svenn_id,
        tripletex_id=row.tripletex_id,
        reason_code=row.reason_code,
        title=text.title,
        message_no=row.message_no,
        message_en=row.message_en,
        what_to_do=text.what_to_do,
        first_seen=_aware(row.first_seen),
        last_seen=_aware(row.last_seen),
        resolved=row.status != FailureStatus.OPEN.value,
        resolved_at=_aware(row.resolved_at) if row.resolved_at else None,
        resolved_by=row.resolved_by,
    )


def read_log(
    session: Session,
    tenant: str,
    *,
    q: str | None = None,
    entity: str | None = None,
    status: LogStatus = "open",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> LogPage:
    """One page of the tenant's log, newest first; ``q`` finds names, numbers, e-mails and
    organisation numbers by any part of them, whatever the case."""
    query = select(FailedRecord).where(FailedRecord.tenant == tenant)
    if status == "open":
        query = query.where(FailedRecord.status == FailureStatus.OPEN.value)
    elif status == "resolved":
        query = query.where(FailedRecord.status != FailureStatus.OPEN.value)
    if entity:
        query = query.where(FailedRecord.entity == entity)
    if q and search_form(q):
        query = query.where(FailedRecord.search_text.contains(search_form(q), autoescape=True))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    newest_first = query.order_by(FailedRecord.last_seen.desc(), FailedRecord.id.desc())
    rows = session.scalars(newest_first.offset((page - 1) * page_size).limit(page_size))
    return LogPage([_entry(row) for row in rows], total, page, page_size)


@dataclass(frozen=True)
class TenantOverview:
    """The integration as the tenant sees it (no key, encrypted or not, is ever part of it)."""

    tenant: str
    status: str
    status_text: str
    since: dt.datetime
    tripletex_company_id: int | None
    tripletex_company_name: str | None
    svenn_tenant_id: str | None
    svenn_tenant_name: str | None
    last_synced_at: dt.datetime | None
    lag_seconds: int | None
    open_problems: int
    last_error: str | None
    hours_exported_at: dt.datetime | None
    hours_exported: Decimal | None
    push: PushText


def _since(session: Session, integration: Integration) -> dt.datetime:
    """When the integration entered its current status (its latest change to it)."""
    at = session.scalar(
        select(func.max(IntegrationEvent.at)).where(
            IntegrationEvent.tenant == integration.tenant,
            IntegrationEvent.to_status == integration.status,
        )
    )
    return _aware(at or integration.created_at)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)  # SQLite hands back naive UTC


def _last_synced(integration: Integration) -> dt.datetime | None:
    times = [t for t in (integration.realtime_ok_at, integration.activated_at) if t is not None]
    return _aware(max(times, key=_aware)) if times else None


def read_overview(
    session: Session, tenant: str, now: dt.datetime | None = None
) -> TenantOverview | None:
    """The tenant's integration, open problems and hours export; None for an unknown tenant."""
    integration = get_integration(session, tenant)
    if integration is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    open_problems = session.scalar(
        select(func.count()).where(
            FailedRecord.tenant == tenant, FailedRecord.status == FailureStatus.OPEN.value
        )
    )
    exported_at, exported = session.execute(
        select(func.max(HoursLedger.exported_at), func.sum(HoursLedger.hours)).where(
            HoursLedger.tenant == tenant
        )
    ).one()
    synced = _last_synced(integration)
    return TenantOverview(
        tenant=tenant,
        status=integration.status,
        status_text=status_text(integration.status, integration.last_error),
        since=_since(session, integration),
        tripletex_company_id=integration.tripletex_company_id,
        tripletex_company_name=integration.tripletex_company_name,
        svenn_tenant_id=integration.svenn_tenant_id,
        svenn_tenant_name=integration.svenn_tenant_name,
        last_synced_at=synced,
        lag_seconds=int((now - synced).total_seconds()) if synced else None,
        open_problems=int(open_problems or 0),
        last_error=error_sentence(integration.last_error),
        hours_exported_at=_aware(exported_at) if exported_at else None,
        hours_exported=Decimal(exported) if exported is not None else None,
        push=push_text(integration.status, integration.push_status, integration.push_note),
    )
