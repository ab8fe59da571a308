"""The initial-sync plan: what to link, what to create on each side, what fails and why.

Pure: it takes both sides' records and what is already linked, and decides. The same plan is
shown to the person approving (as a preview) and then applied, so the preview cannot drift from
what happens. Records already linked by an earlier, interrupted run are left alone, and among
the records matching left over, those whose synced content is identical on both sides are
paired (the "resume" key): a record we created just before a crash is found again instead of
being created twice. The resume key never overrides an ambiguity found by matching. Last,
records left to create that duplicate a record of their own side are held back
(:mod:`sync.duplicates`), so that nothing is created twice on the other side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import attrgetter
from typing import Any

import numpy as np

from sync.decisions import NO_DECISIONS, Decisions
from sync.duplicates import Duplicate, find_duplicates
from sync.entities import SPECS, Employee
from sync.keys import CodeTable, key_label, match_rules
from sync.matching import (
    Ambiguity,
    Link,
    MatchResult,
    SideFrame,
    match_on_keys,
)
from sync.record_card import card_of
from sync.records import Direction, Entity, Record, System
from sync.rules import ReasonCode, check_record, is_blocked, message
from sync.rules_frames import breaking_no_rule

RESUME_KEY = "same_content"
LISTED_RECORDS = 5  # a message names at most this many records, then "and N more"
SIDES = {"tripletex": "Tripletex", "svenn": "Svenn"}


@dataclass(frozen=True)
class PlannedFailure:
    """A record the plan will not sync, with the reason."""

    entity: Entity
    direction: Direction
    reason_code: str
    message_en: str
    message_no: str
    svenn_id: str | None = None
    tripletex_id: str | None = None
    payload: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlannedLink:
    """A Tripletex record and a Svenn record found to be the same thing."""

    entity: Entity
    tripletex_id: str
    svenn_id: str
    key: str


@dataclass
class EntityPlan:
    """The plan for one entity."""

    entity: Entity
    already_linked: int = 0
    links: list[PlannedLink] = field(default_factory=list)
    create_in_svenn: list[Record] = field(default_factory=list)
    create_in_tripletex: list[Record] = field(default_factory=list)
    failures: list[PlannedFailure] = field(default_factory=list)
    to_align: int = 0  # of ``links``: pairs that differ, aligned after linking (preview only)

    def counts(self) -> dict[str, int]:
        """The figures the approver sees for this entity."""
        return {
            "already_linked": self.already_linked,
            "to_link": len(self.links),
            "to_align": self.to_align,
            "to_create_in_svenn": len(self.create_in_svenn),
            "to_create_in_tripletex": len(self.create_in_tripletex),
            "will_fail": len(self.failures),
        }

    def failure_reasons(self) -> Counter[str]:
        """How many records fail for each reason code."""
        return Counter(f.reason_code for f in self.failures)


@dataclass
class SyncPlan:
    """The whole initial-sync plan, entity by entity in sync order."""

    entities: dict[Entity, EntityPlan] = field(default_factory=dict)

    def summary_rows(self) -> list[dict[str, Any]]:
        """One JSON-safe row per entity (for a table artifact)."""
        return [{"entity": e.value, **p.counts()} for e, p in self.entities.items()]

    def failure_rows(self) -> list[dict[str, Any]]:
        """One JSON-safe row per planned failure (for a table artifact)."""
        return [
            {
                "entity": f.entity.value,
                "svenn_id": f.svenn_id,
                "tripletex_id": f.tripletex_id,
                "reason_code": f.reason_code,
                "message_en": f.message_en,
                "message_no": f.message_no,
                "target_error": f.details if f.reason_code.startswith("TARGET_") else None,
            }
            for plan in self.entities.values()
            for f in plan.failures
        ]


def failure_for(
    record: Record,
    direction: Direction,
    code: ReasonCode,
    *,
    details: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    **context: Any,
) -> PlannedFailure:
    """A planned failure of ``record`` (read on the side ``direction`` starts from); its
    ``payload`` is the record's JSON dump, made here unless given."""
    from_svenn = direction is Direction.SVENN_TO_TRIPLETEX
    context.setdefault("name", display_name(record))
    context.setdefault("system", "Tripletex" if from_svenn else "Svenn")
    en, no = message(code, **context)
    return PlannedFailure(
        entity=record.entity,
        direction=direction,
        reason_code=code.value,
        message_en=en,
        message_no=no,
        svenn_id=record.id if from_svenn else None,
        tripletex_id=None if from_svenn else record.id,
        payload=record.model_dump(mode="json") if payload is None else payload,
        details=details,
    )


