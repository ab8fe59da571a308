"""Links between a Svenn record and its Tripletex twin (one to one, enforced by the database)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.db import insert_for
from store.models import Link


@dataclass(frozen=True)
class NewLink:
    """A link to store, with the fingerprints and the agreed state of both sides."""

    entity: str
    svenn_id: str
    tripletex_id: str
    svenn_fingerprint: str | None = None
    tripletex_fingerprint: str | None = None
    base_snapshot: dict[str, Any] | None = None
    match_key: str | None = None


def save_links(session: Session, tenant: str, links: Iterable[NewLink]) -> int:
    """Insert links; an identical pair already stored is refreshed, a conflicting one refused.

    A conflict (the same Svenn id with another Tripletex id, or the reverse) raises
    ``sqlalchemy.exc.IntegrityError``: the database is the last guard against double links.
    """
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "tenant": tenant,
            "entity": link.entity,
            "svenn_id": link.svenn_id,
            "tripletex_id": link.tripletex_id,
            "svenn_fingerprint": link.svenn_fingerprint,
            "tripletex_fingerprint": link.tripletex_fingerprint,
            "base_snapshot": link.base_snapshot,
            "match_key": link.match_key,
            "synced_at": now,
            "created_at": now,
        }
        for link in links
    ]
    if not rows:
        return 0
    session.flush()  # a statement on the table is not autoflushed: pending changes first
    statement = _upsert_links(session.get_bind().dialect.name)
    written = [
        int(getattr(session.execute(statement, rows[start : start + 500]), "rowcount", -1))
        for start in range(0, len(rows), 500)
    ]
    # Every row inserted or refreshed: none was skipped, so none conflicts. A driver that
    # cannot count the rows of a batch (psycopg says -1) is checked row by row.
    if min(written) < 0 or sum(written) != len(rows):
        _refuse_silent_conflicts(session, tenant, rows)
    return len(rows)


@functools.cache
def _upsert_links(dialect: str) -> Any:
    """The upsert of links, built once per dialect (on the table, not the mapped class: ORM
    bulk inserts cost a quarter more per row, and building the statement each call another
    tenth). A row whose Svenn id is stored with another Tripletex id is skipped by the WHERE,
    and refused after by :func:`_refuse_silent_conflicts`."""
    insert = insert_for(dialect)
    table = Link.metadata.tables[Link.__tablename__]
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=["tenant", "entity", "svenn_id"],
        set_={
            "svenn_fingerprint": statement.excluded.svenn_fingerprint,
            "tripletex_fingerprint": statement.excluded.tripletex_fingerprint,
            "base_snapshot": statement.excluded.base_snapshot,
            "synced_at": statement.excluded.synced_at,
        },
        where=table.c.tripletex_id == statement.excluded.tripletex_id,
    )


def _refuse_silent_conflicts(session: Session, tenant: str, rows: list[dict[str, Any]]) -> None:
    # ON CONFLICT ... WHERE skips (silently) a row whose Svenn id is linked elsewhere: check.
    wanted = {(r["entity"], r["svenn_id"]): r["tripletex_id"] for r in rows}
    # The three columns only: loading each link whole (its base JSON decoded) was most of
    # what storing a batch of links cost.
    # Only the entities stored are asked for (a row of another entity is never looked up),
    # so the query can use the (tenant, entity, svenn_id) index.
    query = select(Link.entity, Link.svenn_id, Link.tripletex_id).where(
        Link.tenant == tenant,
        Link.entity.in_(sorted({r["entity"] for r in rows})),
        Link.svenn_id.in_([r["svenn_id"] for r in rows]),
    )
    stored = {
        (entity, svenn_id): tripletex_id
        for entity, svenn_id, tripletex_id in session.execute(query)
    }
    for key, tripletex_id in wanted.items():
        if stored.get(key) != tripletex_id:
            raise IntegrityError(
                "save_links",
                {"entity": key[0], "svenn_id": key[1]},
                ValueError(
                    f"{key[0]} svenn:{key[1]} is already linked to "
                    f"tripletex:{stored.get(key)}, not tripletex:{tripletex_id}"
                ),
            )


def links_for(session: Session, tenant: str, entity: str) -> list[Link]:
    """Every link of one entity for the tenant."""
    query = select(Link).where(Link.tenant == tenant, Link.entity == entity).order_by(Link.id)
    return list(session.scalars(query))


def link_ids(session: Session, tenant: str, entity: str) -> list[tuple[str, str, str | None]]:
    """(Svenn id, Tripletex id, match key) of every link of one entity, as ``links_for``
    orders them, without loading each link whole (the checks after a sync read only these)."""
    query = (
        select(Link.svenn_id, Link.tripletex_id, Link.match_key)
        .where(Link.tenant == tenant, Link.entity == entity)
        .order_by(Link.id)
    )
    return list(session.execute(query).tuples().all())


def link_states(
    session: Session, tenant: str, entity: str, *, unagreed_only: bool = False
) -> list[tuple[str, str, str | None, str | None, dict[str, Any] | None]]:
    """(Svenn id, Tripletex id, Svenn fingerprint, Tripletex fingerprint, base snapshot) of
    the links of one entity, as ``links_for`` orders them; with ``unagreed_only``, only the
    links a match stored while the two differed (no fingerprints on either side)."""
    query = select(
        Link.svenn_id,
        Link.tripletex_id,
        Link.svenn_fingerprint,
        Link.tripletex_fingerprint,
        Link.base_snapshot,
    ).where(Link.tenant == tenant, Link.entity == entity)
    if unagreed_only:
        query = query.where(Link.svenn_fingerprint.is_(None), Link.tripletex_fingerprint.is_(None))
    return list(session.execute(query.order_by(Link.id)).tuples().all())


def tripletex_to_svenn(session: Session, tenant: str, entity: str) -> dict[str, str]:
    """Map of Tripletex id → Svenn id for one entity, from :func:`link_ids` (an initial sync
    asks for it a dozen times, and loading every link whole, its base JSON decoded, was a
    tenth of its CPU)."""
    return {
        tripletex_id: svenn_id for svenn_id, tripletex_id, _ in link_ids(session, tenant, entity)
    }


def created_pairs(session: Session, tenant: str, entity: str) -> list[tuple[str, str]]:
    """(Svenn id, Tripletex id) of links whose record the sync created on one side, so both
    sides held the same content when linked (a matched pair may differ, e.g. a name typo)."""
    return [
        (link.svenn_id, link.tripletex_id)
        for link in links_for(session, tenant, entity)
        if (link.match_key or "").startswith("created_in")
    ]


def drop_link(session: Session, tenant: str, entity: str, svenn_id: str, tripletex_id: str) -> bool:
    """Delete the link of exactly this pair (the records stay as they are); False if none."""
    link = session.scalars(
        select(Link).where(
            Link.tenant == tenant,
            Link.entity == entity,
            Link.svenn_id == svenn_id,
            Link.tripletex_id == tripletex_id,
        )
    ).first()
    if link is None:
        return False
    session.delete(link)
    session.flush()
    return True


def link_holding(
    session: Session, tenant: str, entity: str, system: str, record_id: str
) -> Link | None:
    """The link that holds this record of ``system`` ("svenn" or "tripletex"), if any."""
    column = Link.svenn_id if system == "svenn" else Link.tripletex_id
    query = select(Link).where(Link.tenant == tenant, Link.entity == entity, column == record_id)
    return session.scalars(query).first()
