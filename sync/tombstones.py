"""Survivors of a delete: the record left on one side when its counterpart was deleted.

When a tick drops a link because one side deleted its record, the other side's record (which
the delete rule deactivated, closed or left alone) is remembered with its content as we left
it. Such a record is *resting*: it is no new record for the other side, at the next tick, at
the nightly reconciliation or at a retry, because a person deleted its counterpart. Once a
person changes it (its content differs from what was remembered), it is released: it is planned
like any unlinked record again, matched or created once, and the link made then covers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.records import Entity, Record, System


@dataclass(frozen=True)
class Tombstone:
    """A survivor of a dropped link: where it lives and its content when the link was dropped."""

    entity: Entity
    system: System  # the survivor's system (the delete happened on the other one)
    record_id: str
    fingerprint: str
    deleted_id: str  # the deleted counterpart's id, for the reader of the table

    @property
    def key(self) -> str:
        """The survivor as a record key ("svenn:<id>" / "tripletex:<id>")."""
        return record_key(self.system, self.record_id)


def record_key(system: System, record_id: str) -> str:
    """A record's key across both systems, as the failed-record log writes it."""
    return f"{system.value}:{record_id}"


def tombstone_for(survivor: Record, deleted_in: System, deleted_id: str) -> Tombstone:
    """The tombstone of ``survivor`` (as it is after the delete rule was applied to it)."""
    system = System.TRIPLETEX if deleted_in is System.SVENN else System.SVENN
    assert survivor.id is not None
    return Tombstone(survivor.entity, system, survivor.id, survivor.fingerprint(), deleted_id)


def resting_keys(
    tombstones: Iterable[Tombstone], records: Mapping[System, Iterable[Record]]
) -> set[str]:
    """Keys of the survivors still as the sync left them: not new records for the other side.

    A survivor a person changed since is not resting (it is planned again); one that is not
    among ``records`` (not read, or gone) is left resting, since nothing shows a change.
    """
    current = {
        record_key(system, str(r.id)): r.fingerprint()
        for system, found in records.items()
        for r in found
        if r.id is not None
    }
    return {t.key for t in tombstones if current.get(t.key, t.fingerprint) == t.fingerprint}


__all__ = ["Tombstone", "record_key", "resting_keys", "tombstone_for"]
