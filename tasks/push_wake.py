"""The realtime run's memory for push and poll: which tenants webhook events woke, what each
tick reads (decided in :mod:`sync.push_schedule`), and the events a successful tick took up.

Without ``SVENN_SYNC_WEBHOOK_BASE_URL`` it is inert: no wake-ups, every tick polls as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from store.state import StateStore
from store.webhooks import (
    mark_polled,
    poll_clock,
    take_events,
    waiting_events,
    waiting_tenants,
)
from sync.push_schedule import TickPlan, plan_ticks, tenants_to_wake
from tasks.fleet import active_tenants

# How often the run looks for recorded webhook events between regular ticks.
WAKE_SECONDS = 0.25


@dataclass
class PushClock:
    """Which tenants' ticks failed since the last regular tick (not woken again before it),
    and the events the current tick covers; when each tenant was last polled is in the store
    (``integrations.tripletex_polled_at``), shared by overlapping runs."""

    enabled: bool
    fallback_seconds: float
    failed: set[str] = field(default_factory=set)
    _events: dict[str, list[int]] = field(default_factory=dict)

    def woken(self, store: StateStore, *, shard: int, shards: int) -> list[str]:
        """Tenants of this shard with recorded events to read now (one query when none)."""
        if not self.enabled:
            return []
        with store.sessions() as session:
            waiting = waiting_tenants(session)
        if not waiting:
            return []
        active = active_tenants(store, shard=shard, shards=shards)
        return tenants_to_wake(waiting, active, self.failed)

    def plans(
        self, store: StateStore, tenants: list[str], *, regular: bool, now: dt.datetime
    ) -> dict[str, TickPlan]:
        """What each tenant's tick reads (remembering which events it covers)."""
        if not self.enabled:
            return {t: TickPlan(poll_tripletex=True, pushed={}) for t in tenants}
        with store.sessions() as session:
            events = waiting_events(session, tenants)
            clock = poll_clock(session, tenants)
        self._events = {t: [e.id for e in found] for t, found in events.items()}
        named = {t: [(e.entity, e.record_id) for e in found] for t, found in events.items()}
        return plan_ticks(
            tenants,
            healthy=clock.healthy,
            last_polled={t: at.timestamp() for t, at in clock.polled_at.items()},
            events=named,
            now=now.timestamp(),
            fallback_seconds=self.fallback_seconds,
            regular=regular,
        )

    def settle(
        self,
        store: StateStore,
        outcomes: Mapping[str, Any],
        plans: Mapping[str, TickPlan],
        *,
        regular: bool,
        now: dt.datetime,
    ) -> None:
        """After a tick: the events of tenants that succeeded are taken up, their poll times
        stored (shared with the other runs); failures are not woken again before the next
        regular tick."""
        if not self.enabled:
            return
        ok = [t for t, o in outcomes.items() if o.ok]
        taken = [event for t in ok for event in self._events.get(t, [])]
        polled = [t for t in ok if plans[t].poll_tripletex]
        if taken or polled:
            with store.sessions.begin() as session:
                take_events(session, taken, dt.datetime.now(dt.UTC))
                mark_polled(session, polled, now)
        if regular:
            self.failed.clear()
        self.failed |= {t for t, o in outcomes.items() if not o.ok}
