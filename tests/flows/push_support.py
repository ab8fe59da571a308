"""Shared steps of the push tests: the intake served as the webhook receiver, the settings
pointing Tripletex's subscriptions at it, and the sandbox's view of the subscriptions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from config.settings import load_settings
from intake.app import create_app
from sandboxes.pair import SandboxPair
from sandboxes.runner import serve_in_thread
from store.models import Integration, WebhookEvent
from store.state import StateStore

INTAKE_TOKEN = "intake-bearer-for-push-tests"


@pytest.fixture
def receiver_root(sync_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The intake served (its receiver route included), and SVENN_SYNC_WEBHOOK_BASE_URL set
    to it, so subscriptions made from now on deliver there."""
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        monkeypatch.setenv("SVENN_SYNC_WEBHOOK_BASE_URL", root)
        load_settings.cache_clear()
        yield root
    load_settings.cache_clear()


def subscriptions(pair: SandboxPair, tenant: str | None = None) -> list[dict[str, Any]]:
    """The sandbox's subscriptions that deliver to ``tenant``'s receiver, by id."""
    state = httpx.get(f"{pair.tripletex_root}/_admin/webhooks", timeout=30).json()
    suffix = f"/webhooks/tripletex/{tenant or pair.tenant}"
    ours = [s for s in state["subscriptions"] if s["targetUrl"].endswith(suffix)]
    return sorted(ours, key=lambda s: s["id"])


def push_state(store: StateStore, tenant: str) -> tuple[str | None, str | None, str | None]:
    """(push status, push note, last_error) of the tenant's integration."""
    with store.sessions() as session:
        row = session.execute(
            select(Integration.push_status, Integration.push_note, Integration.last_error).where(
                Integration.tenant == tenant
            )
        ).one()
    return row.push_status, row.push_note, row.last_error


def recorded(store: StateStore, tenant: str) -> list[tuple[str, str, str]]:
    """(entity, id, kind) of every delivery recorded for the tenant, oldest first."""
    with store.sessions() as session:
        query = select(WebhookEvent).where(WebhookEvent.tenant == tenant)
        return [
            (e.entity, e.record_id, e.kind)
            for e in session.scalars(query.order_by(WebhookEvent.id))
        ]


def wait_until(condition: Any, seconds: float = 60) -> bool:
    """Poll ``condition`` until it holds (a failure deadline, not a measurement)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())