class _Shown:
    """Each record's JSON dump and card, made once per plan: a record ambiguous on one side is
    the candidate on the other side's cards, and its own failure's payload. A dump is handed
    out as a payload once; a second payload of the same record is a new dump, so that no two
    failures share one."""

    def __init__(self) -> None:
        self._dumps: dict[int, dict[str, Any]] = {}
        self._cards: dict[int, dict[str, str | None]] = {}
        self._handed: set[int] = set()

    def dump(self, record: Record) -> dict[str, Any]:
        """The record's ``model_dump(mode="json")``, to read only."""
        found = self._dumps.get(id(record))
        if found is None:
            found = self._dumps[id(record)] = record.model_dump(mode="json")
        return found

    def payload(self, record: Record) -> dict[str, Any]:
        """The record's dump for one failure's payload."""
        if id(record) in self._handed:
            return record.model_dump(mode="json")
        self._handed.add(id(record))
        return self.dump(record)

    def cards(
        self, ids: Sequence[str], records: Mapping[str, Record]
    ) -> dict[str, dict[str, str | None]]:
        """:func:`sync.record_card.cards`, each card a copy of the record's one card."""
        found: dict[str, dict[str, str | None]] = {}
        for i in ids:
            record = records.get(i)
            if record is None:
                continue
            card = self._cards.get(id(record))
            if card is None:
                card = self._cards[id(record)] = card_of(record.entity.value, self.dump(record))
            found[i] = dict(card)
        return found


def display_name(record: Record) -> str:
    """How a person would name the record in a message."""
    if isinstance(record, Employee):
        return " ".join(p for p in (record.first_name, record.last_name) if p)
    name = getattr(record, "name", None)
    return str(name) if name else f"{record.entity.value} {record.id}"


