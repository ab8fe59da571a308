"""The state store's tables (DESIGN.md §3), as SQLAlchemy 2.x typed models.

Constraints live in the database, not only in code: a record cannot be linked twice, and the same
failure of the same record cannot produce two rows (it bumps ``attempts`` instead).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


Timestamp = DateTime(timezone=True)


class IntegrationStatus(StrEnum):
    """Lifecycle of one tenant's integration; see ``store.integrations.ALLOWED``."""

    OFF = "off"
    REVIEW = "review"
    APPROVED = "approved"
    SYNCING = "syncing"
    ACTIVE = "active"
    REJECTED = "rejected"
    DISABLED = "disabled"
    FAILED = "failed"


class FailureStatus(StrEnum):
    """Whether a failed record still needs attention."""

    OPEN = "open"
    RESOLVED = "resolved"
    IGNORED = "ignored"


def _enum_check(name: str, column: str, values: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


# One integration per Tripletex company and per Svenn tenant. A rejected or never-approved
# (off) integration holds neither: nothing was ever written for it.
NOT_HOLDING = ("rejected", "off")
TENANCY_COLUMNS = ("tripletex_company_id", "svenn_tenant_id")


def tenancy_index(column: str) -> Index:
    """A unique index on ``column`` over the integrations that hold their company/tenant."""
    holding = text("status NOT IN (" + ", ".join(f"'{s}'" for s in NOT_HOLDING) + ")")
    return Index(
        f"uq_integrations_{column}",
        column,
        unique=True,
        sqlite_where=holding,
        postgresql_where=holding,
    )


class Integration(Base):
    """One tenant's Svenn ↔ Tripletex integration and its approval trail."""

    __tablename__ = "integrations"
    __table_args__ = (
        _enum_check("status", "status", IntegrationStatus),
        *(tenancy_index(column) for column in TENANCY_COLUMNS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=IntegrationStatus.OFF.value)
    tripletex_company_id: Mapped[int | None] = mapped_column(Integer)
    tripletex_company_name: Mapped[str | None] = mapped_column(String(255))
    # The Svenn tenant the stored Svenn key belongs to (the key decides, not the caller).
    svenn_tenant_id: Mapped[str | None] = mapped_column(String(100))
    svenn_tenant_name: Mapped[str | None] = mapped_column(String(255))
    employee_token_encrypted: Mapped[str | None] = mapped_column(Text)
    svenn_api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # The HMAC secret Tripletex signs this tenant's webhook deliveries with (kept when the
    # integration is turned off, so late deliveries are still verified and refused).
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # Push (webhooks): "healthy" while every subscription is active (the Tripletex poll then
    # slows down), "polling" otherwise; the note says why in one sentence (never last_error).
    push_status: Mapped[str | None] = mapped_column(String(20))
    push_note: Mapped[str | None] = mapped_column(Text)
    push_checked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # When a realtime tick last polled the tenant's Tripletex checksums (shared by the
    # overlapping realtime runs, so a new window does not poll again at once).
    tripletex_polled_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    review_requested_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    activated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Realtime sync: when the tenant's last tick succeeded, and when one last failed.
    realtime_ok_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    realtime_failed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)

    def __repr__(self) -> str:  # never show the encrypted token columns
        return f"Integration(tenant={self.tenant!r}, status={self.status!r})"


class IntegrationEvent(Base):
    """Audit trail: every status change, who made it and why."""

    __tablename__ = "integration_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(
        String(100), ForeignKey("integrations.tenant", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


class Link(Base):
    """One record in Svenn and its twin in Tripletex, with the state both last agreed on."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("tenant", "entity", "svenn_id", name="uq_links_svenn"),
        UniqueConstraint("tenant", "entity", "tripletex_id", name="uq_links_tripletex"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))
    svenn_id: Mapped[str] = mapped_column(String(64))
    tripletex_id: Mapped[str] = mapped_column(String(64))
    svenn_fingerprint: Mapped[str | None] = mapped_column(String(64))
    tripletex_fingerprint: Mapped[str | None] = mapped_column(String(64))
    base_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    match_key: Mapped[str | None] = mapped_column(String(40))
    synced_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


class Tombstone(Base):
    """The survivor of a link dropped because its counterpart was deleted (see
    ``sync.tombstones``): its content as the sync left it, so it is not taken for new."""

    __tablename__ = "tombstones"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    system: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    deleted_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


class ManualDecision(Base):
    """What a person decided about held-back records: who, when, why, and whether undone.

    ``kind`` is a :class:`sync.decisions.DecisionKind`. A pair of both sides fills
    ``svenn_id`` and ``tripletex_id``; a pair inside one system fills ``side``, ``record_id``
    and ``other_id``. A decision stands until ``undone_at`` is set (``svenn-sync unlink``).
    """

    __tablename__ = "manual_decisions"
    __table_args__ = (Index("ix_manual_decisions_standing", "tenant", "entity", "undone_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    svenn_id: Mapped[str | None] = mapped_column(String(64))
    tripletex_id: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[str | None] = mapped_column(String(64))
    other_id: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    # What the decision did (fields written on each side, the failed rows it resolved).
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decided_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class WebhookEvent(Base):
    """A Tripletex webhook delivery the receiver took: which record changed, never its values.

    One row per delivery (``idempotency_key``): a retry or replay is the same row. The tick
    marks the rows it read (``taken_at``); see ``store.webhooks``.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key", name="uq_webhook_events_delivery"),
        Index("ix_webhook_events_waiting", "taken_at", "tenant"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))  # create | update | delete
    received_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    taken_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class Lease(Base):
    """Which run holds one kind of work on a tenant, and its last sign of life."""

    __tablename__ = "leases"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # When the holder's run was due (a realtime window's baton: the later window outranks).
    due_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)


