"""What one realtime tick does with a linked record (pure): merge, echo, delete, or nothing.

The tick reads what changed on each side, then asks :func:`decide_link` per link. A side whose
record has the fingerprint stored on the link is *unchanged* (an echo of our own write, or
untouched): it contributes no edits. Deletes follow :data:`ON_DELETE` (the README's table,
declared per entity in :mod:`sync.entities`).
Conflicts and changes the rules do not let travel become log rows (:class:`PlannedFailure`)
that ops and the tenant read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync import normalize
from sync.decisions import NO_DECISIONS, Decisions
from sync.entities import ON_DELETE, DeleteRule, OnDelete
from sync.merge import FieldConflict, IgnoredChange, MergeDecision, merge_entity
from sync.plan import EntityPlan, PlannedFailure, PlannedLink, failure_for
from sync.records import Direction, Entity, Record, System
from sync.rules import ReasonCode


@dataclass(frozen=True)
class LinkState:
    """What the store knows about one link."""

    entity: Entity
    svenn_id: str
    tripletex_id: str
    svenn_fingerprint: str | None = None
    tripletex_fingerprint: str | None = None
    base: Mapping[str, Any] | None = None

    @property
    def unagreed(self) -> bool:
        """Linked by a match while the two differed, and not aligned since (no fingerprints)."""
        return self.svenn_fingerprint is None and self.tripletex_fingerprint is None


@dataclass
class LinkDecision:
    """What to do with one link in this tick."""

    link: LinkState
    merge: MergeDecision | None = None
    svenn_write: Record | None = None  # the Svenn record with the merged fields, to PATCH
    svenn_fields: tuple[str, ...] = ()
    tripletex_write: Record | None = None  # the Tripletex record with the merged fields, to PUT
    on_delete: OnDelete | None = None
    unlink: bool = False
    log: list[PlannedFailure] = field(default_factory=list)

    @property
    def writes(self) -> int:
        """How many writes this decision sends."""
        deletes = self.on_delete not in (None, OnDelete.LOG_ONLY)
        return (self.svenn_write is not None) + (self.tripletex_write is not None) + deletes


def with_fields(record: Record, fields: Mapping[str, Any]) -> Record:
    """A copy of ``record`` holding ``fields`` (JSON-safe synced values), validated."""
    data = record.model_dump(mode="json") | dict(fields)
    return type(record).model_validate(data)


def decide_link(link: LinkState, svenn: Record | None, tripletex: Record | None) -> LinkDecision:
    """Decide one link given both sides' current records (``None``: deleted there)."""
    decision = LinkDecision(link)
    if svenn is None or tripletex is None:
        decision.unlink = True
        if svenn is None and tripletex is None:
            return decision
        gone_in = System.SVENN if svenn is None else System.TRIPLETEX
        rule = ON_DELETE[(link.entity, gone_in)]
        decision.on_delete = rule.action
        if rule.action is OnDelete.LOG_ONLY:
            survivor = tripletex if svenn is None else svenn
            assert survivor is not None
            decision.log.append(_delete_notice(link, survivor, gone_in, rule))
        return decision
    svenn_changed = svenn.fingerprint() != link.svenn_fingerprint
    tripletex_changed = tripletex.fingerprint() != link.tripletex_fingerprint
    if not svenn_changed and not tripletex_changed:
        return decision  # untouched, or our own write coming back: nothing to do
    merge = merge_entity(
        link.entity,
        link.base,
        svenn.synced_fields(),
        tripletex.synced_fields(),
        svenn_changed=svenn_changed,
        tripletex_changed=tripletex_changed,
    )
    decision.merge = merge
    if merge.to_svenn:
        decision.svenn_write = with_fields(svenn, merge.to_svenn)
        decision.svenn_fields = tuple(sorted(merge.to_svenn))
    if merge.to_tripletex:
        decision.tripletex_write = with_fields(tripletex, merge.to_tripletex)
    if merge.conflicts:
        decision.log.append(conflict_row(merge.conflicts, svenn, tripletex, linked=link.unagreed))
    for system in System:  # one row per record and reason (the log's unique key)
        ignored = [i for i in merge.ignored if i.system is system]
        if ignored:
            decision.log.append(_ignored_row(ignored, svenn, tripletex))
    return decision


