"""What a person decided about records the sync held back (pure): link, keep apart, keep a value.

The sync never guesses: records that match ambiguously, duplicates inside one system and
fields both systems changed differently wait for a person. Their answers are data here:

- a *manual link* joins a Svenn record and its Tripletex twin; :func:`merge_for_link` merges
  the two by the realtime rules (an empty base: a field only one side holds travels, a field
  both hold differently goes to the entity's precedence winner) and says what changed;
- *keep apart* says a Svenn record and a Tripletex record are different things: matching never
  proposes the pair again (:class:`Decisions.kept_apart`);
- *not a duplicate* says two records of one system are different things: neither is held back
  as a duplicate of the other, nor counted as a lookalike (:class:`Decisions.distinct`);
- *a duplicate of* says a record is the same thing as another of its own system: it is left
  out of the sync (never created, never matched) and its twin syncs (:class:`Decisions.left_out`);
- *keep this value* answers a ``FIELD_CONFLICT``: :func:`value_to_keep` gives the write that
  puts the chosen value on the side that lost.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sync.merge import PRECEDENCE, MergeDecision, clean_value, merge_entity
from sync.records import Entity, System


class DecisionKind(StrEnum):
    """The manual decisions a person can take (stored, each undoable)."""

    LINK = "link"
    KEEP_APART = "keep_apart"
    NOT_DUPLICATE = "not_duplicate"
    DUPLICATE_OF = "duplicate_of"
    KEEP_VALUE = "keep_value"


@dataclass(frozen=True)
class Decisions:
    """The standing decisions of one entity that matching and planning respect.

    ``kept_apart`` holds (Tripletex id, Svenn id) pairs; ``distinct`` holds (side, id, id)
    triples with the two ids sorted; ``left_out`` holds (side, id) of duplicates a person
    confirmed.
    """

    kept_apart: frozenset[tuple[str, str]] = frozenset()
    distinct: frozenset[tuple[str, str, str]] = frozenset()
    left_out: frozenset[tuple[str, str]] = frozenset()

    def apart(self, tripletex_id: str, svenn_id: str) -> bool:
        """True when a person said these two are different things."""
        return (tripletex_id, svenn_id) in self.kept_apart

    def told_apart(self, side: str) -> set[tuple[str, str]]:
        """Same-side pairs (both orders) a person said are different things."""
        pairs = {(a, b) for s, a, b in self.distinct if s == side}
        return pairs | {(b, a) for a, b in pairs}

    def leaves_out(self, side: str) -> set[str]:
        """Ids of ``side`` that are confirmed duplicates and sit out of the sync."""
        return {record_id for s, record_id in self.left_out if s == side}


NO_DECISIONS = Decisions()


def distinct_pair(side: str, first: str, second: str) -> tuple[str, str, str]:
    """The stored form of "these two records of ``side`` are different things"."""
    low, high = sorted((first, second))
    return side, low, high


@dataclass(frozen=True)
class LinkMerge:
    """What linking two records by hand writes, and the sentence that says so."""

    merge: MergeDecision
    changes_en: list[str] = field(default_factory=list)
    changes_no: list[str] = field(default_factory=list)

    @property
    def summary_en(self) -> str:
        """What changed, in English ("nothing changed" when both agreed)."""
        return "; ".join(self.changes_en) or "both records already agreed; nothing changed"

    @property
    def summary_no(self) -> str:
        """What changed, in Norwegian."""
        return "; ".join(self.changes_no) or "oppføringene var like; ingenting ble endret"


def merge_for_link(
    entity: Entity, svenn: Mapping[str, Any], tripletex: Mapping[str, Any]
) -> LinkMerge:
    """Merge two records a person linked, by the realtime rules over an empty base.

    A field only one side holds is copied to the other; a field both hold differently keeps the
    precedence winner's value (Tripletex, unless the entity's rule names Svenn for that field).
    """
    decision = merge_entity(entity, {}, svenn, tripletex)
    merge = LinkMerge(decision)
    for system, writes in (
        (System.SVENN, decision.to_svenn),
        (System.TRIPLETEX, decision.to_tripletex),
    ):
        side = svenn if system is System.SVENN else tripletex
        name = "Svenn" if system is System.SVENN else "Tripletex"
        for field_name, value in sorted(writes.items()):
            merge.changes_en.append(f"{name} {field_name}: {side.get(field_name)!r} → {value!r}")
            merge.changes_no.append(f"{name} {field_name}: {side.get(field_name)!r} → {value!r}")
    return merge


@dataclass(frozen=True)
class KeptValue:
    """The write that answers a conflict: ``fields`` go to both systems (the loser's value was
    overwritten on its own side by the tick, and the winner still holds its own)."""

    target: System | None  # the side whose value is restored; None: it already stands
    fields: dict[str, Any]


class ConflictChoiceError(ValueError):
    """A conflict answer that does not fit the row (one sentence)."""


def value_to_keep(conflicts: Iterable[Mapping[str, Any]], keep: System) -> KeptValue:
    """The write that puts ``keep``'s value of each conflicting field on both sides.

    ``conflicts`` are the stored details of a ``FIELD_CONFLICT`` row
    (:func:`sync.realtime.conflict_details`). Fields ``keep`` already won need no write.
    """
    listed = list(conflicts)
    if not listed:
        raise ConflictChoiceError("the row holds no conflicting values to choose from")
    fields = {
        str(c["field"]): clean_value(str(c["field"]), c[keep.value])
        for c in listed
        if c.get("winner") != keep.value
    }
    return KeptValue(keep if fields else None, fields)


def owned_elsewhere(entity: Entity, fields: Collection[str], keep: System) -> list[str]:
    """Fields whose changes only the other system may make (a choice cannot override them)."""
    owners = PRECEDENCE[entity].owners
    return sorted(name for name in fields if owners.get(name) not in (None, keep))
