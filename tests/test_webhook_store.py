"""The recorded deliveries in the store: waiting until a tick takes them up, one row per
idempotency key, and read ones forgotten after a week (a replay inside it is still known)."""

from __future__ import annotations

import datetime as dt

from store.integrations import ensure_integration
from store.webhooks import (
    KEEP_TAKEN,
    forget_taken,
    record_delivery,
    take_events,
    waiting_events,
    waiting_tenants,
)


def test_deliveries_wait_until_taken_and_read_ones_are_forgotten_after_a_week(state_store):
    with state_store.sessions.begin() as session:
        for tenant in ("t-a", "t-b"):
            ensure_integration(session, tenant)
        assert record_delivery(session, "t-a", "k1", "customer", "7", "update")
        assert record_delivery(session, "t-a", "k2", "project", "3", "delete")
        assert record_delivery(session, "t-b", "k1", "employee", "5", "create")  # own keys
        assert not record_delivery(session, "t-a", "k1", "customer", "7", "update")
    with state_store.sessions() as session:
        assert waiting_tenants(session) == {"t-a", "t-b"}
        waiting = waiting_events(session, ["t-a"])
    assert [(e.entity, e.record_id) for e in waiting["t-a"]] == [
        ("customer", "7"),
        ("project", "3"),
    ]
    now = dt.datetime.now(dt.UTC)
    with state_store.sessions.begin() as session:
        take_events(session, [e.id for e in waiting["t-a"]], now)
    with state_store.sessions.begin() as session:
        assert waiting_tenants(session) == {"t-b"}
        assert forget_taken(session, now - KEEP_TAKEN) == 0  # read just now: kept
        assert not record_delivery(session, "t-a", "k1", "customer", "7", "update")  # a replay
        assert forget_taken(session, now + dt.timedelta(seconds=1)) == 2
        assert waiting_tenants(session) == {"t-b"}  # never-read ones are never forgotten