def version_changes(known: Mapping[str, int], seen: Mapping[str, int]) -> tuple[set[str], set[str]]:
    """(new or changed ids, vanished ids) between two ``id → version`` lists."""
    changed = {i for i, v in seen.items() if known.get(i) != v}
    return changed, set(known) - set(seen)


def _side(system: System, svenn: Record, tripletex: Record) -> tuple[Record, Direction]:
    if system is System.SVENN:
        return svenn, Direction.SVENN_TO_TRIPLETEX
    return tripletex, Direction.TRIPLETEX_TO_SVENN


def _name(system: System) -> str:
    return "Svenn" if system is System.SVENN else "Tripletex"


CONFLICT_HOW = {
    False: ("was changed in both systems", "ble endret i begge systemene"),
    True: (
        "differed between the two systems when the sync linked them",
        "var ulik i de to systemene da synkroniseringen koblet dem",
    ),
}
"""How a conflict came about: both sides changed one field, or a match linked two records
that already differed (English, Norwegian)."""


def conflict_row(
    conflicts: Sequence[FieldConflict], svenn: Record, tripletex: Record, *, linked: bool = False
) -> PlannedFailure:
    """The record's conflicts of this tick in one row, keyed on the record whose value won
    the first of them (the row's direction is that write); ``linked``: the two differed when
    a match linked them."""
    record, direction = _side(conflicts[0].winner, svenn, tripletex)
    english, norwegian = [], []
    for c in conflicts:
        winner, loser = _name(c.winner), _name(c.loser)
        english.append(
            f"field {c.field}: {winner}'s {c.kept!r} was kept, {loser}'s {c.lost!r} was overwritten"
        )
        norwegian.append(
            f"feltet {c.field}: verdien fra {winner} ({c.kept!r}) ble beholdt, verdien fra "
            f"{loser} ({c.lost!r}) ble overskrevet"
        )
    failure = failure_for(
        record,
        direction,
        ReasonCode.FIELD_CONFLICT,
        how=CONFLICT_HOW[linked][0],
        how_no=CONFLICT_HOW[linked][1],
        detail="; ".join(english),
        detail_no="; ".join(norwegian),
    )
    details = {
        "fields": [c.field for c in conflicts],
        "conflicts": [conflict_details(c) for c in conflicts],
    }
    return _with_ids(failure, svenn, tripletex, details)


def conflict_details(conflict: FieldConflict) -> dict[str, Any]:
    """The conflict as JSON-safe data (stored with the log row)."""
    return {
        "field": conflict.field,
        "base": conflict.base,
        "svenn": conflict.svenn,
        "tripletex": conflict.tripletex,
        "winner": conflict.winner.value,
        "kept": conflict.kept,
        "lost": conflict.lost,
    }


def _ignored_row(
    changes: Sequence[IgnoredChange], svenn: Record, tripletex: Record
) -> PlannedFailure:
    record, direction = _side(changes[0].system, svenn, tripletex)
    english, norwegian = [], []
    for change in changes:
        other = "Tripletex" if change.system is System.SVENN else "Svenn"
        here = _name(change.system)
        if change.kept:
            english.append(f"{change.field} changed in {here} is not sent to {other}")
            norwegian.append(f"{change.field} endret i {here} sendes ikke til {other}")
        else:
            english.append(
                f"only {other} may change {change.field}; it was set back to {change.restored!r}"
            )
            norwegian.append(
                f"bare {other} kan endre {change.field}; satt tilbake til {change.restored!r}"
            )
    failure = failure_for(
        record,
        direction,
        ReasonCode.CHANGE_NOT_SYNCED,
        detail="; ".join(english),
        detail_no="; ".join(norwegian),
    )
    details = {
        "fields": [c.field for c in changes],
        "values": {c.field: c.value for c in changes},
        "kept": [c.field for c in changes if c.kept],
    }
    return _with_ids(failure, svenn, tripletex, details)