def plan_entity(
    entity: Entity,
    tripletex: Sequence[Record],
    svenn: Sequence[Record],
    *,
    linked: Mapping[str, str],
    customer_links: Mapping[str, str] | None = None,
    excluded: Iterable[PlannedFailure] = (),
    unreadable: Mapping[str, Sequence[Record]] | None = None,
    resting: Collection[str] = (),
    decisions: Decisions = NO_DECISIONS,
) -> EntityPlan:
    """Plan one entity: rules, then matching strongest key first, then the resume key.

    ``linked`` maps Tripletex id → Svenn id for links stored by earlier runs; ``excluded`` are
    failures found before planning (e.g. by the extract expectations), whose records sit out.
    ``unreadable`` holds, per side ("tripletex", "svenn"), what could be read of the records
    that failed to map (their ``MALFORMED_RECORD`` failures are in ``excluded``): they match
    like any record but never link or get created, so whatever they match is held back
    (``COUNTERPART_MALFORMED``) and nothing is matched differently because they are missing.
    ``resting`` are the keys ("svenn:<id>" / "tripletex:<id>") of survivors of a delete that
    nobody changed since (:mod:`sync.tombstones`): they sit out like linked records.
    ``decisions`` are what people decided (:mod:`sync.decisions`): pairs kept apart are never
    matched, records said not to be duplicates are not held back as such, and confirmed
    duplicates sit out entirely.
    """
    tripletex = _without(tripletex, decisions.leaves_out("tripletex"))
    svenn = _without(svenn, decisions.leaves_out("svenn"))
    plan = EntityPlan(entity)
    shown = _Shown()  # the records' dumps and cards for the failures' payloads and details
    plan.failures.extend(excluded)
    out_tx = {f.tripletex_id for f in plan.failures if f.tripletex_id}
    out_sv = {f.svenn_id for f in plan.failures if f.svenn_id}
    for key in resting:
        system, _, record_id = key.partition(":")
        (out_tx if system == "tripletex" else out_sv).add(record_id)
    linked_sv = set(linked.values())
    plan.already_linked = sum(1 for r in tripletex if r.id in linked) if linked else 0
    stand_ins = {
        "tripletex": [r for r in (unreadable or {}).get("tripletex", ()) if r.id not in linked],
        "svenn": [r for r in (unreadable or {}).get("svenn", ()) if r.id not in linked_sv],
    }
    unread = {side: {str(r.id) for r in records} for side, records in stand_ins.items()}
    # One frame per side, its keys computed once for the rules' first look, matching and the
    # duplicate check.
    frames = {
        "tripletex": SideFrame([*tripletex, *stand_ins["tripletex"]], "tripletex"),
        "svenn": SideFrame([*svenn, *stand_ins["svenn"]], "svenn"),
    }
    CodeTable(frames["tripletex"].values, frames["svenn"].values)  # each key factorised once
    open_tripletex = _eligible(
        tripletex,
        Direction.TRIPLETEX_TO_SVENN,
        set(linked) | out_tx,
        plan,
        frames["tripletex"],
        shown,
    )
    open_svenn = _eligible(
        svenn, Direction.SVENN_TO_TRIPLETEX, linked_sv | out_sv, plan, frames["svenn"], shown
    )
    if stand_ins["tripletex"]:
        open_tripletex_ids = set(map(attrgetter("id"), open_tripletex))
        open_tripletex += [r for r in stand_ins["tripletex"] if r.id not in open_tripletex_ids]
    if stand_ins["svenn"]:
        open_svenn_ids = set(map(attrgetter("id"), open_svenn))
        open_svenn += [r for r in stand_ins["svenn"] if r.id not in open_svenn_ids]
    result = _match(entity, open_tripletex, open_svenn, customer_links or {}, decisions, frames)
    by_tx = {str(r.id): r for r in open_tripletex}
    by_sv = {str(r.id): r for r in open_svenn}
    everything = {
        "tripletex": _by_id([*tripletex, *stand_ins["tripletex"]]),
        "svenn": _by_id([*svenn, *stand_ins["svenn"]]),
    }
    for link in result.links:
        if link.tripletex_id in unread["tripletex"] or link.svenn_id in unread["svenn"]:
            plan.failures.extend(_counterpart_failures(link, unread, everything, shown))
        else:
            plan.links.append(PlannedLink(entity, link.tripletex_id, link.svenn_id, link.key))
    plan.failures.extend(
        _ambiguity_failure(a, everything, shown)
        for a in result.ambiguous
        if a.record_id not in unread[a.side]
    )
    # Last, the resume key among what is left: a record we created just before a crash and
    # that has no identifier to match on is found again instead of being created twice.
    left_tx = [by_tx[i] for i in result.unmatched_tripletex if i not in unread["tripletex"]]
    left_sv = [by_sv[i] for i in result.unmatched_svenn if i not in unread["svenn"]]
    resumed = [
        link
        for link in _pair_identical(entity, left_tx, left_sv)
        if not decisions.apart(link.tripletex_id, link.svenn_id)
    ]
    plan.links.extend(resumed)
    paired_tx = {link.tripletex_id for link in resumed}
    paired_sv = {link.svenn_id for link in resumed}
    creates = {
        "tripletex": [r for r in left_tx if r.id not in paired_tx],
        "svenn": [r for r in left_sv if r.id not in paired_sv],
    }
    pairs = dict(linked) | {link.tripletex_id: link.svenn_id for link in plan.links}
    held = _hold_back_duplicates(
        entity, everything, pairs, plan.failures, creates, unread, decisions, frames, shown
    )
    plan.failures.extend(held)
    held_tx = {f.tripletex_id for f in held if f.tripletex_id}
    held_sv = {f.svenn_id for f in held if f.svenn_id}
    plan.create_in_svenn.extend(r for r in creates["tripletex"] if r.id not in held_tx)
    plan.create_in_tripletex.extend(r for r in creates["svenn"] if r.id not in held_sv)
    return plan


def _without(records: Sequence[Record], ids: set[str]) -> list[Record]:
    """``records`` but those with these ids."""
    if not ids:
        return list(records)
    return [r for r in records if str(r.id) not in ids]


def _by_id(records: Sequence[Record]) -> dict[str, Record]:
    return {str(r.id): r for r in records if r.id is not None}


