"""Apply what a person decided about held-back records: link, keep apart, duplicate, undo.

Each action runs under the tenant's realtime lease (a tick or a reconciliation in progress is
waited for, and none starts meanwhile), checks the records on both systems through the
connectors, writes what the decision needs, stores the decision with who/when/why and closes
the open failed rows it answers (``resolved_by`` = the person). Bad input is refused in one
sentence (:class:`DecisionRefused`) and changes nothing; the same action twice is a no-op.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import ApiError
from connectors.svenn.client import SvennClient
from connectors.tripletex import TripletexClient
from store.decisions import Pair, record_decision, standing_on, undo
from store.failures import find_failures, resolve_failures
from store.integrations import get_integration
from store.leases import REALTIME, LeaseHeldError, acquire_lease, release_lease
from store.links import NewLink, drop_link, link_holding, save_links
from store.models import FailedRecord
from store.state import StateStore
from sync.decisions import DecisionKind, merge_for_link
from sync.realtime import with_fields
from sync.records import SYNC_ORDER, Entity, Record
from sync.rules import ReasonCode
from tasks.tenant import tenant_clients

DECIDABLE = SYNC_ORDER  # every entity the sync links can be linked or kept apart by hand
LEASE_TTL = dt.timedelta(minutes=5)
LEASE_WAIT = dt.timedelta(seconds=60)
MANUAL_KEY = "manual"
NAMES = {"svenn": "Svenn", "tripletex": "Tripletex"}


class DecisionRefused(ValueError):
    """A decision that cannot be taken, said in one sentence; nothing was changed."""


@dataclass
class DecisionOutcome:
    """What an action did: ``changed`` False for a repeat (a no-op)."""

    message: str
    changed: bool = True
    resolved: int = 0
    decision_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # Open rows that waited on this decision, for a retry to sync now (see rows_waiting_on).
    retry_rows: list[int] = field(default_factory=list)


# Rows of records that wait for another record to be linked (a project's customer/manager).
WAITING_ON_OTHERS = (
    ReasonCode.PROJECT_CUSTOMER_NOT_LINKED.value,
    ReasonCode.PROJECT_MANAGER_NOT_LINKED.value,
)
DETAIL_IDS = ("candidates", "lookalikes", "duplicate_of")


def rows_waiting_on(session: Any, tenant: str, entity: Entity, keys: Iterable[str]) -> list[int]:
    """Open rows a decision about these records may unblock: the records' own rows, rows of
    the records their rows name (candidates, lookalikes, duplicates), and projects waiting
    for a customer or manager."""
    own = set(keys)
    rows, _ = find_failures(session, tenant)
    named: set[str] = set()
    for row in rows:
        if row.entity == entity.value and row.record_key in own:
            other = "svenn" if row.record_key.startswith("tripletex:") else "tripletex"
            for name in DETAIL_IDS:
                side = row.record_key.split(":", 1)[0] if name != "candidates" else other
                named |= {f"{side}:{i}" for i in (row.target_error or {}).get(name) or []}
    return [
        row.id
        for row in rows
        if (row.entity == entity.value and row.record_key in own | named)
        or row.reason_code in WAITING_ON_OTHERS
    ]


@asynccontextmanager
async def tenant_lease(store: StateStore, tenant: str, holder: str) -> AsyncIterator[None]:
    """Hold the tenant's realtime lease while a decision is applied (waits for a running
    tick or reconciliation, up to ``LEASE_WAIT``; then refuses in one sentence)."""
    deadline = time.monotonic() + LEASE_WAIT.total_seconds()
    while True:
        try:
            with store.sessions.begin() as session:
                acquire_lease(session, tenant, REALTIME, holder, ttl=LEASE_TTL)
            break
        except LeaseHeldError as held:
            if time.monotonic() > deadline:
                raise DecisionRefused(f"{tenant} is busy ({held}); try again shortly") from held
            await asyncio.sleep(0.5)
    try:
        yield
    finally:
        with store.sessions.begin() as session:
            release_lease(session, tenant, REALTIME, holder)


def check_request(store: StateStore, tenant: str, entity: str) -> Entity:
    """The entity, once the tenant is known and the entity is one a person can decide on."""
    with store.sessions() as session:
        if get_integration(session, tenant) is None:
            raise DecisionRefused(f"there is no tenant {tenant!r}")
    names = ", ".join(e.value for e in DECIDABLE)
    if entity not in {e.value for e in DECIDABLE}:
        raise DecisionRefused(f"{entity!r} is not an entity one can link; one of: {names}")
    return Entity(entity)


async def read_one(
    tripletex: TripletexClient, svenn: SvennClient, entity: Entity, system: str, record_id: str
) -> Record:
    """The record as its system holds it now, or a refusal naming what is missing."""
    client: SvennClient | TripletexClient = svenn if system == "svenn" else tripletex
    found: list[Record] = list(await client.get_many(entity, [record_id]))
    if not found:
        raise DecisionRefused(
            f"{NAMES[system]} has no {entity.value} {record_id} for this tenant "
            "(it does not exist, was deleted, or is another entity)"
        )
    return found[0]


def _refuse_if_linked_elsewhere(
    store: StateStore, tenant: str, entity: Entity, svenn_id: str, tripletex_id: str
) -> bool:
    """True when exactly this pair is linked already; a refusal when either is linked to
    something else (naming the record that holds it)."""
    with store.sessions() as session:
        held_sv = link_holding(session, tenant, entity.value, "svenn", svenn_id)
        held_tx = link_holding(session, tenant, entity.value, "tripletex", tripletex_id)
    if held_sv is not None and held_sv.tripletex_id == tripletex_id:
        return True
    if held_sv is not None:
        raise DecisionRefused(
            f"Svenn {entity.value} {svenn_id} is already linked to Tripletex {entity.value} "
            f"{held_sv.tripletex_id}; unlink that pair first"
        )
    if held_tx is not None:
        raise DecisionRefused(
            f"Tripletex {entity.value} {tripletex_id} is already linked to Svenn {entity.value} "
            f"{held_tx.svenn_id}; unlink that pair first"
        )
    return False


def resolve_rows(session: Any, tenant: str, entity: Entity, keys: Iterable[str], by: str) -> int:
    """Close the open failed rows of these records (keyed "svenn:<id>"/"tripletex:<id>")."""
    return resolve_failures(session, tenant, entity.value, list(keys), by=by)


async def link_records(
    store: StateStore,
    tenant: str,
    entity_name: str,
    svenn_id: str,
    tripletex_id: str,
    *,
    by: str,
    reason: str | None = None,
) -> DecisionOutcome:
    """Link two records by hand: merge them by the realtime rules, write both sides, store
    the link with its base snapshot, and close both records' open rows."""
    entity = check_request(store, tenant, entity_name)
    async with tenant_lease(store, tenant, f"decision:{uuid.uuid4()}"):
        if _refuse_if_linked_elsewhere(store, tenant, entity, svenn_id, tripletex_id):
            return DecisionOutcome(
                f"Svenn {entity.value} {svenn_id} and Tripletex {tripletex_id} are already "
                "linked; nothing changed",
                changed=False,
            )
        _refuse_if_kept_apart(store, tenant, entity, svenn_id, tripletex_id)
        async with tenant_clients(tenant) as (tripletex, svenn):
            svenn_record = await read_one(tripletex, svenn, entity, "svenn", svenn_id)
            tripletex_record = await read_one(tripletex, svenn, entity, "tripletex", tripletex_id)
            merge = merge_for_link(
                entity, svenn_record.synced_fields(), tripletex_record.synced_fields()
            )
            try:
                svenn_record, tripletex_record = await _write_merge(
                    tripletex, svenn, svenn_record, tripletex_record, merge.merge
                )
            except ApiError as refused:
                raise DecisionRefused(f"the merged record was refused: {refused}") from refused
        with store.sessions.begin() as session:
            link = NewLink(
                entity.value,
                svenn_id,
                tripletex_id,
                svenn_record.fingerprint(),
                tripletex_record.fingerprint(),
                merge.merge.merged,
                MANUAL_KEY,
            )
            save_links(session, tenant, [link])
            outcome = {"changes": merge.changes_en, "changes_no": merge.changes_no}
            row = record_decision(
                session,
                tenant,
                entity.value,
                DecisionKind.LINK,
                Pair(svenn_id=svenn_id, tripletex_id=tripletex_id),
                by=by,
                reason=reason,
                outcome=outcome,
            )
            keys = [f"svenn:{svenn_id}", f"tripletex:{tripletex_id}"]
            waiting = rows_waiting_on(session, tenant, entity, keys)
            resolved = resolve_rows(session, tenant, entity, keys, by)
    return DecisionOutcome(
        f"linked Svenn {entity.value} {svenn_id} and Tripletex {tripletex_id}: "
        f"{merge.summary_en}; {resolved} open row(s) resolved",
        resolved=resolved,
        decision_id=row.id,
        details=outcome,
        retry_rows=waiting,
    )


