"""The failed-record log: one row per record and reason, bumped on every repeat.

Rows are written with an atomic upsert on the unique key (tenant, entity, direction,
record_key, reason_code), so concurrent runs can never create duplicate rows. Payloads are
redacted before they are stored: secrets never reach this table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import FailedRecord, FailureStatus

SECRET_KEY = re.compile(r"token|secret|password|passwd|api[-_]?key|authorization|iban|bank", re.I)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Failure:
    """What went wrong with one record, ready to be logged."""

    tenant: str
    entity: str
    direction: str
    reason_code: str
    message_en: str
    message_no: str
    svenn_id: str | None = None
    tripletex_id: str | None = None
    target_error: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    flow_run_id: str | None = None

    @property
    def record_key(self) -> str:
        """The id the failure is keyed on: the source side's id, else the other side's."""
        if self.direction.startswith("svenn") and self.svenn_id:
            return f"svenn:{self.svenn_id}"
        if self.tripletex_id:
            return f"tripletex:{self.tripletex_id}"
        return f"svenn:{self.svenn_id}"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def record_failures(session: Session, failures: Iterable[Failure]) -> int:
    """Upsert failures; a repeat reopens the row and bumps ``attempts``. Returns the count."""
    rows = [_row(f) for f in failures]
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(FailedRecord)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant", "entity", "direction", "record_key", "reason_code"],
        set_={
            "attempts": FailedRecord.attempts + 1,
            "last_seen": statement.excluded.last_seen,
            "status": FailureStatus.OPEN.value,
            "resolved_at": None,
            "message_en": statement.excluded.message_en,
            "message_no": statement.excluded.message_no,
            "target_error": statement.excluded.target_error,
            "payload": statement.excluded.payload,
            "flow_run_id": statement.excluded.flow_run_id,
            "svenn_id": statement.excluded.svenn_id,
            "tripletex_id": statement.excluded.tripletex_id,
        },
    )
    for chunk in _chunks(rows, 500):
        session.execute(statement, chunk)
    return len(rows)


def _row(failure: Failure) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "tenant": failure.tenant,
        "entity": failure.entity,
        "direction": failure.direction,
        "record_key": failure.record_key,
        "svenn_id": failure.svenn_id,
        "tripletex_id": failure.tripletex_id,
        "reason_code": failure.reason_code,
        "message_en": failure.message_en,
        "message_no": failure.message_no,
        "target_error": redact(failure.target_error),
        "payload": redact(failure.payload),
        "flow_run_id": failure.flow_run_id,
        "attempts": 1,
        "status": FailureStatus.OPEN.value,
        "first_seen": now,
        "last_seen": now,
    }


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def open_failures(
    session: Session, tenant: str, *, entity: str | None = None
) -> list[FailedRecord]:
    """The tenant's open failed records, oldest first."""
    query = select(FailedRecord).where(
        FailedRecord.tenant == tenant, FailedRecord.status == FailureStatus.OPEN.value
    )
    if entity is not None:
        query = query.where(FailedRecord.entity == entity)
    return list(session.scalars(query.order_by(FailedRecord.id)))


def resolve_failures(
    session: Session,
    tenant: str,
    entity: str,
    record_keys: Iterable[str],
    *,
    status: FailureStatus = FailureStatus.RESOLVED,
) -> int:
    """Close the open rows of these records (they synced, or ops chose to ignore them)."""
    keys = list(record_keys)
    if not keys:
        return 0
    result = session.execute(
        update(FailedRecord)
        .where(
            FailedRecord.tenant == tenant,
            FailedRecord.entity == entity,
            FailedRecord.record_key.in_(keys),
            FailedRecord.status == FailureStatus.OPEN.value,
        )
        .values(status=status.value, resolved_at=dt.datetime.now(dt.UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)
