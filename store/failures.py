"""The failed-record log: one row per record and reason, bumped on every repeat.

Rows are written with an atomic upsert on the unique key (tenant, entity, direction,
record_key, reason_code), so concurrent runs can never create duplicate rows. Payloads are
redacted before they are stored: secrets never reach this table.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, select, update
from sqlalchemy.orm import Session

from store.db import insert_for
from store.models import FailedRecord, FailureStatus
from sync.record_label import label_record
from sync.redaction import redact

# The columns the tenant's log finds a record by (filled from the payload on every write).
LABEL_COLUMNS = ("record_name", "record_number", "search_text")


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


def record_failures(session: Session, failures: Iterable[Failure]) -> int:
    """Upsert failures; a repeat reopens the row and bumps ``attempts``. Returns the count."""
    rows = [_row(f) for f in failures]
    if not rows:
        return 0
    session.flush()  # a statement on the table is not autoflushed: pending changes first
    statement = _upsert_failures(session.get_bind().dialect.name)
    for chunk in _chunks(rows, 500):
        session.execute(statement, chunk)
    return len(rows)


@functools.cache
def _upsert_failures(dialect: str) -> Any:
    """The upsert of failed rows, built once per dialect (on the table, not the mapped class:
    ORM bulk inserts cost a quarter more per row, and building the statement each call
    another tenth)."""
    insert = insert_for(dialect)
    table = FailedRecord.metadata.tables[FailedRecord.__tablename__]
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["tenant", "entity", "direction", "record_key", "reason_code"],
        set_={
            "attempts": table.c.attempts + 1,
            "last_seen": statement.excluded.last_seen,
            "status": FailureStatus.OPEN.value,
            "resolved_at": None,
            "resolved_by": None,
            "message_en": statement.excluded.message_en,
            "message_no": statement.excluded.message_no,
            "target_error": statement.excluded.target_error,
            "payload": statement.excluded.payload,
            "flow_run_id": statement.excluded.flow_run_id,
            "svenn_id": statement.excluded.svenn_id,
            "tripletex_id": statement.excluded.tripletex_id,
            **{name: statement.excluded[name] for name in LABEL_COLUMNS},
        },
    )


def _row(failure: Failure) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    payload = redact(failure.payload)
    label = label_record(failure.entity, payload, failure.svenn_id, failure.tripletex_id)
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
        "payload": payload,
        "flow_run_id": failure.flow_run_id,
        "record_name": label.name,
        "record_number": label.number,
        "search_text": label.search_text,
        "attempts": 1,
        "status": FailureStatus.OPEN.value,
        "first_seen": now,
        "last_seen": now,
    }


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _open_rows_where(tenant: str, **equal: str | None) -> list[ColumnElement[bool]]:
    """The tenant's open failed records, with each column of ``equal`` that is given."""
    columns = FailedRecord.__table__.c
    return [
        columns.tenant == tenant,
        columns.status == FailureStatus.OPEN.value,
        *(columns[name] == value for name, value in equal.items() if value is not None),
    ]


def open_failures(
    session: Session, tenant: str, *, entity: str | None = None
) -> list[FailedRecord]:
    """The tenant's open failed records, oldest first."""
    query = select(FailedRecord).where(*_open_rows_where(tenant, entity=entity))
    return list(session.scalars(query.order_by(FailedRecord.id)))


def open_failure_columns(
    session: Session,
    tenant: str,
    *names: str,
    entity: str | None = None,
    reason_code: str | None = None,
    direction: str | None = None,
) -> list[Row[Any]]:
    """The named columns of the tenant's open failed records (of one entity, reason and
    direction when given), oldest first; each row reads its columns by name (``row.entity``).

    Loading whole rows decodes every row's payload and target error from JSON: most of what
    reading thousands of rows costs, where the caller reads a few ids."""
    columns = FailedRecord.__table__.c
    where = _open_rows_where(tenant, entity=entity, reason_code=reason_code, direction=direction)
    query = select(*(columns[name] for name in names)).where(*where)
    return list(session.execute(query.order_by(FailedRecord.id)))


