"""Push: each active tenant's Tripletex key subscribed to customer, project and employee events,
delivered to our receiver (``intake/webhooks.py``) and signed with the tenant's own secret.

Subscribing is never a reason to stop: a key without permission, Tripletex refusing, or no
``SVENN_SYNC_WEBHOOK_BASE_URL`` leaves the tenant on polling alone, which the integration's
push note says in one sentence (``last_error`` stays for what stops the sync).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from pydantic import SecretStr

from config.settings import Settings
from connectors.errors import ApiError, PermissionDeniedError
from connectors.tripletex import mapping as m
from connectors.tripletex.client import TripletexClient
from connectors.tripletex.subscriptions import NewSubscription
from store.state import StateStore
from store.webhooks import (
    HEALTHY,
    POLLING,
    ensure_webhook_secret,
    pushed_tenants,
    set_push_state,
)
from sync.entities import SPECS
from sync.subscriptions import Seen, plan_subscriptions, plan_unsubscribe, receiver_url
from sync.webhook_events import PUSHED_ENTITIES
from tasks.fleet import describe_error
from tasks.tenant import tripletex_client

logger = logging.getLogger(__name__)

# The fields each delivery's value holds: those the sync reads (the value itself is never
# trusted; the tick reads the record again).
SUBSCRIBED_FIELDS = {entity.value: m.field_selection(SPECS[entity]) for entity in PUSHED_ENTITIES}
NOT_CONFIGURED = (
    "SVENN_SYNC_WEBHOOK_BASE_URL is not set, so no Tripletex webhooks are subscribed: "
    "changes are found by polling alone."
)
_said_not_configured = False


@dataclass(frozen=True)
class PushOutcome:
    """Where a tenant's push stands after subscribing: healthy or polling, why, and which
    events had to be re-created (found disabled or gone)."""

    status: str
    note: str
    recreated: tuple[str, ...] = ()


def _polling(settings: Settings, why: str) -> str:
    every = f"{settings.realtime_poll_seconds:g} s"
    return f"{why}: changes are found by polling every {every}."


async def subscribe(
    settings: Settings, store: StateStore, tenant: str, tripletex: TripletexClient
) -> PushOutcome:
    """Make the tenant's subscriptions what they should be (idempotent: a rerun changes
    nothing), and record the outcome as the integration's push status."""
    with store.sessions() as session:
        was_healthy = tenant in pushed_tenants(session, [tenant])
    outcome = await _subscribe(settings, store, tenant, tripletex)
    with store.sessions.begin() as session:
        set_push_state(session, tenant, outcome.status, outcome.note)
    if not was_healthy:  # a first subscription re-creates nothing
        outcome = PushOutcome(outcome.status, outcome.note)
    return outcome


async def _subscribe(
    settings: Settings, store: StateStore, tenant: str, tripletex: TripletexClient
) -> PushOutcome:
    global _said_not_configured
    if settings.webhook_base_url is None:
        if not _said_not_configured:  # said once per process; the push note says it per tenant
            logger.info(NOT_CONFIGURED)
            _said_not_configured = True
        return PushOutcome(POLLING, NOT_CONFIGURED)
    with store.sessions.begin() as session:
        secret = ensure_webhook_secret(session, store.cipher, tenant)
    url = receiver_url(settings.webhook_base_url, tenant)
    try:
        seen = [Seen(**vars(s)) for s in await tripletex.list_subscriptions()]
        plan = plan_subscriptions(tenant, url, SUBSCRIBED_FIELDS, seen)
        await tripletex.delete_subscriptions(plan.delete)
        await tripletex.create_subscriptions(
            [NewSubscription(e, url, SUBSCRIBED_FIELDS[e.split(".")[0]]) for e in plan.create],
            secret,
        )
    except PermissionDeniedError:
        why = "Tripletex does not let this key subscribe to webhooks (no permission)"
        return PushOutcome(POLLING, _polling(settings, why))
    except ApiError as error:
        why = f"Subscribing to Tripletex webhooks failed ({describe_error(error).rstrip('.')})"
        return PushOutcome(POLLING, _polling(settings, why))
    recreated = tuple(e for e, _ in plan.disabled) + plan.gone
    note = "Tripletex webhooks are subscribed; the Tripletex poll is the safety net"
    return PushOutcome(
        HEALTHY, f"{note}, every {settings.realtime_fallback_poll_seconds:g} s.", recreated
    )


