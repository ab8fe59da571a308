"""Realtime windows hand over on a real server and worker: a window started by the schedule
ticks on past its end until the next scheduled window has taken the shard's baton, so no
stretch goes without a tick while a run starts."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.server.conftest import ServerPath

pytestmark = pytest.mark.scenario

REALTIME = "realtime-sync/realtime-sync"
WINDOW = {"window_seconds": 10, "wait_for_next_seconds": 120, "poll_seconds": 1}


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_each_scheduled_window_ends_after_the_next_one_started(server_path: ServerPath):
    server = server_path.server

    def ticked(run: dict[str, Any]) -> bool:
        """Completed after a whole window: not a late window that gave way to a newer one as
        it started (on a loaded machine runs start later than the 10 s interval)."""
        if (run.get("state") or {}).get("type") != "COMPLETED" or not run.get("end_time"):
            return False
        ran = _at(run["end_time"]) - _at(run["start_time"])
        return ran >= dt.timedelta(seconds=WINDOW["window_seconds"])

    server.run_on_schedule(REALTIME, 10, WINDOW)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if sum(map(ticked, server.flow_runs(REALTIME))) >= 2:
                break
            time.sleep(1)
    finally:
        server.pause(REALTIME)
    started = sorted(
        (r for r in server.flow_runs(REALTIME) if r.get("start_time")),
        key=lambda r: _at(r["start_time"]),
    )
    done = [r for r in started if ticked(r)]
    assert len(done) >= 2, [(r["name"], r["state"]["type"]) for r in started]
    first = done[0]
    after = [r for r in done if _at(r["start_time"]) > _at(first["start_time"])]
    assert after, "no window followed the first"
    # the first window (10 s) ticked on until the next had started, and then stopped well
    # before its 120 s cap: it handed over instead of running out
    assert _at(first["end_time"]) >= _at(after[0]["start_time"]), (first, after[0])
    assert _at(first["end_time"]) < _at(after[0]["start_time"]) + dt.timedelta(seconds=120)
