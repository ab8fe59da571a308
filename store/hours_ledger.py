"""The hours ledger and the entries we wrote: read for a window, intents, outcomes.

Every function takes a session; the caller decides the transaction. :func:`begin_writes` must
be committed before the request goes out and :func:`settle_outcomes` right after the answer,
so that a run killed in between leaves an intent the next plan can recognise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from store.models import HoursEntry, HoursLedger
from sync.hours import Content, EntryKey, LedgerRow, Placement, WrittenEntry
from sync.hours_apply import Intent, Outcome

WRITE, DELETE = "write", "delete"
CHUNK = 500


def _key(row: HoursLedger | HoursEntry) -> EntryKey:
    return EntryKey(row.employee_id, row.entry_date, row.project_id, row.activity_id)


def _content(hours: Decimal | None, comment: str | None) -> Content | None:
    return None if hours is None else Content.of(hours, comment)


def _ledger_row(row: HoursLedger) -> LedgerRow:
    return LedgerRow(row.svenn_hour_id, _key(row), Decimal(row.hours), row.fingerprint, row.comment)


def _written(row: HoursEntry) -> WrittenEntry:
    return WrittenEntry(
        key=_key(row),
        entry_id=row.tripletex_entry_id,
        content=_content(row.hours, row.comment),
        version=row.version,
        pending=_content(row.pending_hours, row.pending_comment)
        if row.pending_op == WRITE
        else None,
        pending_delete=row.pending_op == DELETE,
    )


def ledger_dates(session: Session, tenant: str, svenn_ids: Iterable[str]) -> dict[str, dt.date]:
    """Where (which date) each of these Svenn hours sits in Tripletex now, if anywhere."""
    ids = sorted(set(svenn_ids))
    found: dict[str, dt.date] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(HoursLedger.svenn_hour_id, HoursLedger.entry_date).where(
            HoursLedger.tenant == tenant, HoursLedger.svenn_hour_id.in_(ids[start : start + CHUNK])
        )
        found.update({hour_id: day for hour_id, day in session.execute(query)})
    return found


def load_window(
    session: Session, tenant: str, first: dt.date, last: dt.date
) -> tuple[list[LedgerRow], list[WrittenEntry]]:
    """The ledger rows and written entries dated ``first``..``last`` (inclusive)."""
    ledger = session.scalars(
        select(HoursLedger).where(
            HoursLedger.tenant == tenant, HoursLedger.entry_date.between(first, last)
        )
    )
    written = session.scalars(
        select(HoursEntry).where(
            HoursEntry.tenant == tenant, HoursEntry.entry_date.between(first, last)
        )
    )
    return [_ledger_row(r) for r in ledger], [_written(r) for r in written]


def pending_dates(session: Session, tenant: str) -> list[dt.date]:
    """Dates of entries with a write in flight (a run died there): the next run looks again."""
    query = select(HoursEntry.entry_date).where(
        HoursEntry.tenant == tenant, HoursEntry.pending_op.is_not(None)
    )
    return list(session.scalars(query))


def _entries(session: Session, tenant: str, keys: Sequence[EntryKey]) -> dict[EntryKey, HoursEntry]:
    found: dict[EntryKey, HoursEntry] = {}
    columns = tuple_(
        HoursEntry.employee_id, HoursEntry.entry_date, HoursEntry.project_id, HoursEntry.activity_id
    )
    for start in range(0, len(keys), CHUNK):
        chunk = [tuple(k) for k in keys[start : start + CHUNK]]
        query = select(HoursEntry).where(HoursEntry.tenant == tenant, columns.in_(chunk))
        found.update({_key(r): r for r in session.scalars(query)})
    return found


def begin_writes(session: Session, tenant: str, intents: Sequence[Intent]) -> None:
    """Record what is about to be written on each key (commit before sending it)."""
    rows = _entries(session, tenant, [i.key for i in intents])
    for intent in intents:
        row = rows.get(intent.key)
        if row is None:
            row = HoursEntry(tenant=tenant, **_key_fields(intent.key))
            session.add(row)
        if intent.content is None:
            row.pending_op, row.pending_hours, row.pending_comment = DELETE, None, None
        else:
            row.pending_op = WRITE
            row.pending_hours = intent.content.hours
            row.pending_comment = intent.content.comment
    session.flush()


def settle_outcomes(session: Session, tenant: str, outcomes: Sequence[Outcome]) -> None:
    """Store what each key's write did: the entry, the ledger rows it covers, intents cleared."""
    rows = _entries(session, tenant, [o.plan.key for o in outcomes])
    placed: list[tuple[EntryKey, Placement]] = []
    for outcome in outcomes:
        plan, row = outcome.plan, rows.get(outcome.plan.key)
        if plan.action == "hold":
            continue  # nothing changes, an intent included (see sync.hours._decide)
        if outcome.refusal is not None:
            if row is not None and row.tripletex_entry_id is None:
                session.delete(row)
            elif row is not None:
                row.pending_op = row.pending_hours = row.pending_comment = None
            continue
        entry = outcome.entry
        if entry is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = HoursEntry(tenant=tenant, **_key_fields(plan.key))
            session.add(row)
        row.tripletex_entry_id, row.version = entry.id, entry.version
        row.hours, row.comment = entry.content.hours, entry.content.comment
        row.pending_op = row.pending_hours = row.pending_comment = None
        placed += [(plan.key, p) for p in plan.rows]
    _drop_ledger(session, tenant, [(o.plan.key, o.plan.left) for o in outcomes if _done(o)])
    _save_ledger(session, tenant, placed)
    session.flush()


