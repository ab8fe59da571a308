"""Change-feed cursors as data, advanced only after what they cover is applied or logged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from store.models import Cursor


def get_cursor(session: Session, tenant: str, system: str, entity: str) -> str | None:
    """The stored cursor, or ``None`` when the feed was never read."""
    row = session.get(Cursor, (tenant, system, entity))
    return row.value if row else None


def set_cursor(session: Session, tenant: str, system: str, entity: str, value: str) -> None:
    """Store the cursor (call in the same transaction that records the applied changes)."""
    row = session.get(Cursor, (tenant, system, entity))
    if row is None:
        session.add(Cursor(tenant=tenant, system=system, entity=entity, value=value))
    else:
        row.value = value
        row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
