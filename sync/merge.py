"""Three-way, field-level merge of a linked record (pure): the realtime sync's decision core.

A link stores the *base snapshot*: the synced fields both systems last agreed on. When either
side changed, :func:`merge_entity` diffs each side against that base, field by field:

- a field changed on one side only takes that side's value, and is written to the other side;
- a field changed on both sides to the same value (after normalisation) is no conflict;
- a field changed on both sides to different values is a :class:`FieldConflict`: the entity's
  :class:`Precedence` names the winner, the loser's value is kept in the decision so the caller
  can log it (ops and the tenant read it in the failed-record log as ``FIELD_CONFLICT``);
- a field only one system may change (customers' ``is_active``: only Tripletex inactivates)
  ignores the other side's change, puts the value back there, and reports an
  :class:`IgnoredChange` so the tenant learns why.

Values are compared *normalised* ("NO 923 456 789 MVA" equals "923456789", e-mail case and
surrounding spaces do not count, a missing value equals an empty one), so formatting is never a
change. What gets written is the merged value cleaned the way a create cleans it.

A side whose record is exactly what we last wrote or read there (the caller knows from the
link's fingerprints) passes ``*_changed=False``: its differences from the base are not edits,
so an echo of our own write can never be taken for a change. The decision's ``to_svenn`` and
``to_tripletex`` hold only fields whose value there differs from the merged value, so applying
them makes both sides equal to ``merged`` on every synced field, and merging again with
``merged`` as the base writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sync import normalize
from sync.entities import SPECS, EntitySpec, Kind
from sync.records import Entity, System

Fields = Mapping[str, Any]

# The fields both systems hold and the realtime sync keeps equal, per entity: the rows of
# each spec marked ``synced`` (references are not merged; ``is_internal`` exists only in
# Tripletex). Derived from :mod:`sync.entities`, never written out here.
SYNCED_FIELDS: dict[Entity, tuple[str, ...]] = {
    spec.entity: spec.synced_fields for spec in SPECS.values() if spec.synced_fields
}


@dataclass(frozen=True)
class Precedence:
    """Who wins a same-field conflict, and which fields only one system may change.

    ``default`` wins unless ``fields`` names another winner for that field. ``owners`` maps a
    field to the only system whose changes to it travel; the other system's change is put back,
    unless the field is in ``local``: then it stays where it was made and does not travel.
    """

    default: System
    fields: Mapping[str, System] = field(default_factory=dict)
    owners: Mapping[str, System] = field(default_factory=dict)
    local: frozenset[str] = frozenset()

    def winner(self, name: str) -> System:
        """The system whose value is kept when both changed ``name`` differently."""
        return self.owners.get(name) or self.fields.get(name, self.default)


def precedence_of(spec: EntitySpec) -> Precedence:
    """The precedence an entity's spec declares: its default winner, the rows' own winners,
    owners and local fields."""
    rows = [f for f in spec.fields if f.synced]
    return Precedence(
        spec.winner,
        fields={f.name: f.winner for f in rows if f.winner is not None},
        owners={f.name: f.owner for f in rows if f.owner is not None},
        local=frozenset(f.name for f in rows if f.local),
    )


PRECEDENCE: dict[Entity, Precedence] = {
    entity: precedence_of(SPECS[entity]) for entity in SYNCED_FIELDS
}
"""The precedence rule per entity (documented in README "What wins a conflict")."""


@dataclass(frozen=True)
class FieldConflict:
    """Both systems changed one field to different values; ``winner``'s value was kept."""

    field: str
    base: Any
    svenn: Any
    tripletex: Any
    winner: System

    @property
    def kept(self) -> Any:
        """The value both systems now hold."""
        return self.svenn if self.winner is System.SVENN else self.tripletex

    @property
    def lost(self) -> Any:
        """The value that was overwritten (logged, never silently dropped)."""
        return self.tripletex if self.winner is System.SVENN else self.svenn

    @property
    def loser(self) -> System:
        """The system whose edit was overwritten."""
        return System.TRIPLETEX if self.winner is System.SVENN else System.SVENN


@dataclass(frozen=True)
class IgnoredChange:
    """A change to a field the other system owns: reported, and put back unless ``kept``."""

    field: str
    system: System
    value: Any
    restored: Any
    kept: bool = False


@dataclass(frozen=True)
class MergeDecision:
    """The outcome of merging one linked record."""

    merged: dict[str, Any]
    to_svenn: dict[str, Any]
    to_tripletex: dict[str, Any]
    conflicts: tuple[FieldConflict, ...] = ()
    ignored: tuple[IgnoredChange, ...] = ()
    changed_in_svenn: frozenset[str] = frozenset()
    changed_in_tripletex: frozenset[str] = frozenset()

    @property
    def writes_nothing(self) -> bool:
        """True when neither system needs a write (e.g. an echo of our own write)."""
        return not self.to_svenn and not self.to_tripletex