def _refuse_if_kept_apart(
    store: StateStore, tenant: str, entity: Entity, svenn_id: str, tripletex_id: str
) -> None:
    pair = Pair(svenn_id=svenn_id, tripletex_id=tripletex_id)
    with store.sessions() as session:
        rows = standing_on(session, tenant, entity.value, pair)
    if any(r.kind == DecisionKind.KEEP_APART for r in rows):
        who = next(r.decided_by for r in rows if r.kind == DecisionKind.KEEP_APART)
        raise DecisionRefused(
            f"{who} kept Svenn {entity.value} {svenn_id} and Tripletex {tripletex_id} apart; "
            "undo that first (svenn-sync unlink)"
        )


async def _write_merge(
    tripletex: TripletexClient,
    svenn: SvennClient,
    svenn_record: Record,
    tripletex_record: Record,
    merge: Any,
) -> tuple[Record, Record]:
    """Write the merged fields where a side differs; the records as they stand after."""
    if merge.to_svenn:
        svenn_record = await svenn.update(
            with_fields(svenn_record, merge.to_svenn), fields=sorted(merge.to_svenn)
        )
    if merge.to_tripletex:
        tripletex_record = await tripletex.update(with_fields(tripletex_record, merge.to_tripletex))
    return svenn_record, tripletex_record


