"""Survivors of deletes (``sync.tombstones``), stored per tenant so a restart keeps them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session

from store.models import Link
from store.models import Tombstone as TombstoneRow
from sync.records import Entity, System
from sync.tombstones import Tombstone


def remember_survivors(session: Session, tenant: str, tombstones: Iterable[Tombstone]) -> None:
    """Store tombstones (a survivor remembered before replaces its older tombstone)."""
    for t in tombstones:
        session.execute(
            delete(TombstoneRow).where(
                TombstoneRow.tenant == tenant,
                TombstoneRow.entity == t.entity.value,
                TombstoneRow.system == t.system.value,
                TombstoneRow.record_id == t.record_id,
            )
        )
        session.add(
            TombstoneRow(
                tenant=tenant,
                entity=t.entity.value,
                system=t.system.value,
                record_id=t.record_id,
                fingerprint=t.fingerprint,
                deleted_id=t.deleted_id,
            )
        )


def tombstones_for(session: Session, tenant: str, entity: Entity) -> list[Tombstone]:
    """The tenant's tombstones of ``entity`` whose survivor no link covers (a survivor linked
    again, after a person changed it, is an ordinary linked record)."""
    svenn_linked = exists().where(
        Link.tenant == tenant, Link.entity == entity.value, Link.svenn_id == TombstoneRow.record_id
    )
    tripletex_linked = exists().where(
        Link.tenant == tenant,
        Link.entity == entity.value,
        Link.tripletex_id == TombstoneRow.record_id,
    )
    query = select(TombstoneRow).where(
        TombstoneRow.tenant == tenant,
        TombstoneRow.entity == entity.value,
        ~and_(TombstoneRow.system == System.SVENN.value, svenn_linked),
        ~and_(TombstoneRow.system == System.TRIPLETEX.value, tripletex_linked),
    )
    return [
        Tombstone(entity, System(row.system), row.record_id, row.fingerprint, row.deleted_id)
        for row in session.scalars(query)
    ]
