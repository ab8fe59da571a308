"""Retry failed records: choose the rows, then close or re-log them after the writes.

The writes themselves are the initial sync's (``tasks.sync_steps.step_one/step_two`` through
:class:`tasks.apply.Applier`), narrowed to the records asked about; this module only picks the
rows before and settles them after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from store.failures import find_failures, fold_new_reasons, resolve_failures
from store.integrations import NotApprovedError, SyncInProgressError, claim_sync
from store.links import links_for
from store.models import FailureStatus
from store.state import StateStore
from sync.records import SYNC_ORDER, Entity, Record
from sync.retry import due_for_retry


@dataclass(frozen=True)
class RetryRow:
    """An open failed record chosen for a retry (a detached copy of its row)."""

    id: int
    entity: Entity
    record_key: str
    reason_code: str
    attempts: int


@dataclass(frozen=True)
class Backoff:
    """Only rows whose wait after their last attempt is over (the scheduled retry)."""

    first: dt.timedelta
    longest: dt.timedelta


@task(name="choose-failed-records", cache_policy=NO_CACHE)
def choose_rows(
    store: StateStore,
    tenant: str,
    *,
    reason: str | None = None,
    entity: str | None = None,
    failure_id: int | None = None,
    backoff: Backoff | None = None,
    failure_ids: Sequence[int] | None = None,
) -> list[RetryRow]:
    """The tenant's open rows to retry (customers, employees and projects); ``failure_id``
    or ``failure_ids`` narrow them to those rows."""
    ids = None if failure_id is None else [failure_id]
    if failure_ids is not None:
        ids = [*(ids or []), *failure_ids]
    now = dt.datetime.now(dt.UTC)
    with store.sessions() as session:
        rows, _ = find_failures(
            session,
            tenant,
            reason=reason,
            entity=entity,
            ids=ids,
        )
        return [
            RetryRow(r.id, Entity(r.entity), r.record_key, r.reason_code, r.attempts)
            for r in rows
            if r.entity in {e.value for e in SYNC_ORDER}
            and (
                backoff is None
                or due_for_retry(
                    r.attempts, r.last_seen, now, first=backoff.first, longest=backoff.longest
                )
            )
        ]


def claim_tenant(store: StateStore, tenant: str, run_id: str, lease_seconds: float) -> str | None:
    """One writer per tenant: take its lease as the initial sync does; why not, if refused."""
    try:
        with store.sessions.begin() as session:
            claim_sync(session, tenant, run_id, lease=dt.timedelta(seconds=lease_seconds))
    except (NotApprovedError, SyncInProgressError) as refusal:
        return str(refusal)
    return None


def keys_by_entity(rows: Sequence[RetryRow]) -> dict[Entity, set[str]]:
    """The record keys to act on, per entity."""
    keys: dict[Entity, set[str]] = {}
    for row in rows:
        keys.setdefault(row.entity, set()).add(row.record_key)
    return keys


@task(name="settle-retried-records", cache_policy=NO_CACHE)
def settle(
    store: StateStore,
    tenant: str,
    rows: Sequence[RetryRow],
    read: Mapping[Entity, Mapping[str, Sequence[Record]]],
    *,
    by: str,
    since: dt.datetime,
) -> dict[str, int]:
    """After the writes: linked records' rows are resolved, records gone from their source are
    closed, and a record failing for a new reason keeps one row with that reason."""
    with store.sessions.begin() as session:
        for entity in {row.entity for row in rows}:
            linked: set[str] = set()
            for link in links_for(session, tenant, entity.value):
                linked |= {f"svenn:{link.svenn_id}", f"tripletex:{link.tripletex_id}"}
            present = {
                f"{system}:{record.id}"
                for system, records in read[entity].items()
                for record in records
            }
            mine = [r for r in rows if r.entity is entity]
            resolve_failures(
                session,
                tenant,
                entity.value,
                [r.record_key for r in mine if r.record_key in linked],
                by=by,
            )
            gone = [r.record_key for r in mine if r.record_key not in present | linked]
            resolve_failures(session, tenant, entity.value, gone, by=f"{by} (record deleted)")
        fold_new_reasons(session, [r.id for r in rows], since)
        now_rows, _ = find_failures(session, tenant, ids=[r.id for r in rows], status=None)
    still_open = sum(1 for r in now_rows if r.status == FailureStatus.OPEN.value)
    return {"retried": len(rows), "resolved": len(rows) - still_open, "still_open": still_open}
