"""Watch: every few minutes, tell ops what the ticks themselves cannot report.

A realtime run that is not running cannot say that it is not running, so lag is detected
here, on its own schedule: every active integration without a successful tick for longer than
``SVENN_SYNC_ALERT_LAG_SECONDS`` is reported (``svenn-sync.integration-lagging``), and so is
every tenant whose approved hours have been held back for longer than a day
(``svenn-sync.hours-held``). Each occurrence is reported once (see :mod:`tasks.alerts`).
Every ``push_check_seconds`` (default 15 minutes) each active tenant's Tripletex webhook
subscriptions are checked: disabled or gone ones are re-created and reported
(``svenn-sync.subscription-recreated``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.utilities.asyncutils import run_coro_as_sync

from config.settings import load_settings
from store.webhooks import KEEP_TAKEN, forget_taken
from tasks.alerts import alert_held_hours, alert_lagging, subscriptions_recreated
from tasks.push import PushOutcome, check_subscriptions
from tasks.report import tenant_run_name
from tasks.tenant import state_store


@flow(name="watch-integrations", retries=0, flow_run_name=tenant_run_name("watch"))
def watch_integrations(push_check_seconds: float = 900) -> dict[str, Any]:
    """Report lagging integrations and long-held hours (each occurrence once); re-create
    webhook subscriptions found disabled or gone, and report them."""
    logger = get_run_logger()
    settings = load_settings()
    store = state_store(settings)
    now = dt.datetime.now(dt.UTC)
    lagging = alert_lagging(store, settings, now)
    held = alert_held_hours(store, settings, now)
    if lagging or held:
        logger.warning("ops told: lagging %s; hours held %s", lagging or "-", held or "-")
    with store.sessions.begin() as session:  # read deliveries: kept a week, for dedupe
        forget_taken(session, now - KEEP_TAKEN)
    every = dt.timedelta(seconds=push_check_seconds)
    pushed: dict[str, PushOutcome] = (
        run_coro_as_sync(check_subscriptions(settings, store, now, every)) or {}
    )
    recreated = {t: list(o.recreated) for t, o in pushed.items() if o.recreated}
    for tenant, events in recreated.items():
        subscriptions_recreated(store, tenant, events, now)
        logger.warning("%s: webhook subscriptions re-created: %s", tenant, ", ".join(events))
    return {"lagging": lagging, "hours_held": held, "subscriptions_recreated": recreated}