def _hold_back_duplicates(
    entity: Entity,
    everything: Mapping[str, Mapping[str, Record]],
    pairs: Mapping[str, str],
    failed: Sequence[PlannedFailure],
    creates: Mapping[str, Sequence[Record]],
    unread: Mapping[str, set[str]] | None = None,
    decisions: Decisions = NO_DECISIONS,
    side_frames: Mapping[str, SideFrame] | None = None,
    shown: _Shown | None = None,
) -> list[PlannedFailure]:
    """``DUPLICATE_IN_SOURCE`` failures for records to create that duplicate their own side.

    They are compared with the linked records and with those that failed (a rule, an
    ambiguity, a record that could not be read): a record waiting for a fix exists, and must
    not get a twin meanwhile. ``side_frames`` hold each side's records (at least those of
    ``everything``) with their key values, when the caller has them.
    """
    linked = {
        "tripletex": dict(pairs),
        "svenn": {svenn_id: tripletex_id for tripletex_id, svenn_id in pairs.items()},
    }
    waiting = {
        "tripletex": {str(f.tripletex_id) for f in failed if f.tripletex_id}
        | set((unread or {}).get("tripletex", ())),
        "svenn": {str(f.svenn_id) for f in failed if f.svenn_id}
        | set((unread or {}).get("svenn", ())),
    }
    shown = shown or _Shown()
    if side_frames is None:
        side_frames = {
            side: SideFrame(records.values(), side) for side, records in everything.items()
        }
    frames: dict[str, Any] = {}
    to_make = {side: set(map(str, map(attrgetter("id"), creates[side]))) for side in everything}
    for side, records in everything.items():
        wanted = set(linked[side]) | waiting[side] | to_make[side]
        frames[side] = side_frames[side].of([r for i, r in records.items() if i in wanted])
    failures: list[PlannedFailure] = []
    for side, other in (("tripletex", "svenn"), ("svenn", "tripletex")):
        duplicates = find_duplicates(
            entity,
            frames[side][0],
            kept=set(linked[side]),
            waiting=waiting[side],
            leftovers=to_make[side],
            context=frames[other][0],
            told_apart=decisions.told_apart(side),
            values=frames[side][1],
            context_values=frames[other][1],
        )
        to_create = to_make[side] - {d.record_id for d in duplicates}
        for duplicate in duplicates:
            failures.append(
                _duplicate_failure(duplicate, side, everything, linked[side], to_create, shown)
            )
    return failures


def _duplicate_failure(
    duplicate: Duplicate,
    side: str,
    everything: Mapping[str, Mapping[str, Record]],
    linked: Mapping[str, str],
    to_create: set[str],
    shown: _Shown,
) -> PlannedFailure:
    other = System(side).other
    record = everything[side][duplicate.record_id]
    direction = Direction.leaving(side)
    counterparts = [linked[i] for i in duplicate.duplicate_of if i in linked]
    duplicates_en, duplicates_no = record_list(duplicate.duplicate_of, everything[side])
    if counterparts:
        listed_en, listed_no = record_list(counterparts, everything[other])
        counterpart = f", which is linked to {listed_en} in {SIDES[other]}"
        counterpart_no = f", som er koblet til {listed_no} i {SIDES[other]}"
    elif any(i in to_create for i in duplicate.duplicate_of):
        # "sent", not "created": the target may still refuse it (then it has its own row).
        counterpart = f", which is the one the sync sends to {SIDES[other]}"
        counterpart_no = f", som er den synkroniseringen sender til {SIDES[other]}"
    else:  # its twin failed a rule or matched ambiguously: see that record's own failure
        counterpart = ", which could not be synced yet (see its own failed record)"
        counterpart_no = ", som ikke kunne synkroniseres ennå (se feilen for den)"
    key_en, key_no = key_label(duplicate.key)
    return failure_for(
        record,
        direction,
        ReasonCode.DUPLICATE_IN_SOURCE,
        details={
            "key": duplicate.key,
            "duplicate_of": list(duplicate.duplicate_of),
            "linked_to": counterparts,
            "cards": shown.cards(duplicate.duplicate_of, everything[side]),
        },
        payload=shown.payload(record),
        source=SIDES[side],
        duplicates=duplicates_en,
        duplicates_no=duplicates_no,
        counterpart=counterpart,
        counterpart_no=counterpart_no,
        key=key_en,
        key_no=key_no,
    )


