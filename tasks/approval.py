"""The activation run's side of the approval gate: who it waits for, and its signs of life."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from store.activation_runs import beat, start_waiting, stop_waiting
from store.integrations import get_integration
from store.leases import LeaseHeldError
from store.models import IntegrationStatus
from store.state import StateStore
from store.tenancy import Parties, parties_of
from tasks.activation import Refusal

logger = logging.getLogger(__name__)


def take_review(
    store: StateStore, tenant: str, run_id: str, heartbeat_seconds: float
) -> Parties | Refusal:
    """Make ``run_id`` the tenant's activation run; refuse a tenant with no keys in review,
    or one whose earlier activation run is still alive and waiting."""
    with store.sessions.begin() as session:
        integration = get_integration(session, tenant, lock=True)
        parties = parties_of(integration) if integration else None
        has_keys = integration is not None and bool(
            integration.employee_token_encrypted and integration.svenn_api_key_encrypted
        )
        if integration is None or parties is None or not has_keys:
            return Refusal(
                "NO_KEYS",
                f"{tenant} has no validated keys; give them with `svenn-sync activate {tenant}` "
                "or the key intake first.",
            )
        if integration.status != IntegrationStatus.REVIEW.value:
            return Refusal(
                "NOT_IN_REVIEW",
                f"{tenant} is {integration.status}, not in review: there is nothing to approve.",
            )
        try:
            start_waiting(session, tenant, run_id, heartbeat_seconds)
        except LeaseHeldError as held:
            return Refusal(
                "ACTIVATION_RUN_WAITING",
                f"The activation run {held.holder} of {tenant} showed a sign of life "
                f"{held.age_seconds} s ago and may still be preparing the plan or waiting for a "
                f"decision: answer it with `svenn-sync approve {tenant} --by NAME` (which "
                f"decides itself if the run is gone); if its process stopped, it is taken for "
                f"gone in {held.wait_seconds} s and a new activation can start then.",
            )
    return parties


@contextmanager
def signs_of_life(store: StateStore, tenant: str, run_id: str, every: float) -> Iterator[None]:
    """Beat every ``every`` seconds (from a thread, so a blocking wait cannot stall it)."""
    stopped = threading.Event()

    def keep_beating() -> None:
        while not stopped.wait(every):
            try:
                with store.sessions.begin() as session:
                    beat(session, tenant, run_id)
            except Exception as error:  # a store hiccup must not end the beating
                logger.warning("heartbeat of %s's activation run failed: %r", tenant, error)

    thread = threading.Thread(target=keep_beating, name=f"approval-heartbeat-{tenant}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=every + 5)
        with store.sessions.begin() as session:
            stop_waiting(session, tenant, run_id)
