"""Realtime windows hand over on a real server and worker: a window started by the schedule
ticks on past its end until a window due later takes its shard's baton, and then stops, so no
stretch goes without a tick while a run starts. Runs here start late (a 10 s interval; starting
a run took 13 s to 68 s on a loaded machine), as after a pile-up: a late window that finds a
later one ticking ends unticked, and the ticking never stops."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.server.conftest import ServerPath
from tests.server.harness import PrefectServer

pytestmark = pytest.mark.scenario

REALTIME = "realtime-sync/realtime-sync"
WINDOW = {"window_seconds": 10, "wait_for_next_seconds": 120, "poll_seconds": 1}


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ticked(server: PrefectServer) -> list[dict[str, Any]]:
    """The windows that ended after ticking (their summary artifact; a window that ended
    unticked publishes none), by start."""
    done = [
        run
        for run in server.flow_runs(REALTIME)
        if (run.get("state") or {}).get("type") == "COMPLETED" and run.get("start_time")
    ]
    return sorted(
        (run for run in done if server.artifacts(str(run["id"]))),
        key=lambda run: _at(run["start_time"]),
    )


def test_each_scheduled_window_ticks_until_a_later_one_took_over(server_path: ServerPath):
    server = server_path.server
    server.run_on_schedule(REALTIME, 10, WINDOW)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and len(_ticked(server)) < 3:
            time.sleep(2)
    finally:
        server.pause(REALTIME)
    ticked = _ticked(server)
    runs = [
        (r["name"], r["state"]["type"], r.get("start_time"), r.get("end_time"))
        for r in sorted(server.flow_runs(REALTIME), key=lambda r: r.get("start_time") or "")
    ]
    assert len(ticked) >= 3, runs
    # no gap: sorted by start, each ticking window started before the ones before it had all
    # ended (a window stops only once a later one holds the baton; runs start in any order)
    covered_until = _at(ticked[0]["end_time"])
    for window in ticked[1:]:
        assert _at(window["start_time"]) <= covered_until, (window["name"], runs)
        covered_until = max(covered_until, _at(window["end_time"]))
    # and each stopped when the next took over, not at its cap (its 10 s + 120 s with no
    # newer window)
    for window in ticked:
        ran = _at(window["end_time"]) - _at(window["start_time"])
        assert ran < dt.timedelta(seconds=125), (window["name"], runs)
