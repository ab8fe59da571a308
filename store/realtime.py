"""The realtime sync's state: what each tick polls from, and how each tenant's ticks went.

Per tenant and entity, the Tripletex poll keeps the list's ``versionDigest`` (cursor system
``tripletex``) and the ``id → version`` list it covers (system ``tripletex-versions``, JSON);
the Svenn feed keeps one cursor for all entities (system ``svenn``, entity ``feed``), and the
versions our last tick wrote to Svenn (entity ``feed-echoes``: their feed events are our own
writes coming back, and need no read). Write
them in the same transaction as the links and failed records of the changes they cover.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.cursors import get_cursor, set_cursor
from store.models import Cursor, Integration, Link

SVENN_FEED = ("svenn", "feed")
SVENN_ECHOES = ("svenn", "feed-echoes")
DIGEST = "tripletex"
VERSIONS = "tripletex-versions"


@dataclass(frozen=True)
class PollState:
    """Where the Tripletex poll of one entity stands (``digest`` None: never polled)."""

    digest: str | None
    versions: dict[str, int]


def svenn_cursor(session: Session, tenant: str) -> str | None:
    """The Svenn change-feed cursor (None: read everything once, then follow the feed)."""
    return get_cursor(session, tenant, *SVENN_FEED)


def set_svenn_cursor(session: Session, tenant: str, cursor: str) -> None:
    """Advance the Svenn feed cursor (with the changes it covers)."""
    set_cursor(session, tenant, *SVENN_FEED, cursor)


@dataclass(frozen=True)
class TickState:
    """Everything a tick starts from, read in one query: the Svenn feed cursor, the digest of
    the Tripletex poll per entity, and the Svenn versions our last tick wrote (its echoes in
    the feed). The poll's ``id → version`` lists are not in it: a tenant's lists hold every
    record it has (12,500 entries, 160 kB of JSON at 10,000 customers), and a quiet tick, whose
    polls all answer 304, needs none of them; :func:`poll_versions` reads one when needed."""

    cursor: str | None
    digests: dict[str, str | None]
    echoes: dict[str, dict[str, int]]


def tick_state(session: Session, tenant: str, entities: Iterable[str]) -> TickState:
    """The tenant's :class:`TickState` (one ``SELECT`` over its cursors)."""
    return tick_states(session, [tenant], entities)[tenant]


def tick_states(
    session: Session, tenants: Iterable[str], entities: Iterable[str]
) -> dict[str, TickState]:
    """:func:`tick_state` of many tenants (one ``SELECT`` per 500: a fleet tick's start)."""
    names, wanted = list(tenants), list(entities)
    rows: dict[str, dict[tuple[str, str], str]] = {t: {} for t in names}
    for start in range(0, len(names), 500):
        query = select(Cursor.tenant, Cursor.system, Cursor.entity, Cursor.value).where(
            Cursor.tenant.in_(names[start : start + 500]), Cursor.system != VERSIONS
        )
        for row in session.execute(query):
            rows[row.tenant][(row.system, row.entity)] = row.value
    return {tenant: _tick_state(found, wanted) for tenant, found in rows.items()}


def _tick_state(rows: Mapping[tuple[str, str], str], entities: Iterable[str]) -> TickState:
    digests = {entity: rows.get((DIGEST, entity)) for entity in entities}
    echoes_raw = rows.get(SVENN_ECHOES)
    echoes = json.loads(echoes_raw) if echoes_raw else {}
    return TickState(rows.get(SVENN_FEED), digests, echoes)


def set_svenn_echoes(
    session: Session, tenant: str, echoes: Mapping[str, Mapping[str, int]]
) -> None:
    """Store the Svenn versions this tick wrote, per entity (with the links they belong to)."""
    set_cursor(session, tenant, *SVENN_ECHOES, json.dumps(echoes, sort_keys=True))


def poll_versions(session: Session, tenant: str, entity: str) -> dict[str, int]:
    """The stored ``id → version`` list of one Tripletex entity (what its digest covers)."""
    raw = get_cursor(session, tenant, VERSIONS, entity)
    return {str(k): int(v) for k, v in json.loads(raw).items()} if raw else {}


def save_poll_state(session: Session, tenant: str, entity: str, state: PollState) -> None:
    """Store the digest with the id/version list it covers."""
    set_cursor(session, tenant, VERSIONS, entity, json.dumps(state.versions, sort_keys=True))
    set_cursor(session, tenant, DIGEST, entity, state.digest or "")


def update_link(
    session: Session,
    tenant: str,
    entity: str,
    svenn_id: str,
    *,
    svenn_fingerprint: str,
    tripletex_fingerprint: str,
    base: Mapping[str, Any],
) -> None:
    """Record what both sides hold after a tick (the new agreed base and fingerprints)."""
    session.execute(
        update(Link)
        .where(Link.tenant == tenant, Link.entity == entity, Link.svenn_id == svenn_id)
        .values(
            svenn_fingerprint=svenn_fingerprint,
            tripletex_fingerprint=tripletex_fingerprint,
            base_snapshot=dict(base),
            synced_at=dt.datetime.now(dt.UTC),
        )
    )


def drop_links(session: Session, tenant: str, entity: str, svenn_ids: Iterable[str]) -> None:
    """Forget links whose record is gone on one side (after its delete rule was applied)."""
    ids = list(svenn_ids)
    if ids:
        session.execute(
            delete(Link).where(Link.tenant == tenant, Link.entity == entity, Link.svenn_id.in_(ids))
        )


def mark_tick(
    session: Session, tenant: str, *, ok: bool, error: str | None = None, at: dt.datetime
) -> None:
    """Record a tick's outcome: a success clears ``last_error``; a failure sets it."""
    values: dict[str, Any] = (
        {"realtime_ok_at": at, "last_error": None}
        if ok
        else {"realtime_failed_at": at, "last_error": error}
    )
    session.execute(update(Integration).where(Integration.tenant == tenant).values(**values))


def mark_ticks_ok(session: Session, tenants: Iterable[str], *, at: dt.datetime) -> None:
    """Record a successful tick for many tenants at once (one statement per 500)."""
    names = list(tenants)
    for start in range(0, len(names), 500):
        session.execute(
            update(Integration)
            .where(Integration.tenant.in_(names[start : start + 500]))
            .values(realtime_ok_at=at, last_error=None)
        )


def lag_seconds(integration: Integration, now: dt.datetime) -> float | None:
    """How long ago the tenant's last successful tick was (None: it never had one)."""
    at = integration.realtime_ok_at
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return max(0.0, (now - at).total_seconds())


def links_by_svenn(session: Session, tenant: str, entity: str) -> dict[str, Link]:
    """Every link of one entity, by Svenn id."""
    query = select(Link).where(Link.tenant == tenant, Link.entity == entity)
    return {link.svenn_id: link for link in session.scalars(query)}