async def subscribe_tenant(settings: Settings, store: StateStore, tenant: str) -> PushOutcome:
    """:func:`subscribe` with the tenant's stored Tripletex key."""
    token = stored_token(store, tenant)
    if token is None:
        return PushOutcome(POLLING, "No Tripletex key is stored.")
    async with tripletex_client(settings, token) as tripletex:
        return await subscribe(settings, store, tenant, tripletex)


def stored_token(store: StateStore, tenant: str) -> SecretStr | None:
    """The tenant's Tripletex key, decrypted (``None``: none stored)."""
    from store.integrations import get_integration

    with store.sessions() as session:
        integration = get_integration(session, tenant)
        encrypted = integration.employee_token_encrypted if integration else None
    return store.cipher.decrypt(encrypted) if encrypted else None


async def unsubscribe(settings: Settings, store: StateStore, tenant: str, token: SecretStr) -> str:
    """Delete the tenant's subscriptions (it was turned off); one sentence of what happened."""
    try:
        async with tripletex_client(settings, token) as tripletex:
            seen = [Seen(**vars(s)) for s in await tripletex.list_subscriptions()]
            ours = plan_unsubscribe(tenant, seen)
            await tripletex.delete_subscriptions(ours)
    except ApiError as error:
        note = (
            f"Its Tripletex webhooks could not be deleted ({describe_error(error).rstrip('.')}); "
            "deliveries are refused while it is off."
        )
    else:
        note = f"Its {len(ours)} Tripletex webhook subscriptions are deleted."
    with store.sessions.begin() as session:
        set_push_state(session, tenant, POLLING, note)
    return note


def checked_before(at: dt.datetime | None, now: dt.datetime, every: dt.timedelta) -> bool:
    """Whether a push status checked ``at`` is due for its next check."""
    if at is None:
        return True
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return now - at >= every


async def push_for_active(settings: Settings, store: StateStore, tenant: str) -> PushOutcome:
    """Subscribe a tenant that just became active; never raises (push is an accelerator:
    whatever goes wrong, the tenant is synced by polling, and its push note says why)."""
    try:
        return await subscribe_tenant(settings, store, tenant)
    except Exception as error:  # push must never undo an activation
        note = _polling(
            settings,
            f"Subscribing to Tripletex webhooks failed ({describe_error(error).rstrip('.')})",
        )
        with store.sessions.begin() as session:
            set_push_state(session, tenant, POLLING, note)
        return PushOutcome(POLLING, note)


def due_for_check(store: StateStore, now: dt.datetime, every: dt.timedelta) -> list[str]:
    """Active tenants whose push status was last checked ``every`` ago or longer."""
    from sqlalchemy import select

    from store.models import Integration, IntegrationStatus

    with store.sessions() as session:
        rows = session.execute(
            select(Integration.tenant, Integration.push_checked_at).where(
                Integration.status == IntegrationStatus.ACTIVE.value
            )
        ).all()
    return sorted(t for t, at in rows if checked_before(at, now, every))


async def check_subscriptions(
    settings: Settings, store: StateStore, now: dt.datetime, every: dt.timedelta
) -> dict[str, PushOutcome]:
    """The slow health check: every active tenant not checked for ``every`` has its
    subscriptions made right again (disabled or gone ones re-created, which is reported)."""
    if settings.webhook_base_url is None:
        return {}
    return {t: await push_for_active(settings, store, t) for t in due_for_check(store, now, every)}
