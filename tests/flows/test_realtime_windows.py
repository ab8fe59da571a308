"""Realtime windows hand over without a gap: a window ticks on past its end until a window due
later has ticked, so a change never waits for a run to start (a worker's poll and a process
start took 13 s to 68 s on a loaded machine, longer than any fixed overlap); a late window
never takes the baton back from a later live one, so after a pile-up one window ticks."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from flows.realtime_sync import realtime_sync, window_over
from store.leases import REALTIME_WINDOW, hold_baton
from store.models import Lease

BATON = "shard 0 of 1"
T0 = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(seconds=60)


def test_a_window_holding_the_baton_stops_only_when_no_newer_one_came_after_its_end():
    deadline, wait = 100.0, 30.0
    assert not window_over(99.0, deadline, wait)  # inside its window
    assert not window_over(101.0, deadline, wait)  # past it: waits for the next to take over
    assert window_over(131.0, deadline, wait)  # no next window came at all


def test_the_baton_goes_to_the_window_due_later_and_never_back_to_an_earlier_live_one(
    state_store,
):
    earlier, later = T0, T0 + dt.timedelta(minutes=5)

    def hold(run: str, due: dt.datetime, at: dt.timedelta) -> str | None:
        with state_store.sessions.begin() as session:
            return hold_baton(session, BATON, run, due_at=due, ttl=TTL, now=lambda: T0 + at)

    assert hold("run-a", earlier, dt.timedelta(seconds=0)) is None  # nobody had it
    assert hold("run-a", earlier, dt.timedelta(seconds=1)) is None  # kept: a sign of life
    assert hold("run-b", later, dt.timedelta(seconds=2)) is None  # the next window takes over
    assert hold("run-a", earlier, dt.timedelta(seconds=3)) == "run-b"  # a stops
    # a late window started after a pile-up finds a later one live and ends unticked
    assert hold("run-old", earlier - TTL, dt.timedelta(seconds=4)) == "run-b"
    # the holder dies: after the ttl since its last sign of life, the next to tick takes it
    assert hold("run-a", earlier, dt.timedelta(seconds=2 + 59)) == "run-b"
    assert hold("run-a", earlier, dt.timedelta(seconds=2 + 60)) is None
    with state_store.sessions() as session:
        (baton,) = session.query(Lease).filter(Lease.purpose == REALTIME_WINDOW).all()
    assert (baton.tenant, baton.holder) == (BATON, "run-a")


@pytest.mark.scenario
def test_a_window_ticks_on_past_its_end_until_the_next_window_takes_over(pipeline, state_store):
    async def two_windows() -> tuple[dict, dict, bool]:
        first = asyncio.create_task(
            realtime_sync(window_seconds=0.5, poll_seconds=0.1, wait_for_next_seconds=90)
        )
        await asyncio.sleep(3)
        still_ticking = not first.done()  # past its window and no newer one yet
        second = await realtime_sync(max_ticks=3, poll_seconds=0.1)
        # the handover: the first stops at its next tick, long before its 90 s
        return await asyncio.wait_for(first, timeout=45), second, still_ticking

    first, second, still_ticking = asyncio.run(two_windows())
    assert still_ticking
    assert first["ticks"] > 5 and second["ticks"] == 3
    with state_store.sessions() as session:
        (baton,) = session.query(Lease).filter(Lease.purpose == REALTIME_WINDOW).all()
    assert baton.tenant == BATON and baton.holder
    assert first["handed_over_to"] == baton.holder and second["handed_over_to"] is None