async def keep_apart(
    store: StateStore,
    tenant: str,
    entity_name: str,
    pair: Pair,
    *,
    by: str,
    reason: str | None = None,
) -> DecisionOutcome:
    """Say two records are different things: a Svenn/Tripletex pair is never proposed again;
    two records of one system are no duplicates of each other. Their open matching rows are
    closed; each record is then planned on its own by the next retry, tick or sync."""
    entity = check_request(store, tenant, entity_name)
    kind = DecisionKind.NOT_DUPLICATE if pair.same_side else DecisionKind.KEEP_APART
    async with tenant_lease(store, tenant, f"decision:{uuid.uuid4()}"):
        keys = await _check_pair(store, tenant, entity, pair, linked_refuses=True)
        with store.sessions.begin() as session:
            standing = standing_on(session, tenant, entity.value, pair)
            if any(r.kind == kind for r in standing):
                return DecisionOutcome(f"{_pair_text(entity, pair)}: already kept apart", False)
            row = record_decision(session, tenant, entity.value, kind, pair, by=by, reason=reason)
            waiting = rows_waiting_on(session, tenant, entity, keys)
    return DecisionOutcome(
        f"{_pair_text(entity, pair)} kept apart; each is synced on its own from now on",
        decision_id=row.id,
        retry_rows=waiting,
    )