def _delete_notice(
    link: LinkState, survivor: Record, gone_in: System, rule: DeleteRule
) -> PlannedFailure:
    """Keyed on the deleted record (the change that did not travel)."""
    direction = Direction.leaving(gone_in)
    failure = failure_for(
        survivor,
        direction,
        ReasonCode.DELETE_NOT_SYNCED,
        system=_name(gone_in),
        detail=rule.advice_en,
        detail_no=rule.advice_no,
    )
    return PlannedFailure(
        entity=failure.entity,
        direction=direction,
        reason_code=failure.reason_code,
        message_en=failure.message_en,
        message_no=failure.message_no,
        svenn_id=link.svenn_id,
        tripletex_id=link.tripletex_id,
        payload=failure.payload,
        details={"deleted_in": gone_in.value, "action": rule.action.value},
    )


def _with_ids(
    failure: PlannedFailure, svenn: Record, tripletex: Record, details: dict[str, Any]
) -> PlannedFailure:
    return PlannedFailure(
        entity=failure.entity,
        direction=failure.direction,
        reason_code=failure.reason_code,
        message_en=failure.message_en,
        message_no=failure.message_no,
        svenn_id=svenn.id,
        tripletex_id=tripletex.id,
        payload=failure.payload,
        details=details,
    )


__all__ = [
    "ON_DELETE",
    "DeleteRule",
    "LinkDecision",
    "LinkState",
    "OnDelete",
    "conflict_row",
    "decide_link",
    "version_changes",
    "with_fields",
]


def feed_changes(newest: Mapping[str, int], echoes: Mapping[str, int]) -> set[str]:
    """Ids the Svenn feed reports changed, less our own writes coming back: an id whose newest
    feed version is the version our last tick wrote has not changed since (no read needed)."""
    return {record_id for record_id, version in newest.items() if echoes.get(record_id) != version}


TWIN_KEY = "name_created_on_both_sides"


def link_twins(
    plan: EntityPlan,
    new_tripletex: Sequence[Record],
    new_svenn: Sequence[Record],
    decisions: Decisions = NO_DECISIONS,
) -> None:
    """Link customers entered in both systems within one tick under the same name, where the
    planner found no key (no org number, no postcode) and would create each on the other side:
    that is one customer typed twice, not two. One to one only: two namesakes new on one side
    are left as they are. Nothing may tell the two apart: an org number, customer number or
    e-mail present on both and different keeps them apart, and so does a person's decision.
    Changes ``plan`` in place."""
    if plan.entity is not Entity.CUSTOMER:
        return
    to_svenn = {str(r.id): r for r in plan.create_in_svenn}
    to_tripletex = {str(r.id): r for r in plan.create_in_tripletex}
    tripletex_by_name = _unique_names([r for r in new_tripletex if str(r.id) in to_svenn])
    svenn_by_name = _unique_names([r for r in new_svenn if str(r.id) in to_tripletex])
    for name, tx_record in tripletex_by_name.items():
        sv_record = svenn_by_name.get(name)
        if sv_record is None or _told_apart(tx_record, sv_record):
            continue
        if decisions.apart(str(tx_record.id), str(sv_record.id)):
            continue
        plan.links.append(PlannedLink(plan.entity, str(tx_record.id), str(sv_record.id), TWIN_KEY))
        to_svenn.pop(str(tx_record.id))
        to_tripletex.pop(str(sv_record.id))
    plan.create_in_svenn[:] = list(to_svenn.values())
    plan.create_in_tripletex[:] = list(to_tripletex.values())


def _unique_names(records: Sequence[Record]) -> dict[str, Record]:
    names = [normalize.company_name(getattr(r, "name", None)) for r in records]
    counts = Counter(names)
    return {n: r for n, r in zip(names, records, strict=True) if n and counts[n] == 1}


def _told_apart(left: Record, right: Record) -> bool:
    pairs = (
        (normalize.org_number, "organization_number"),
        (lambda v: None if v is None else str(v).strip() or None, "customer_number"),
        (normalize.email, "email"),
    )
    for clean, name in pairs:
        a, b = clean(getattr(left, name, None)), clean(getattr(right, name, None))
        if a is not None and b is not None and a != b:
            return True
    return False