def record_list(ids: Sequence[str], records: Mapping[str, Record]) -> tuple[str, str]:
    """(English, Norwegian) list of records by id and name, the first five and "and N more"."""
    shown = list(ids[:LISTED_RECORDS])
    english = ", ".join(
        f"{i} '{display_name(records[i])}'" if i in records else str(i) for i in shown
    )
    norwegian = ", ".join(
        f"{i} «{display_name(records[i])}»" if i in records else str(i) for i in shown
    )
    rest = len(ids) - len(shown)
    if rest > 0:
        return f"{english} and {rest} more", f"{norwegian} og {rest} til"
    return english, norwegian


def _eligible(
    records: Sequence[Record],
    direction: Direction,
    skip: set[str],
    plan: EntityPlan,
    side: SideFrame,
    shown: _Shown,
) -> list[Record]:
    """Records not yet linked or excluded that pass every rule; violations become failures.

    The rules look only at the records ``side`` (their frame) cannot vouch for at once."""
    rows = np.fromiter(map(side.position.__getitem__, map(id, records)), np.intp, len(records))
    vouched = breaking_no_rule(plan.entity, side.values)[rows]
    # Each id's first record, unless the id is missing or skipped: the others sit out.
    ids = list(map(attrgetter("id"), records))
    first_row = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1), strict=True))
    for record_id in (None, *(skip & first_row.keys())):
        first_row.pop(record_id, None)
    keep = np.zeros(len(records), dtype=bool)
    keep[np.fromiter(first_row.values(), np.intp, len(first_row))] = True
    # The rules judge the records kept that the frame cannot vouch for, in order.
    for row in np.flatnonzero(keep & ~vouched).tolist():
        record = records[row]
        violations = check_record(record, direction)
        if is_blocked(violations):
            first = next(v for v in violations if v.blocking)
            plan.failures.append(
                PlannedFailure(
                    entity=record.entity,
                    direction=direction,
                    reason_code=str(first.code),
                    message_en=first.message_en,
                    message_no=first.message_no,
                    svenn_id=record.id if direction is Direction.SVENN_TO_TRIPLETEX else None,
                    tripletex_id=record.id if direction is Direction.TRIPLETEX_TO_SVENN else None,
                    payload=shown.payload(record),
                    details={"all_codes": [str(v.code) for v in violations]},
                )
            )
            keep[row] = False
    return list(compress(records, keep.tolist()))


def _pair_identical(
    entity: Entity, tripletex: Sequence[Record], svenn: Sequence[Record]
) -> list[PlannedLink]:
    """Pair records whose synced content is identical, one to one only."""
    tripletex, svenn = _named_on_both_sides(entity, tripletex, svenn)
    tx_by_print = _unique_by_fingerprint(tripletex)
    sv_by_print = _unique_by_fingerprint(svenn)
    return [
        PlannedLink(entity, tx_id, sv_by_print[fp], RESUME_KEY)
        for fp, tx_id in tx_by_print.items()
        if fp in sv_by_print
    ]


def _named_on_both_sides(
    entity: Entity, tripletex: Sequence[Record], svenn: Sequence[Record]
) -> tuple[Sequence[Record], Sequence[Record]]:
    """The records whose name (a synced field) a record of the other side also has: only they
    can have an identical twin there, or on their own side, so only they need a fingerprint
    (a hash of a JSON dump each). In their order."""
    spec = SPECS[entity]
    content = set(spec.record.model_fields) - spec.record.identity_fields
    fields = [f for f in spec.name_fields if f in content - spec.record.reference_fields]
    if not fields:
        return tripletex, svenn
    name = attrgetter(*fields)
    both = set(map(name, tripletex)) & set(map(name, svenn))
    return [r for r in tripletex if name(r) in both], [r for r in svenn if name(r) in both]


def _unique_by_fingerprint(records: Sequence[Record]) -> dict[str, str]:
    prints = [r.fingerprint() for r in records]  # each once: a hash of a JSON dump
    counts = Counter(prints)
    return {fp: str(r.id) for fp, r in zip(prints, records, strict=True) if counts[fp] == 1}