class AlertSent(Base):
    """An alert ops were sent: one row per tenant, kind and occurrence, so each goes out once."""

    __tablename__ = "alerts_sent"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    # What makes this occurrence different from the last one of its kind (a run id, the time
    # of the last successful tick, the newest held-back hour): see tasks/alerts.py.
    occurrence: Mapped[str] = mapped_column(String(120), primary_key=True)
    sent_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


class Cursor(Base):
    """How far one change feed has been applied, per tenant, system and entity."""

    __tablename__ = "cursors"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    system: Mapped[str] = mapped_column(String(20), primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)


class FailedRecord(Base):
    """A record that could not be synced, with the reason; one row per record and reason."""

    __tablename__ = "failed_records"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "entity", "direction", "record_key", "reason_code", name="uq_failed_records"
        ),
        _enum_check("status", "status", FailureStatus),
        Index("ix_failed_records_open", "tenant", "status", "entity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(30))
    # "svenn:<id>" or "tripletex:<id>": never NULL, so the unique constraint holds on every DB.
    record_key: Mapped[str] = mapped_column(String(140))
    svenn_id: Mapped[str | None] = mapped_column(String(64))
    tripletex_id: Mapped[str | None] = mapped_column(String(64))
    reason_code: Mapped[str] = mapped_column(String(60))
    message_en: Mapped[str] = mapped_column(Text)
    message_no: Mapped[str] = mapped_column(Text)
    target_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=FailureStatus.OPEN.value)
    first_seen: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # Who or what closed the row: a person (manual retry) or the flow that synced the record.
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    # The record as the tenant finds it in the log (sync.record_label): its name and number,
    # and one case-folded text over name, numbers, e-mail, organisation number and both ids.
    record_name: Mapped[str | None] = mapped_column(String(255))
    record_number: Mapped[str | None] = mapped_column(String(64))
    search_text: Mapped[str | None] = mapped_column(Text)


class HoursLedger(Base):
    """Which Tripletex entry (employee/date/project/activity) each exported Svenn hour is part of.

    Many Svenn rows can sum into one entry; ``fingerprint`` is what the row contributed when
    it was sent (key, hours, comment), so a change in Svenn is seen as a difference.
    """

    __tablename__ = "hours_ledger"
    __table_args__ = (
        UniqueConstraint("tenant", "svenn_hour_id", name="uq_hours_ledger_svenn"),
        Index("ix_hours_ledger_date", "tenant", "entry_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    svenn_hour_id: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[str] = mapped_column(String(64))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    project_id: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str] = mapped_column(String(64))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)


class HoursEntry(Base):
    """A Tripletex timesheet entry the export wrote (or is about to write: ``pending_op``).

    The intent is committed before the request is sent, so a run killed between the write and
    its outcome is recognised afterwards: the entry on the key holds what the intent says.
    """

    __tablename__ = "hours_entries"
    __table_args__ = (
        UniqueConstraint(
            "tenant", "employee_id", "entry_date", "project_id", "activity_id",
            name="uq_hours_entries_key",
        ),
        Index("ix_hours_entries_date", "tenant", "entry_date"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    employee_id: Mapped[str] = mapped_column(String(64))
    entry_date: Mapped[dt.date] = mapped_column(Date)
    project_id: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str] = mapped_column(String(64))
    tripletex_entry_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    pending_op: Mapped[str | None] = mapped_column(String(10))  # "write" | "delete"
    pending_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    pending_comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)


OPEN_FAILURES_VIEW = "open_failed_records"
OPEN_FAILURES_VIEW_SQL = """
CREATE VIEW open_failed_records AS
SELECT id, tenant, entity, direction, svenn_id, tripletex_id, reason_code,
       message_en, message_no, target_error, attempts, first_seen, last_seen, flow_run_id
FROM failed_records
WHERE status = 'open'
"""
# Per tenant, reason and day: rows first seen and rows resolved (created by migration 0005).
DAILY_FAILURES_VIEW = "failed_records_daily"

__all__ = [
    "DAILY_FAILURES_VIEW",
    "OPEN_FAILURES_VIEW",
    "OPEN_FAILURES_VIEW_SQL",
    "AlertSent",
    "Base",
    "Cursor",
    "FailedRecord",
    "FailureStatus",
    "HoursEntry",
    "HoursLedger",
    "Integration",
    "IntegrationEvent",
    "IntegrationStatus",
    "Lease",
    "Link",
    "ManualDecision",
    "WebhookEvent",
]
