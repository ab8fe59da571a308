"""Wake the tick, against both sandboxes and a real realtime run: with the Tripletex poll
slowed to a long fallback interval, an edit in Tripletex reaches Svenn through the webhook path
(one read by id, no checksum poll); with every delivery dropped, the slowed poll still brings
it, and polls no more often than the fallback interval."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select

from config.settings import load_settings
from flows.realtime_sync import realtime_sync
from sandboxes.live_edits import svenn_records, tripletex_edit
from store.leases import hold_baton
from store.links import links_for
from store.models import Integration, WebhookEvent
from store.state import StateStore
from store.webhooks import HEALTHY
from tasks.fleet import window_baton
from tests.flows.push_support import push_state, receiver_root, wait_until
from tests.flows.test_push_subscriptions import active

pytestmark = pytest.mark.scenario
__all__ = ["receiver_root"]
NEWER = "a-newer-window"


class RunInBackground:
    """A realtime run in another thread (as a worker runs it); ``max_ticks`` bounds it, and
    :meth:`hand_over` ends it as soon as the test has seen what it waits for."""

    def __init__(self, store: StateStore, **options: Any) -> None:
        self.store = store
        self.result: dict[str, Any] = {}
        self.thread = threading.Thread(
            target=lambda: self.result.update(asyncio.run(realtime_sync(**options)))
        )
        self.thread.start()

    def hand_over(self) -> dict[str, Any]:
        """End the run as a newer window ends it (it takes the shard's baton: the run stops at
        its next regular tick, saying which run took over); what the run returned."""
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        with self.store.sessions.begin() as session:
            hold_baton(session, window_baton(0, 1), NEWER, due_at=later, ttl=dt.timedelta(hours=1))
        self.thread.join(timeout=180)
        assert not self.thread.is_alive()
        assert self.result["handed_over_to"] == NEWER, self.result
        return self.result


def ticked_once(store, tenant: str) -> bool:
    with store.sessions() as session:
        at = session.scalars(select(Integration.realtime_ok_at).where(Integration.tenant == tenant))
        return at.one() is not None


def tripletex_requests(pair) -> list[dict[str, Any]]:
    rows = httpx.get(f"{pair.tripletex_root}/_admin/requests", timeout=30).json()
    return [r for r in rows if r["method"] == "GET" and r["path"] == "/v2/customer"]


def checksum_polls(rows) -> list[dict[str, Any]]:
    """The checksum polls among ``rows``: the id/version list, not a read by id."""
    polls = []
    for row in rows:
        query = parse_qs(row["query"])
        if query.get("fields") == ["id,version"] and "id" not in query:
            polls.append(row)
    return polls


def forget_requests(pair) -> None:
    httpx.delete(f"{pair.tripletex_root}/_admin/requests", timeout=30).raise_for_status()


def linked_customer(store, tenant: str) -> tuple[str, str]:
    with store.sessions() as session:
        link = links_for(session, tenant, "customer")[0]
    return link.svenn_id, link.tripletex_id


def test_an_edit_in_tripletex_arrives_through_the_webhook_before_the_poll_would(
    pipeline, receiver_root, sandboxes, state_store, monkeypatch
):
    pair, store = sandboxes, state_store
    monkeypatch.setenv("SVENN_SYNC_REALTIME_FALLBACK_POLL_SECONDS", "600")
    load_settings.cache_clear()
    active(pair, store)
    assert push_state(store, pair.tenant)[0] == HEALTHY
    svenn_id, tripletex_id = linked_customer(store, pair.tenant)
    run = RunInBackground(store, window_seconds=120, poll_seconds=1.0, max_ticks=150)
    assert wait_until(lambda: ticked_once(store, pair.tenant))
    forget_requests(pair)

    tripletex_edit(pair, "customer", tripletex_id, {"name": "Kom Via Webhook AS"})
    arrived = wait_until(
        lambda: svenn_records(pair, "customer")[svenn_id]["name"] == "Kom Via Webhook AS", 30
    )
    seen = tripletex_requests(pair)
    run.hand_over()
    assert arrived
    assert checksum_polls(seen) == []  # the fallback poll (600 s) did not run meanwhile
    assert any(parse_qs(r["query"]).get("id") == [tripletex_id] for r in seen)  # by its id
    with store.sessions() as session:
        taken = session.scalars(
            select(WebhookEvent.taken_at).where(WebhookEvent.record_id == tripletex_id)
        ).all()
    assert taken and all(at is not None for at in taken)


def test_dropped_deliveries_are_caught_by_the_slowed_fallback_poll(
    pipeline, receiver_root, sandboxes, state_store, monkeypatch
):
    pair, store = sandboxes, state_store
    monkeypatch.setenv("SVENN_SYNC_REALTIME_FALLBACK_POLL_SECONDS", "4")
    load_settings.cache_clear()
    active(pair, store)
    httpx.put(f"{pair.tripletex_root}/_admin/webhooks", json={"drop_rate": 1.0}, timeout=30)
    svenn_id, tripletex_id = linked_customer(store, pair.tenant)
    run = RunInBackground(store, window_seconds=120, poll_seconds=0.5, max_ticks=300)
    assert wait_until(lambda: ticked_once(store, pair.tenant))
    forget_requests(pair)
    started = time.monotonic()

    tripletex_edit(pair, "customer", tripletex_id, {"name": "Kom Via Poll AS"})
    arrived = wait_until(
        lambda: svenn_records(pair, "customer")[svenn_id]["name"] == "Kom Via Poll AS", 60
    )
    result = run.hand_over()
    polls = checksum_polls(tripletex_requests(pair))
    elapsed = time.monotonic() - started
    assert arrived
    with store.sessions() as session:
        assert session.scalars(select(WebhookEvent.id)).all() == []  # every delivery dropped
    assert polls  # the poll brought it
    assert len(polls) <= elapsed / 4 + 1 < result["ticks"]  # …at the fallback pace only


def test_a_new_realtime_window_does_not_poll_tripletex_again_before_the_fallback_interval(
    pipeline, receiver_root, sandboxes, state_store, monkeypatch
):
    pair, store = sandboxes, state_store
    monkeypatch.setenv("SVENN_SYNC_REALTIME_FALLBACK_POLL_SECONDS", "600")
    load_settings.cache_clear()
    active(pair, store)
    forget_requests(pair)
    asyncio.run(realtime_sync(max_ticks=2, poll_seconds=0.2))
    assert len(checksum_polls(tripletex_requests(pair))) == 1  # the first tick polled
    forget_requests(pair)
    asyncio.run(realtime_sync(max_ticks=3, poll_seconds=0.2))  # the next window
    assert checksum_polls(tripletex_requests(pair)) == []


@pytest.mark.parametrize(
    "knobs",
    [
        {"duplicate_rate": 1.0, "seed": 1},
        {"reorder_window_ms": 400, "seed": 2},
        {"skip_versions": True, "delay_ms": 300, "seed": 3},
    ],
    ids=["duplicated", "reordered", "versions-skipped"],
)
def test_duplicated_reordered_or_skipped_deliveries_give_the_latest_state(
    pipeline, receiver_root, sandboxes, state_store, monkeypatch, knobs
):
    """Several edits (one record edited twice, one deleted) with faulty deliveries: Svenn ends
    with Tripletex's latest state, through webhooks alone (the 600 s poll never runs)."""
    pair, store = sandboxes, state_store
    monkeypatch.setenv("SVENN_SYNC_REALTIME_FALLBACK_POLL_SECONDS", "600")
    load_settings.cache_clear()
    active(pair, store)
    httpx.put(f"{pair.tripletex_root}/_admin/webhooks", json=knobs, timeout=30)
    with store.sessions() as session:
        links = [
            (lk.svenn_id, lk.tripletex_id) for lk in links_for(session, pair.tenant, "customer")
        ]
    (sv_a, tx_a), (sv_b, tx_b), (sv_c, tx_c) = links[:3]
    run = RunInBackground(store, window_seconds=120, poll_seconds=1.0, max_ticks=150)
    assert wait_until(lambda: ticked_once(store, pair.tenant))
    forget_requests(pair)

    tripletex_edit(pair, "customer", tx_a, {"name": "Første Navn AS"})
    tripletex_edit(pair, "customer", tx_b, {"phoneNumber": "+4799887766"})
    tripletex_edit(pair, "customer", tx_a, {"name": "Siste Navn AS"})
    tripletex_edit(pair, "customer", tx_c, delete=True)

    def settled() -> bool:
        svenn = svenn_records(pair, "customer")
        return (
            svenn[sv_a]["name"] == "Siste Navn AS"
            and svenn[sv_b]["phone"] == "+4799887766"
            and svenn[sv_c]["active"] is False
        )

    arrived = wait_until(settled, 40)
    seen = tripletex_requests(pair)
    run.hand_over()
    assert arrived
    assert checksum_polls(seen) == []
