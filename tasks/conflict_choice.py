"""Answer a ``FIELD_CONFLICT`` row: keep the other value.

The realtime sync kept the precedence winner's value and logged the loser's. A person may say
the loser was right: the chosen value is written to both systems (the tick had overwritten it
on its own side, and the winner still holds its value), the link's base
snapshot takes it (so the next tick sees no change), and the row is resolved by that person.
Runs under the tenant's realtime lease, like every manual decision.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from connectors.errors import ApiError
from store.decisions import Pair, record_decision
from store.links import link_holding
from store.models import FailedRecord, FailureStatus, Link
from store.state import StateStore
from sync.decisions import ConflictChoiceError, DecisionKind, owned_elsewhere, value_to_keep
from sync.merge import same_value
from sync.realtime import with_fields
from sync.records import Entity, System
from sync.rules import ReasonCode
from tasks.decisions import (
    NAMES,
    DecisionOutcome,
    DecisionRefused,
    open_row,
    read_one,
    tenant_lease,
)
from tasks.tenant import tenant_clients


async def keep_value(
    store: StateStore, tenant: str, row_id: int, keep: str, *, by: str
) -> DecisionOutcome:
    """Keep ``keep``'s value ("svenn" or "tripletex") of a conflict row and resolve the row."""
    if keep not in NAMES:
        raise DecisionRefused(f"--keep must be svenn or tripletex, not {keep!r}")
    row = open_row(store, tenant, row_id)
    if row.reason_code != ReasonCode.FIELD_CONFLICT.value:
        raise DecisionRefused(
            f"row {row_id} is a {row.reason_code} row; only FIELD_CONFLICT rows have a value "
            "to keep"
        )
    if row.status != FailureStatus.OPEN.value:
        return DecisionOutcome(
            f"row {row_id} is already {row.status} (by {row.resolved_by}); nothing changed",
            changed=False,
        )
    entity, system = Entity(row.entity), System(keep)
    try:
        kept = value_to_keep((row.target_error or {}).get("conflicts", []), system)
    except ConflictChoiceError as bad:
        raise DecisionRefused(f"row {row_id}: {bad}") from bad
    owned = owned_elsewhere(entity, kept.fields, system)
    if owned:
        raise DecisionRefused(
            f"only the other system may change {', '.join(owned)}; change it there"
        )
    async with tenant_lease(store, tenant, f"decision:{uuid.uuid4()}"):
        link = _link_of(store, tenant, entity, row)
        if kept.fields:  # the tick overwrote it where it lost, and the winner holds its own
            for target in System:
                await _write(store, tenant, entity, link, target, kept.fields)
        with store.sessions.begin() as session:
            stored = session.get(FailedRecord, row_id)
            assert stored is not None
            stored.status = FailureStatus.RESOLVED.value
            stored.resolved_at, stored.resolved_by = dt.datetime.now(dt.UTC), by
            pair = Pair(svenn_id=link.svenn_id, tripletex_id=link.tripletex_id)
            outcome = {"row": row_id, "keep": keep, "written": kept.fields}
            decision = record_decision(
                session, tenant, entity.value, DecisionKind.KEEP_VALUE, pair, by=by, outcome=outcome
            )
    where = "written to both systems" if kept.fields else "it already stood on both sides"
    return DecisionOutcome(
        f"row {row_id}: {NAMES[keep]}'s value kept ({_fields(kept.fields)}), {where}; resolved",
        resolved=1,
        decision_id=decision.id,
        details=outcome,
    )


def _fields(fields: dict[str, Any]) -> str:
    return ", ".join(f"{name} = {value!r}" for name, value in fields.items()) or "no change"


def _link_of(store: StateStore, tenant: str, entity: Entity, row: FailedRecord) -> Link:
    with store.sessions() as session:
        link = link_holding(session, tenant, entity.value, "svenn", str(row.svenn_id))
        if link is None or link.tripletex_id != row.tripletex_id:
            raise DecisionRefused(
                f"Svenn {entity.value} {row.svenn_id} and Tripletex {row.tripletex_id} are no "
                "longer linked; there is no conflict left to answer"
            )
        session.expunge(link)
    return link


async def _write(
    store: StateStore, tenant: str, entity: Entity, link: Link, target: System, fields: dict
) -> None:
    """Write ``fields`` to ``target`` (unless it holds them already) and move the link's base
    (and, when nothing else was pending there, that side's fingerprint) to the chosen values."""
    async with tenant_clients(tenant) as (tripletex, svenn):
        record_id = link.svenn_id if target is System.SVENN else link.tripletex_id
        current = await read_one(tripletex, svenn, entity, target.value, record_id)
        held = current.synced_fields()
        written = current
        if not all(same_value(name, held.get(name), value) for name, value in fields.items()):
            changed = with_fields(current, fields)
            try:
                written = (
                    await svenn.update(changed, fields=sorted(fields))
                    if target is System.SVENN
                    else await tripletex.update(changed)
                )
            except ApiError as refused:
                raise DecisionRefused(
                    f"{NAMES[target.value]} refused the value: {refused}"
                ) from refused
    with store.sessions.begin() as session:
        stored = session.get(Link, link.id)
        assert stored is not None
        stored.base_snapshot = dict(stored.base_snapshot or {}) | fields
        column = "svenn_fingerprint" if target is System.SVENN else "tripletex_fingerprint"
        if getattr(stored, column) == current.fingerprint():  # no other change was pending
            setattr(stored, column, written.fingerprint())