async def mark_duplicate(
    store: StateStore,
    tenant: str,
    entity_name: str,
    pair: Pair,
    *,
    by: str,
    reason: str | None = None,
) -> DecisionOutcome:
    """Say ``pair.record_id`` is the same thing as ``pair.other_id`` of its own system: it is
    left out of the sync (never created on the other side) and its open rows are closed."""
    entity = check_request(store, tenant, entity_name)
    if not pair.same_side:
        raise DecisionRefused("a duplicate is two records of one system (--of ID)")
    async with tenant_lease(store, tenant, f"decision:{uuid.uuid4()}"):
        await _check_pair(store, tenant, entity, pair, linked_refuses=False)
        side = str(pair.side)
        with store.sessions.begin() as session:
            held = link_holding(session, tenant, entity.value, side, str(pair.record_id))
            if held is not None:
                raise DecisionRefused(
                    f"{NAMES[side]} {entity.value} {pair.record_id} is linked (to "
                    f"{held.tripletex_id if side == 'svenn' else held.svenn_id}); it syncs, so "
                    "it cannot be left out as a duplicate; unlink it first"
                )
            standing = standing_on(session, tenant, entity.value, pair)
            if any(r.kind == DecisionKind.DUPLICATE_OF for r in standing):
                return DecisionOutcome(f"{_pair_text(entity, pair)}: already a duplicate", False)
            row = record_decision(
                session, tenant, entity.value, DecisionKind.DUPLICATE_OF, pair, by=by, reason=reason
            )
            keys = [f"{side}:{pair.record_id}"]
            waiting = rows_waiting_on(session, tenant, entity, keys)
            resolved = resolve_rows(session, tenant, entity, keys, by)
    return DecisionOutcome(
        f"{NAMES[side]} {entity.value} {pair.record_id} is a duplicate of {pair.other_id} and "
        f"stays out of the sync; {resolved} open row(s) resolved",
        resolved=resolved,
        decision_id=row.id,
        retry_rows=waiting,
    )


async def _check_pair(
    store: StateStore, tenant: str, entity: Entity, pair: Pair, *, linked_refuses: bool
) -> list[str]:
    """Both records exist (else a refusal); the record keys of the pair."""
    if pair.same_side:
        side = str(pair.side)
        if pair.record_id == pair.other_id:
            raise DecisionRefused("the two ids are the same record")
        ids = [(side, str(pair.record_id)), (side, str(pair.other_id))]
    else:
        ids = [("svenn", str(pair.svenn_id)), ("tripletex", str(pair.tripletex_id))]
        if linked_refuses and _refuse_if_linked_elsewhere(
            store, tenant, entity, str(pair.svenn_id), str(pair.tripletex_id)
        ):
            raise DecisionRefused(
                f"{_pair_text(entity, pair)} are linked; unlink them first to keep them apart"
            )
    async with tenant_clients(tenant) as (tripletex, svenn):
        for system, record_id in ids:
            await read_one(tripletex, svenn, entity, system, record_id)
    return [f"{system}:{record_id}" for system, record_id in ids]


async def undo_decision(
    store: StateStore,
    tenant: str,
    entity_name: str,
    pair: Pair,
    *,
    by: str,
) -> DecisionOutcome:
    """Undo what was decided about this pair: drop its link (nothing is deleted in either
    system) and mark its standing decisions undone. Nothing to undo is a no-op."""
    entity = check_request(store, tenant, entity_name)
    async with tenant_lease(store, tenant, f"decision:{uuid.uuid4()}"):
        with store.sessions.begin() as session:
            dropped = (not pair.same_side) and drop_link(
                session, tenant, entity.value, str(pair.svenn_id), str(pair.tripletex_id)
            )
            undone = undo(session, standing_on(session, tenant, entity.value, pair), by=by)
    if not dropped and not undone:
        return DecisionOutcome(f"{_pair_text(entity, pair)}: nothing to undo", changed=False)
    done = ["link dropped"] if dropped else []
    done += [f"{undone} decision(s) undone"] if undone else []
    return DecisionOutcome(
        f"{_pair_text(entity, pair)}: {', '.join(done)}; nothing was deleted in either system"
    )


def _pair_text(entity: Entity, pair: Pair) -> str:
    if pair.same_side:
        return f"{NAMES[str(pair.side)]} {entity.value} {pair.record_id} and {pair.other_id}"
    return f"Svenn {entity.value} {pair.svenn_id} and Tripletex {pair.tripletex_id}"


def open_row(store: StateStore, tenant: str, row_id: int) -> FailedRecord:
    """One failed row of the tenant (any status), or a refusal naming the tenant."""
    with store.sessions() as session:
        row = session.get(FailedRecord, row_id)
        if row is None or row.tenant != tenant:
            raise DecisionRefused(f"{tenant} has no failed record {row_id}")
        session.expunge(row)
    return row


__all__ = [
    "DecisionOutcome",
    "DecisionRefused",
    "keep_apart",
    "link_records",
    "mark_duplicate",
    "open_row",
    "undo_decision",
]