def _done(outcome: Outcome) -> bool:
    return outcome.plan.action != "hold" and outcome.refusal is None


def _save_ledger(
    session: Session, tenant: str, placed: Sequence[tuple[EntryKey, Placement]]
) -> None:
    """Upsert the ledger rows of the placements (one read per 500 rows)."""
    ids = [p.svenn_hour_id for _, p in placed]
    existing: dict[str, HoursLedger] = {}
    for start in range(0, len(ids), CHUNK):
        query = select(HoursLedger).where(
            HoursLedger.tenant == tenant, HoursLedger.svenn_hour_id.in_(ids[start : start + CHUNK])
        )
        existing.update({r.svenn_hour_id: r for r in session.scalars(query)})
    for key, placement in placed:
        row = existing.get(placement.svenn_hour_id)
        if row is None:
            row = HoursLedger(tenant=tenant, svenn_hour_id=placement.svenn_hour_id)
            session.add(row)
            existing[placement.svenn_hour_id] = row
        for name, value in _key_fields(key).items():
            setattr(row, name, value)
        row.hours = Decimal(placement.hours)
        row.comment = placement.comment
        row.fingerprint = placement.fingerprint


def _drop_ledger(
    session: Session, tenant: str, left: Sequence[tuple[EntryKey, Sequence[str]]]
) -> None:
    """Forget rows that left a key (only where the ledger still puts them on that key)."""
    for key, ids in left:
        if not ids:
            continue
        session.execute(
            delete(HoursLedger).where(
                HoursLedger.tenant == tenant,
                HoursLedger.svenn_hour_id.in_(list(ids)),
                HoursLedger.employee_id == key.employee_id,
                HoursLedger.entry_date == key.date,
                HoursLedger.project_id == key.project_id,
                HoursLedger.activity_id == key.activity_id,
            )
        )


def _key_fields(key: EntryKey) -> dict[str, object]:
    return {
        "employee_id": key.employee_id,
        "entry_date": key.date,
        "project_id": key.project_id,
        "activity_id": key.activity_id,
    }


def exported_ids(session: Session, tenant: str) -> set[str]:
    """Every Svenn hour id the ledger holds (tests and reports)."""
    query = select(HoursLedger.svenn_hour_id).where(HoursLedger.tenant == tenant)
    return set(session.scalars(query))
