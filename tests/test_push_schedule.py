"""When a tenant is ticked and what it reads, with push and poll together (pure)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sync.push_schedule import plan_ticks, pushed_ids, tenants_to_wake, tripletex_poll_due
from sync.records import Entity


def test_without_healthy_webhooks_every_tick_polls_tripletex():
    assert tripletex_poll_due(healthy_push=False, last_polled=99.0, now=100.0, fallback_seconds=60)


def test_with_healthy_webhooks_tripletex_is_polled_once_per_fallback_interval():
    due = lambda last, now: tripletex_poll_due(  # noqa: E731
        healthy_push=True, last_polled=last, now=now, fallback_seconds=60
    )
    assert due(None, 5.0)  # the run's first tick
    assert not due(100.0, 105.0) and not due(100.0, 159.9)
    assert due(100.0, 160.0)


def test_a_wake_up_ticks_only_active_tenants_with_events_whose_tick_has_not_failed():
    woken = ["t-b", "t-a", "t-gone", "t-broken", "t-a"]
    assert tenants_to_wake(woken, ["t-a", "t-b", "t-broken", "t-quiet"], ["t-broken"]) == [
        "t-a",
        "t-b",
    ]


def test_a_record_named_by_many_events_is_read_once():
    events = [("customer", "7"), ("customer", "7"), ("project", "3"), ("customer", "9")]
    assert pushed_ids(events) == {
        Entity.CUSTOMER: frozenset({"7", "9"}),
        Entity.PROJECT: frozenset({"3"}),
    }


def test_a_wake_up_never_polls_and_reads_the_named_ids():
    plans = plan_ticks(
        ["t-a"],
        healthy=[],
        last_polled={},
        events={"t-a": [("employee", "4")]},
        now=10.0,
        fallback_seconds=60,
        regular=False,
    )
    assert not plans["t-a"].poll_tripletex
    assert plans["t-a"].pushed == {Entity.EMPLOYEE: frozenset({"4"})}


@given(
    st.lists(st.floats(0, 10_000, allow_nan=False), min_size=1, max_size=200),
    st.floats(1, 600, allow_nan=False),
)
def test_a_healthy_tenant_polls_at_most_once_per_fallback_interval_and_never_waits_longer(
    ticks, fallback
):
    """Regular ticks at any times: with push healthy, two polls are never closer than the
    fallback interval, and no tick goes unpolled once the interval has passed."""
    last: dict[str, float] = {}
    polls = []
    for now in sorted(ticks):
        plan = plan_ticks(
            ["t"],
            healthy=["t"],
            last_polled=last,
            events={},
            now=now,
            fallback_seconds=fallback,
            regular=True,
        )["t"]
        if plan.poll_tripletex:
            polls.append(now)
            last["t"] = now
        else:
            assert now - last["t"] < fallback
    assert all(b - a >= fallback for a, b in itertools.pairwise(polls))
