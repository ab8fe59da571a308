"""What needs a person becomes a Prefect event; automations on the server notify ops from it.

Four kinds, each named ``svenn-sync.<kind>`` with the tenant as the event's resource
(``svenn-sync.tenant.<tenant>``) and the payload's ``message`` as the one sentence ops read:

- ``review-requested``: a tenant's keys are in review (both accounts, a link to the paused run);
- ``integration-failed``: a run gave up, or a stored key stopped working;
- ``integration-lagging``: an active integration had no successful tick for longer than
  ``SVENN_SYNC_ALERT_LAG_SECONDS``;
- ``hours-held``: approved hours held back for longer than ``SVENN_SYNC_ALERT_HOURS_HELD_SECONDS``.

Each occurrence is sent once: it is claimed in the store first (``alerts_sent``), and only the
first claim emits. The event's id is derived from the same occurrence, so a second emission
could not count twice on the server either. No key is ever part of an event: the messages are
built from the store's secret-free sentences and names.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from prefect.events import emit_event

from config.settings import Settings
from store.alerts import (
    alert_sent_at,
    claim_alert,
    held_hours,
    lagging_integrations,
    last_ok_tick,
)
from store.state import StateStore
from store.tenancy import Parties
from sync.rules import ReasonCode

NAMESPACE = "svenn-sync"
_EVENT_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://svenn-sync/alerts")

# Approved hours that a cause keeps out of Tripletex until someone acts. Not here: hours that
# Svenn's rules never export (not approved, zero, no project) and the trail of a hand change in
# Tripletex (resolved by the run that logs it).
HOURS_HELD_REASONS = frozenset(
    {
        ReasonCode.HOURS_LOCKED,
        ReasonCode.HOURS_EMPLOYEE_NOT_LINKED,
        ReasonCode.HOURS_PROJECT_NOT_LINKED,
        ReasonCode.HOURS_NO_ACTIVITY,
        ReasonCode.HOURS_ENTRY_EXISTS,
        ReasonCode.MALFORMED_RECORD,
        ReasonCode.TARGET_REJECTED,
        ReasonCode.TARGET_UNAVAILABLE,
    }
)


class AlertKind(StrEnum):
    """What needs a person (the event is ``svenn-sync.<value>``)."""

    REVIEW_REQUESTED = "review-requested"
    INTEGRATION_FAILED = "integration-failed"
    INTEGRATION_LAGGING = "integration-lagging"
    HOURS_HELD = "hours-held"
    SUBSCRIPTION_RECREATED = "subscription-recreated"

    @property
    def event(self) -> str:
        """The Prefect event name."""
        return f"{NAMESPACE}.{self.value}"


def tenant_resource(tenant: str) -> dict[str, str]:
    """The event's resource: the tenant's integration."""
    return {"prefect.resource.id": f"{NAMESPACE}.tenant.{tenant}", "prefect.resource.name": tenant}


def raise_alert(
    store: StateStore,
    kind: AlertKind,
    tenant: str,
    occurrence: str,
    message: str,
    **details: Any,
) -> bool:
    """Emit ``kind`` for ``tenant`` unless this occurrence was sent already; True if emitted."""
    with store.sessions.begin() as session:
        if not claim_alert(session, tenant, kind.value, occurrence):
            return False
    related = []
    if details.get("flow_run_id"):
        related.append(
            {
                "prefect.resource.id": f"prefect.flow-run.{details['flow_run_id']}",
                "prefect.resource.role": "flow-run",
            }
        )
    emit_event(
        kind.event,
        resource=tenant_resource(tenant),
        related=related,
        payload={"tenant": tenant, "message": message, **details},
        id=uuid.uuid5(_EVENT_IDS, f"{kind.value}/{tenant}/{occurrence}"),
    )
    return True


def review_requested(
    store: StateStore, tenant: str, parties: Parties, run_id: str, run_url: str | None
) -> bool:
    """A tenant pasted keys: ops are asked to review (once per activation run)."""
    where = run_url or f"flow run {run_id}"
    message = (
        f"{tenant} asks to turn on the integration ({parties.describe()}); review the plan "
        f"and approve or reject it in the paused activation run: {where}"
    )
    return raise_alert(
        store,
        AlertKind.REVIEW_REQUESTED,
        tenant,
        run_id,
        message,
        tripletex_company=parties.company,
        svenn_tenant=parties.svenn_tenant,
        flow_run_id=run_id,
        link=where,
    )


def integration_failed(
    store: StateStore, tenant: str, sentence: str, occurrence: str, run_id: str | None = None
) -> bool:
    """A run gave up or a key stopped working: ``sentence`` says what and what to do."""
    return raise_alert(
        store,
        AlertKind.INTEGRATION_FAILED,
        tenant,
        occurrence,
        f"{tenant}: {sentence}",
        reason=sentence,
        flow_run_id=run_id,
    )


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def alert_lagging(store: StateStore, settings: Settings, now: dt.datetime) -> list[str]:
    """Tell ops of every active integration without a successful tick for longer than the
    limit, once per lag (until a tick succeeds again); the tenants told now."""
    lag = dt.timedelta(seconds=settings.alert_lag_seconds)
    with store.sessions() as session:
        lagging = lagging_integrations(session, now, lag)
    told = []
    for found in lagging:
        what = "no successful sync" if found.ever_synced else "no successful sync since activation"
        message = (
            f"{found.tenant} has had {what} for {_minutes(now - found.since)} minutes "
            f"(since {found.since:%Y-%m-%d %H:%M} UTC); last error: {found.last_error or 'none'}. "
            "Check that the realtime-sync deployment runs and what its last run says."
        )
        if raise_alert(
            store,
            AlertKind.INTEGRATION_LAGGING,
            found.tenant,
            found.since.isoformat(),
            message,
            since=found.since.isoformat(),
            last_error=found.last_error,
        ):
            told.append(found.tenant)
    return told


def alert_held_hours(store: StateStore, settings: Settings, now: dt.datetime) -> list[str]:
    """Tell ops of every tenant with approved hours held back for longer than the limit; again
    only when more hours have passed the limit since; the tenants told now."""
    older_than = now - dt.timedelta(seconds=settings.alert_hours_held_seconds)
    with store.sessions() as session:
        held = held_hours(session, older_than, [r.value for r in HOURS_HELD_REASONS])
    told = []
    for found in held:
        message = (
            f"{found.tenant}: {found.rows} approved hour(s) held back from Tripletex since "
            f"{found.oldest:%Y-%m-%d %H:%M} UTC ({', '.join(found.reasons)}); see "
            f"`svenn-sync failures list {found.tenant} --entity hours`."
        )
        if raise_alert(
            store,
            AlertKind.HOURS_HELD,
            found.tenant,
            f"row-{found.newest_row_id}",
            message,
            rows=found.rows,
            oldest=found.oldest.isoformat(),
            reasons=list(found.reasons),
        ):
            told.append(found.tenant)
    return told


def key_stopped_working(store: StateStore, tenant: str, sentence: str, run_id: str) -> bool:
    """A tick found a stored key refused: ``integration-failed`` once until a tick succeeds
    again (the occurrence is the last successful tick)."""
    with store.sessions() as session:
        since = last_ok_tick(session, tenant)
    occurrence = f"key-after-{since.isoformat() if since else 'never'}"
    return integration_failed(store, tenant, sentence, occurrence, run_id)


def where_review_went(store: StateStore, tenant: str, block: str | None) -> str:
    """One line for a person: whether ops were asked to review ``tenant``, and through what."""
    with store.sessions() as session:
        at = alert_sent_at(session, tenant, AlertKind.REVIEW_REQUESTED.value)
    if at is None:
        return f"No review notification was sent for {tenant}."
    channel = (
        f"the Prefect notification block {block!r} (automation of `svenn-sync prefect setup`)"
        if block
        else "Prefect's event feed only (set SVENN_SYNC_ALERT_BLOCK and run "
        "`svenn-sync prefect setup` on a server to have it sent to Slack, e-mail or a webhook)"
    )
    event = AlertKind.REVIEW_REQUESTED.event
    return f"Review notification: event {event} at {at:%H:%M:%S} UTC, to {channel}."


def subscriptions_recreated(
    store: StateStore, tenant: str, events: Sequence[str], now: dt.datetime
) -> bool:
    """Tell ops that the tenant's webhook subscriptions for ``events`` were found disabled or
    gone and were made again (each check that re-creates some is one occurrence)."""
    message = (
        f"The Tripletex webhook subscriptions of {tenant} for {', '.join(events)} were disabled "
        "or gone and are made again; the poll kept the tenant in sync meanwhile."
    )
    return raise_alert(
        store,
        AlertKind.SUBSCRIPTION_RECREATED,
        tenant,
        now.isoformat(),
        message,
        events=list(events),
    )