def resolve_failures(
    session: Session,
    tenant: str,
    entity: str,
    record_keys: Iterable[str],
    *,
    status: FailureStatus = FailureStatus.RESOLVED,
    by: str | None = None,
    keep_reasons: Iterable[str] = (),
) -> int:
    """Close the open rows of these records (they synced, or ops chose to ignore them).

    ``by`` says who or what closed them: a person, or the flow run that synced the record.
    Rows with a reason in ``keep_reasons`` stay open (e.g. conflicts a person should read).
    """
    keys = list(record_keys)
    kept = list(keep_reasons)
    closed = 0
    for start in range(0, len(keys), 500):
        query = update(FailedRecord).where(
            FailedRecord.tenant == tenant,
            FailedRecord.entity == entity,
            FailedRecord.record_key.in_(keys[start : start + 500]),
            FailedRecord.status == FailureStatus.OPEN.value,
        )
        if kept:
            query = query.where(FailedRecord.reason_code.not_in(kept))
        result = session.execute(
            query.values(status=status.value, resolved_at=dt.datetime.now(dt.UTC), resolved_by=by)
        )
        closed += int(getattr(result, "rowcount", 0) or 0)
    return closed


def find_failures(
    session: Session,
    tenant: str,
    *,
    entity: str | None = None,
    reason: str | None = None,
    status: str | None = FailureStatus.OPEN.value,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[FailedRecord], int]:
    """One page of the tenant's failed records (``status=None``: every status) and the total."""
    query = select(FailedRecord).where(FailedRecord.tenant == tenant)
    if status is not None:
        query = query.where(FailedRecord.status == status)
    if entity is not None:
        query = query.where(FailedRecord.entity == entity)
    if reason is not None:
        query = query.where(FailedRecord.reason_code == reason)
    if ids is not None:
        query = query.where(FailedRecord.id.in_(list(ids)))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = query.order_by(FailedRecord.id).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total


def get_failure(session: Session, tenant: str, failure_id: int) -> FailedRecord | None:
    """One failed record of the tenant by its id (any status)."""
    row = session.get(FailedRecord, failure_id)
    return row if row is not None and row.tenant == tenant else None


def has_failures(session: Session, tenant: str) -> bool:
    """Whether the log holds any row for the tenant (open or not)."""
    query = select(FailedRecord.id).where(FailedRecord.tenant == tenant).limit(1)
    return session.scalar(query) is not None


def fold_new_reasons(session: Session, retried: Iterable[int], since: dt.datetime) -> int:
    """A retried row whose record now fails for another reason takes that reason over.

    The retry logs the new reason as its own row (the upsert's key includes the reason); this
    moves it into the retried row instead (reason, messages, target error, attempts + 1), so a
    record keeps one open row that carries its history. Returns the rows changed.
    """
    changed = 0
    for row_id in retried:
        old = session.get(FailedRecord, row_id)
        if old is None or old.status != FailureStatus.OPEN.value:
            continue
        newer = session.scalars(
            select(FailedRecord).where(
                FailedRecord.tenant == old.tenant,
                FailedRecord.entity == old.entity,
                FailedRecord.direction == old.direction,
                FailedRecord.record_key == old.record_key,
                FailedRecord.status == FailureStatus.OPEN.value,
                FailedRecord.id != old.id,
                FailedRecord.last_seen >= since,
            )
        ).first()
        if newer is None:
            continue
        fields = ("reason_code", "message_en", "message_no", "target_error", "payload")
        values = {name: getattr(newer, name) for name in fields}
        values |= {"flow_run_id": newer.flow_run_id, "last_seen": newer.last_seen}
        session.execute(delete(FailedRecord).where(FailedRecord.id == newer.id))
        session.flush()
        for name, value in values.items():
            setattr(old, name, value)
        old.attempts += 1
        changed += 1
    session.flush()
    return changed
