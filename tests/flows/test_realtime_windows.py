"""Realtime windows hand over without a gap: a window ticks on past its end until the next
window has ticked, so a change never waits for a run to start (a worker's poll and a process
start took 13 s to 68 s on a loaded machine, longer than any fixed overlap)."""

from __future__ import annotations

import asyncio

import pytest

from flows.realtime_sync import realtime_sync, window_over
from store.leases import REALTIME_WINDOW
from store.models import Lease


def test_a_window_stops_only_after_its_end_and_once_a_newer_one_ticks_or_none_came():
    deadline, wait = 100.0, 30.0
    assert not window_over(99.0, deadline, wait, newest=False)  # inside its window: ticks on
    assert not window_over(101.0, deadline, wait, newest=True)  # past it, nobody took over
    assert window_over(101.0, deadline, wait, newest=False)  # the next window ticks now
    assert window_over(131.0, deadline, wait, newest=True)  # no next window came at all


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
    assert baton.tenant == "shard 0 of 1" and baton.holder
