"""What a tenant (or ops for them) can do to its integration: turn it off, turn it on again, and
replace a revoked Tripletex key.

One place for the rules, which the HTTP routes (:mod:`intake.tenant_control`) and the CLI
(``svenn-sync disable|enable|keys replace``) both call. Every refusal is a :class:`Refusal`:
a stable code and one sentence, with nothing changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import SecretStr

from config.settings import Settings
from store.integrations import erase_keys, get_integration, record_event, transition
from store.leases import INITIAL_SYNC, live_lease
from store.models import IntegrationStatus as S
from store.tenancy import parties_of
from tasks.activation import ActivationRefused, Refusal, check_tripletex, validate_and_store
from tasks.push import stored_token, unsubscribe
from tasks.tenant import state_store

# A new Tripletex key is taken while the integration is on (or waits for its review).
KEY_REPLACEABLE = frozenset({S.REVIEW, S.APPROVED, S.SYNCING, S.ACTIVE, S.FAILED})


@dataclass(frozen=True)
class Done:
    """What a control action did: a stable code, one sentence, the status it left."""

    code: str
    message: str
    status: str
    keys_erased: bool = False


def unknown_tenant(tenant: str) -> Refusal:
    """The refusal for a tenant that has no integration."""
    return Refusal("UNKNOWN_TENANT", f"There is no integration for {tenant}.")


def deactivate(
    settings: Settings, tenant: str, by: str, reason: str | None = None
) -> Done | Refusal:
    """Turn the integration off ("Slå av"): ``disabled`` (``off`` while still in review), the
    stored keys erased, links, cursors and the hours ledger kept. Ticks, hours exports,
    retries and reconciliations skip it from their next round. Twice is the same as once."""
    store = state_store(settings)
    with store.sessions.begin() as session:
        integration = get_integration(session, tenant, lock=True)
        if integration is None:
            return unknown_tenant(tenant)
        status = S(integration.status)
        if status in (S.DISABLED, S.OFF, S.REJECTED):
            erase_keys(integration)
            return Done(
                "ALREADY_OFF",
                f"The integration {tenant} is already off ({status.value}); no key is stored.",
                status.value,
                keys_erased=True,
            )
        ttl = dt.timedelta(seconds=settings.sync_lease_seconds)
        if live_lease(session, tenant, INITIAL_SYNC, ttl=ttl) is not None:
            return Refusal(
                "INITIAL_SYNC_RUNNING",
                f"The initial sync of {tenant} is running; turn it off when it has finished.",
            )
        to = S.OFF if status is S.REVIEW else S.DISABLED  # in review: the request is withdrawn
        transition(session, tenant, to, actor=by, reason=reason or "turned off")
        erase_keys(integration)
    return Done(
        "TURNED_OFF",
        f"The integration {tenant} is turned off and the stored Tripletex and Svenn keys are "
        "erased; nothing is synced until it is turned on again with keys of the same accounts.",
        to.value,
        keys_erased=True,
    )


async def turn_off(
    settings: Settings, tenant: str, by: str, reason: str | None = None
) -> Done | Refusal:
    """:func:`deactivate`, and the tenant's Tripletex webhook subscriptions deleted with the
    key it held (before the key was erased). A subscription that cannot be deleted does no
    harm: the receiver refuses its deliveries while the integration is off."""
    store = state_store(settings)
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        subscribed = integration is not None and integration.webhook_secret_encrypted is not None
    token = stored_token(store, tenant) if subscribed else None
    outcome = deactivate(settings, tenant, by, reason)
    if isinstance(outcome, Done) and outcome.code == "TURNED_OFF" and token is not None:
        await unsubscribe(settings, store, tenant, token)
    return outcome


async def turn_on(
    settings: Settings, tenant: str, token: SecretStr, svenn_api_key: SecretStr, by: str
) -> Done | Refusal:
    """Turn an integration that was approved and turned off on again: the keys must open the
    same Tripletex company and Svenn tenant; no new review, ``syncing`` until the
    reconciliation (the ``turn-on-again`` flow, started by the caller) has run."""
    with state_store(settings).sessions() as session:
        integration = get_integration(session, tenant)
        if integration is None:
            return unknown_tenant(tenant)
        if integration.status != S.DISABLED.value:
            return Refusal(
                "NOT_TURNED_OFF",
                f"The integration {tenant} is {integration.status}, not turned off; only a "
                "turned-off integration can be turned on again.",
            )
    taken = await validate_and_store(settings, tenant, token, svenn_api_key, by)
    if isinstance(taken, Refusal):
        return taken
    return Done(
        "TURNING_ON",
        f"The keys are valid and stored; {tenant} reconciles what changed while it was off "
        "and is then active again.",
        S.SYNCING.value,
    )


async def replace_tripletex_key(
    settings: Settings, tenant: str, token: SecretStr, by: str
) -> Done | Refusal:
    """Store a new Tripletex key of the same company (validated at once, encrypted), erasing
    the old one; the next good tick clears the error the old key left. Another company's key
    is refused and nothing changes."""
    store = state_store(settings)
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        if integration is None:
            return unknown_tenant(tenant)
        refusal = _not_replaceable(tenant, S(integration.status))
        if refusal is not None:
            return refusal
        bound = parties_of(integration)
    try:
        company_id, company_name, _ = await check_tripletex(settings, token)
    except ActivationRefused as refused:
        return Refusal.of(refused)
    if bound is None or company_id != bound.tripletex_company_id:
        return Refusal(
            "OTHER_COMPANY",
            f"This key belongs to Tripletex company {company_name or 'unnamed'} ({company_id}), "
            f"but {tenant} is connected to {bound.company if bound else 'no company yet'}; "
            "create the key in that company under 'API-tilgang'.",
        )
    with store.sessions.begin() as session:
        integration = get_integration(session, tenant, lock=True)
        if integration is None:
            return unknown_tenant(tenant)
        refusal = _not_replaceable(tenant, S(integration.status))
        if refusal is not None:  # turned off while the key was checked
            return refusal
        integration.employee_token_encrypted = store.cipher.encrypt(token)
        record_event(session, integration, actor=by, reason="new Tripletex key stored")
        status = integration.status
    return Done(
        "KEY_REPLACED",
        f"The new Tripletex key for {bound.company} is valid and stored encrypted, and the old "
        "one is erased; the next successful sync clears the error.",
        status,
    )


def _not_replaceable(tenant: str, status: S) -> Refusal | None:
    if status in KEY_REPLACEABLE:
        return None
    return Refusal(
        "NOT_ON",
        f"The integration {tenant} is {status.value}; turn it on with both keys "
        f"(POST /tenants/{tenant}/activation) instead of replacing one.",
    )