def _match(
    entity: Entity,
    tripletex: Sequence[Record],
    svenn: Sequence[Record],
    customer_links: Mapping[str, str],
    decisions: Decisions,
    side_frames: Mapping[str, SideFrame],
) -> MatchResult:
    (tx_frame, tx_values), (sv_frame, sv_values) = (
        side_frames["tripletex"].of(tripletex),
        side_frames["svenn"].of(svenn),
    )
    values = {"tripletex": tx_values, "svenn": sv_values}
    rules = match_rules(entity, customer_links)
    return match_on_keys(entity, tx_frame, sv_frame, rules, decisions, values)


def _counterpart_failures(
    link: Link,
    unread: Mapping[str, set[str]],
    everything: Mapping[str, Mapping[str, Record]],
    shown: _Shown,
) -> list[PlannedFailure]:
    """``COUNTERPART_MALFORMED`` for the readable side of a match with an unreadable record."""
    failures: list[PlannedFailure] = []
    for side, own, other_id in (
        ("tripletex", link.tripletex_id, link.svenn_id),
        ("svenn", link.svenn_id, link.tripletex_id),
    ):
        other = System(side).other
        if own in unread[side]:
            continue  # its own MALFORMED_RECORD failure says why
        direction = Direction.leaving(side)
        candidates_en, candidates_no = record_list([other_id], everything[other])
        key_en, key_no = key_label(link.key)
        failures.append(
            failure_for(
                everything[side][own],
                direction,
                ReasonCode.COUNTERPART_MALFORMED,
                details={"counterpart": other_id, "key": link.key},
                payload=shown.payload(everything[side][own]),
                other=SIDES[other],
                candidates=candidates_en,
                candidates_no=candidates_no,
                key=key_en,
                key_no=key_no,
            )
        )
    return failures


def _ambiguity_failure(
    ambiguity: Ambiguity, everything: Mapping[str, Mapping[str, Record]], shown: _Shown
) -> PlannedFailure:
    side = ambiguity.side
    other = System(side).other
    record = everything[side][ambiguity.record_id]
    direction = Direction.leaving(side)
    candidates_en, candidates_no = record_list(ambiguity.candidate_ids, everything[other])
    code = ReasonCode.MATCH_CONFLICT if ambiguity.conflict else ReasonCode.AMBIGUOUS_MATCH
    key_en, key_no = key_label(ambiguity.key)
    conflict_en, conflict_no = key_label(ambiguity.conflict or "")
    if ambiguity.lookalike_ids:
        alike_en, alike_no = record_list(ambiguity.lookalike_ids, everything[side])
        why = f": it cannot be told from {alike_en} in {SIDES[side]}"
        why_no = f": den kan ikke skilles fra {alike_no} i {SIDES[side]}"
    elif len(ambiguity.candidate_ids) > 1:
        why, why_no = ": several records match", ": flere oppføringer passer"
    else:
        why = f": that record also matches another record in {SIDES[side]}"
        why_no = f": den oppføringen passer også med en annen oppføring i {SIDES[side]}"
    return failure_for(
        record,
        direction,
        code,
        details={
            "key": ambiguity.key,
            "candidates": list(ambiguity.candidate_ids),
            "conflict": ambiguity.conflict,
            "lookalikes": list(ambiguity.lookalike_ids),
            "cards": shown.cards(ambiguity.candidate_ids, everything[other]),
        },
        payload=shown.payload(record),
        key=key_en,
        key_no=key_no,
        candidates=candidates_en,
        candidates_no=candidates_no,
        conflict=conflict_en,
        conflict_no=conflict_no,
        why=why,
        why_no=why_no,
    )


def narrowed(plan: EntityPlan, record_keys: set[str]) -> EntityPlan:
    """The part of ``plan`` that touches these records ("svenn:<id>" / "tripletex:<id>").

    A retry plans the whole population (matching needs every candidate to see an ambiguity)
    and then acts on the records it was asked about only.
    """

    def wanted(svenn_id: str | None, tripletex_id: str | None) -> bool:
        return f"svenn:{svenn_id}" in record_keys or f"tripletex:{tripletex_id}" in record_keys

    return EntityPlan(
        plan.entity,
        already_linked=0,
        links=[link for link in plan.links if wanted(link.svenn_id, link.tripletex_id)],
        create_in_svenn=[r for r in plan.create_in_svenn if wanted(None, r.id)],
        create_in_tripletex=[r for r in plan.create_in_tripletex if wanted(r.id, None)],
        failures=[f for f in plan.failures if wanted(f.svenn_id, f.tripletex_id)],
    )