def _kinds() -> dict[str, Kind]:
    """Every field name's kind across the specs (a name means one kind in every entity)."""
    kinds: dict[str, Kind] = {}
    for spec in SPECS.values():
        for row in spec.fields:
            if kinds.setdefault(row.name, row.kind) is not row.kind:
                raise ValueError(f"field {row.name!r} has two kinds: {kinds[row.name]}, {row.kind}")
    return kinds


KINDS: Mapping[str, Kind] = _kinds()
"""The kind of each field name; a name no spec declares (an address part) is text."""


def comparable(name: str, value: Any) -> Any:
    """The value as compared: formatting, case and empty-vs-missing do not count."""
    if isinstance(value, str):  # most values: each distinct one is worked out once
        return _comparable_text(name, value)
    return _comparable(name, value)


@lru_cache(maxsize=1 << 16)
def _comparable_text(name: str, value: str) -> Any:
    return _comparable(name, value)


def _comparable(name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = KINDS.get(name, Kind.TEXT)
    if kind is Kind.ORG_NUMBER:
        return normalize.org_number_digits(str(value))
    if kind is Kind.EMAIL:
        return normalize.email_form(str(value))
    if kind is Kind.PHONE:
        return normalize.phone(str(value)) or str(value).strip()
    if kind is Kind.CUSTOMER_NUMBER:
        text = str(value).strip()
        return int(text) if normalize.ascii_digits(text) else text
    if kind is Kind.ADDRESS:
        return _comparable_address(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _comparable_address(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    parts = {
        k: (normalize.postal_code(v) or str(v).strip()) if k == "postal_code" else comparable(k, v)
        for k, v in value.items()
    }
    parts = {k: v for k, v in parts.items() if v is not None}
    return tuple(sorted(parts.items())) or None


def same_value(name: str, left: Any, right: Any) -> bool:
    """True when two values of field ``name`` mean the same."""
    return bool(comparable(name, left) == comparable(name, right))


def clean_value(name: str, value: Any) -> Any:
    """The value as written to the other system (as a create would clean it)."""
    if isinstance(value, str) and not value.strip():
        return None
    kind = KINDS.get(name, Kind.TEXT)
    if kind is Kind.EMAIL and isinstance(value, str):
        return normalize.email_form(value)
    if kind is Kind.ORG_NUMBER and isinstance(value, str):
        return normalize.org_number_digits(value)
    if isinstance(value, str):
        return value.strip()
    return value


def agreed(
    entity: Entity, svenn: Fields, tripletex: Fields, precedence: Precedence | None = None
) -> bool:
    """True when two records a match linked need no write to agree: merged as a person's link
    is merged (over an empty base), neither side would change and no value would be lost.

    The answer of ``merge_entity(entity, {}, svenn, tripletex)`` having no write and no
    conflict (a property test holds the two equal), worked out one field at a time without
    building the decision, and stopping at the first field that conflicts or would be written.
    """
    rule = precedence or PRECEDENCE[entity]
    for name in SYNCED_FIELDS[entity]:
        if name not in svenn and name not in tripletex:
            continue  # not merged at all
        sv_value, tx_value = svenn.get(name), tripletex.get(name)
        sv, tx = comparable(name, sv_value), comparable(name, tx_value)
        # Over an empty base a side changed the field when it holds a value (``_changed``).
        sv_edited, tx_edited = sv is not None, tx is not None
        owner = rule.owners.get(name)
        in_sv = sv_edited and owner in (None, System.SVENN)
        in_tx = tx_edited and owner in (None, System.TRIPLETEX)
        if in_sv and in_tx:
            if sv != tx:
                return False  # a conflict
            value = tx_value if rule.winner(name) is System.TRIPLETEX else sv_value
        elif in_sv or in_tx:
            value = sv_value if in_sv else tx_value
        else:
            value = None  # the empty base's
        merged = comparable(name, clean_value(name, value))
        # A side is written where it differs from the merged value, except its own change to a
        # field the other system owns that stays where it was made (``local``).
        local = name in rule.local
        if sv != merged and not (local and sv_edited and not in_sv):
            return False
        if tx != merged and not (local and tx_edited and not in_tx):
            return False
    return True


def merge_entity(
    entity: Entity,
    base: Fields | None,
    svenn: Fields,
    tripletex: Fields,
    precedence: Precedence | None = None,
    *,
    svenn_changed: bool = True,
    tripletex_changed: bool = True,
) -> MergeDecision:
    """Merge one linked record's two sides against their base snapshot.

    ``base``, ``svenn`` and ``tripletex`` are synced-field dicts (``Record.synced_fields()``).
    Without a base (a link stored before snapshots existed) Tripletex's side is the base, the
    convention of the initial sync. A side with ``*_changed=False`` contributes no edits.
    """
    rule = precedence or PRECEDENCE[entity]
    base = tripletex if base is None else base
    names = SYNCED_FIELDS[entity]
    # Each value's comparable form is worked out once (a merge compares each field up to five
    # times: each side against the base, the two sides, each side against the merged value).
    in_base = {name: comparable(name, base.get(name)) for name in names}
    in_svenn = {name: comparable(name, svenn.get(name)) for name in names}
    in_tripletex = {name: comparable(name, tripletex.get(name)) for name in names}
    sv_changed = _changed(names, in_base, in_svenn) if svenn_changed else frozenset()
    tx_changed = _changed(names, in_base, in_tripletex) if tripletex_changed else frozenset()
    merged: dict[str, Any] = {}
    in_merged: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    ignored: list[IgnoredChange] = []
    for name in names:
        if name not in base and name not in svenn and name not in tripletex:
            continue  # a field none of the three holds (a snapshot older than the field)
        owner = rule.owners.get(name)
        in_sv = name in sv_changed and owner in (None, System.SVENN)
        in_tx = name in tx_changed and owner in (None, System.TRIPLETEX)
        same = bool(in_svenn[name] == in_tripletex[name])
        value = _field_value(name, base, svenn, tripletex, in_sv, in_tx, same, rule, conflicts)
        merged[name] = clean_value(name, value)
        in_merged[name] = comparable(name, merged[name])
        for system, side, now, counted, edited in (
            (System.SVENN, svenn, in_svenn[name], in_sv, name in sv_changed),
            (System.TRIPLETEX, tripletex, in_tripletex[name], in_tx, name in tx_changed),
        ):
            if edited and not counted and not bool(now == in_merged[name]):
                kept = name in rule.local
                ignored.append(IgnoredChange(name, system, side.get(name), merged[name], kept))
    kept_in = {(i.system, i.field) for i in ignored if i.kept}
    return MergeDecision(
        merged=merged,
        to_svenn=_writes(merged, in_merged, in_svenn, {f for s, f in kept_in if s is System.SVENN}),
        to_tripletex=_writes(
            merged, in_merged, in_tripletex, {f for s, f in kept_in if s is System.TRIPLETEX}
        ),
        conflicts=tuple(conflicts),
        ignored=tuple(ignored),
        changed_in_svenn=sv_changed,
        changed_in_tripletex=tx_changed,
    )


def _changed(
    names: tuple[str, ...], base: Mapping[str, Any], current: Mapping[str, Any]
) -> frozenset[str]:
    """The synced fields a side changed: those whose comparable form in ``current`` differs
    from the one in ``base`` (both worked out by the caller, once per merge)."""
    return frozenset(name for name in names if not bool(base[name] == current[name]))


def _field_value(
    name: str,
    base: Fields,
    svenn: Fields,
    tripletex: Fields,
    in_sv: bool,
    in_tx: bool,
    same: bool,
    rule: Precedence,
    conflicts: list[FieldConflict],
) -> Any:
    if in_sv and in_tx:
        if same:
            return tripletex.get(name) if rule.winner(name) is System.TRIPLETEX else svenn.get(name)
        winner = rule.winner(name)
        conflict = FieldConflict(name, base.get(name), svenn.get(name), tripletex.get(name), winner)
        conflicts.append(conflict)
        return conflict.kept
    if in_sv:
        return svenn.get(name)
    if in_tx:
        return tripletex.get(name)
    return base.get(name)


def _writes(
    merged: Fields,
    in_merged: Mapping[str, Any],
    in_side: Mapping[str, Any],
    keep: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The fields to write to a side so that it holds ``merged`` (except its kept changes),
    from the comparable forms of the merged values and of the side's."""
    return {
        name: value
        for name, value in merged.items()
        if name not in keep and not bool(in_side[name] == in_merged[name])
    }


__all__ = [
    "KINDS",
    "PRECEDENCE",
    "SYNCED_FIELDS",
    "FieldConflict",
    "IgnoredChange",
    "MergeDecision",
    "Precedence",
    "agreed",
    "clean_value",
    "comparable",
    "merge_entity",
    "precedence_of",
    "same_value",
]
