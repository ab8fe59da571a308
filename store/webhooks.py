"""Webhook state: each tenant's HMAC secret (encrypted like the keys) and the deliveries the
receiver recorded, until the realtime tick takes them up.

A delivery is one row per tenant and ``idempotency-key``, so a retried or replayed delivery
records nothing new. Rows the tick has read keep their key (``taken_at`` set) for
:data:`KEEP_TAKEN`, so a replay within that time is still recognised.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Integration, WebhookEvent
from store.token_cipher import TokenCipher

KEEP_TAKEN = dt.timedelta(days=7)
HEALTHY = "healthy"
POLLING = "polling"


@dataclass(frozen=True)
class DeliveryGate:
    """What the receiver needs to judge a delivery for one tenant: the integration's status
    and its encrypted HMAC secret (``None`` before the tenant was ever subscribed)."""

    status: str
    secret_encrypted: str | None


def delivery_gate(session: Session, tenant: str) -> DeliveryGate | None:
    """The tenant's :class:`DeliveryGate` (``None``: no integration)."""
    query = select(Integration.status, Integration.webhook_secret_encrypted).where(
        Integration.tenant == tenant
    )
    row = session.execute(query).one_or_none()
    return None if row is None else DeliveryGate(row.status, row.webhook_secret_encrypted)


def ensure_webhook_secret(session: Session, cipher: TokenCipher, tenant: str) -> SecretStr:
    """The tenant's HMAC secret, made (random, 256 bits) and stored encrypted on first use."""
    integration = session.scalars(
        select(Integration).where(Integration.tenant == tenant).with_for_update()
    ).one()
    if integration.webhook_secret_encrypted:
        return cipher.decrypt(integration.webhook_secret_encrypted)
    secret = SecretStr(secrets.token_urlsafe(32))
    integration.webhook_secret_encrypted = cipher.encrypt(secret)
    session.flush()
    return secret


def record_delivery(
    session: Session,
    tenant: str,
    idempotency_key: str,
    entity: str,
    record_id: str,
    kind: str,
) -> bool:
    """Record one delivery; ``False`` when its idempotency key was recorded before."""
    seen = select(WebhookEvent.id).where(
        WebhookEvent.tenant == tenant, WebhookEvent.idempotency_key == idempotency_key
    )
    if session.execute(seen).first() is not None:
        return False
    try:
        with session.begin_nested():  # two copies arriving at once: the second one loses
            session.add(
                WebhookEvent(
                    tenant=tenant,
                    idempotency_key=idempotency_key,
                    entity=entity,
                    record_id=record_id,
                    kind=kind,
                    received_at=dt.datetime.now(dt.UTC),
                )
            )
    except IntegrityError:
        return False
    return True


def set_push_state(session: Session, tenant: str, status: str, note: str) -> None:
    """Record whether the tenant's subscriptions are healthy (``HEALTHY``) or it is on
    polling alone (``POLLING``), with one sentence that says why."""
    integration = session.scalars(select(Integration).where(Integration.tenant == tenant)).one()
    integration.push_status, integration.push_note = status, note
    integration.push_checked_at = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class PollClock:
    """Those of some tenants whose subscriptions are healthy, and when each tenant's Tripletex
    checksums were last polled (absent: never)."""

    healthy: set[str]
    polled_at: dict[str, dt.datetime]


def poll_clock(session: Session, tenants: list[str]) -> PollClock:
    """The :class:`PollClock` of ``tenants`` (one query per 500)."""
    healthy: set[str] = set()
    polled: dict[str, dt.datetime] = {}
    for start in range(0, len(tenants), 500):
        query = select(
            Integration.tenant, Integration.push_status, Integration.tripletex_polled_at
        ).where(Integration.tenant.in_(tenants[start : start + 500]))
        for tenant, status, at in session.execute(query):
            if status == HEALTHY:
                healthy.add(tenant)
            if at is not None:
                polled[tenant] = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return PollClock(healthy, polled)


def mark_polled(session: Session, tenants: list[str], at: dt.datetime) -> None:
    """Note that these tenants' Tripletex checksums were polled ``at`` (by a good tick)."""
    for start in range(0, len(tenants), 500):
        session.execute(
            update(Integration)
            .where(Integration.tenant.in_(tenants[start : start + 500]))
            .values(tripletex_polled_at=at)
        )


def pushed_tenants(session: Session, tenants: list[str]) -> set[str]:
    """Those of ``tenants`` whose subscriptions were last found healthy."""
    query = select(Integration.tenant).where(
        Integration.tenant.in_(tenants), Integration.push_status == HEALTHY
    )
    return set(session.scalars(query))


def waiting_tenants(session: Session) -> set[str]:
    """Tenants with recorded deliveries no tick has read yet (one indexed query)."""
    query = select(WebhookEvent.tenant).where(WebhookEvent.taken_at.is_(None)).distinct()
    return set(session.scalars(query))


@dataclass(frozen=True)
class WaitingEvent:
    """A recorded delivery the tick is about to read: its row id and the record it names."""

    id: int
    entity: str
    record_id: str


def waiting_events(session: Session, tenants: list[str]) -> dict[str, list[WaitingEvent]]:
    """The waiting deliveries of ``tenants``, oldest first (one query per 500 tenants)."""
    found: dict[str, list[WaitingEvent]] = {}
    for start in range(0, len(tenants), 500):
        query = (
            select(WebhookEvent)
            .where(
                WebhookEvent.taken_at.is_(None),
                WebhookEvent.tenant.in_(tenants[start : start + 500]),
            )
            .order_by(WebhookEvent.id)
        )
        for row in session.scalars(query):
            found.setdefault(row.tenant, []).append(WaitingEvent(row.id, row.entity, row.record_id))
    return found


def take_events(session: Session, ids: list[int], at: dt.datetime) -> None:
    """Mark deliveries as read by a tick that succeeded (their keys stay, for dedupe)."""
    for start in range(0, len(ids), 500):
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_(ids[start : start + 500]))
            .values(taken_at=at)
        )


def forget_taken(session: Session, before: dt.datetime) -> int:
    """Delete deliveries read before ``before`` (:data:`KEEP_TAKEN` ago); how many."""
    result = session.execute(
        delete(WebhookEvent).where(
            WebhookEvent.taken_at.is_not(None), WebhookEvent.taken_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
