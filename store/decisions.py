"""The decisions people took about held-back records: stored, read back, undone.

Each decision is a row with who, when and why (:class:`store.models.ManualDecision`); the
standing ones (not undone) become the :class:`sync.decisions.Decisions` that matching and
planning respect on every later run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import ManualDecision
from sync.decisions import DecisionKind, Decisions, distinct_pair


@dataclass(frozen=True)
class Pair:
    """The two records a decision is about: one per side, or two of ``side``."""

    svenn_id: str | None = None
    tripletex_id: str | None = None
    side: str | None = None
    record_id: str | None = None
    other_id: str | None = None

    @property
    def same_side(self) -> bool:
        """True for two records of one system (a duplicate question)."""
        return self.side is not None


def standing(
    session: Session, tenant: str, entity: str, kind: DecisionKind | None = None
) -> list[ManualDecision]:
    """The decisions of one entity that are not undone, oldest first."""
    query = select(ManualDecision).where(
        ManualDecision.tenant == tenant,
        ManualDecision.entity == entity,
        ManualDecision.undone_at.is_(None),
    )
    if kind is not None:
        query = query.where(ManualDecision.kind == kind.value)
    return list(session.scalars(query.order_by(ManualDecision.id)))


def standing_on(session: Session, tenant: str, entity: str, pair: Pair) -> list[ManualDecision]:
    """The standing decisions about exactly this pair (either order for a same-side pair)."""
    found = []
    for row in standing(session, tenant, entity):
        if pair.same_side:
            if row.side == pair.side and {row.record_id, row.other_id} == {
                pair.record_id,
                pair.other_id,
            }:
                found.append(row)
        elif (row.svenn_id, row.tripletex_id) == (pair.svenn_id, pair.tripletex_id):
            found.append(row)
    return found


def record_decision(
    session: Session,
    tenant: str,
    entity: str,
    kind: DecisionKind,
    pair: Pair,
    *,
    by: str,
    reason: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> ManualDecision:
    """Store one decision with who took it and why."""
    row = ManualDecision(
        tenant=tenant,
        entity=entity,
        kind=kind.value,
        svenn_id=pair.svenn_id,
        tripletex_id=pair.tripletex_id,
        side=pair.side,
        record_id=pair.record_id,
        other_id=pair.other_id,
        decided_by=by,
        reason=reason,
        outcome=outcome,
        decided_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row


def undo(session: Session, rows: list[ManualDecision], *, by: str) -> int:
    """Mark decisions undone (kept for the record: who undid them and when)."""
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        row.undone_at, row.undone_by = now, by
    session.flush()
    return len(rows)


def decisions_for(session: Session, tenant: str, entity: str) -> Decisions:
    """The standing decisions of one entity as matching and planning take them."""
    apart: set[tuple[str, str]] = set()
    distinct: set[tuple[str, str, str]] = set()
    left_out: set[tuple[str, str]] = set()
    for row in standing(session, tenant, entity):
        if row.kind == DecisionKind.KEEP_APART and row.svenn_id and row.tripletex_id:
            apart.add((row.tripletex_id, row.svenn_id))
        elif row.kind == DecisionKind.NOT_DUPLICATE and row.side and row.record_id:
            distinct.add(distinct_pair(row.side, row.record_id, str(row.other_id)))
        elif row.kind == DecisionKind.DUPLICATE_OF and row.side and row.record_id:
            left_out.add((row.side, row.record_id))
    return Decisions(frozenset(apart), frozenset(distinct), frozenset(left_out))
