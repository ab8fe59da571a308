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


def _runs(server: PrefectServer, since: dt.datetime) -> list[dict[str, Any]]:
    """The realtime runs created since ``since`` (the server is shared with earlier tests)."""
    return [r for r in server.flow_runs(REALTIME) if _at(r["created"]) >= since]


def _ticked(server: PrefectServer, since: dt.datetime) -> list[dict[str, Any]]:
    """The windows made since ``since`` that ended after ticking (their summary artifact; a
    window that ended unticked publishes none), by start."""
    done = [
        run
        for run in _runs(server, since)
        if (run.get("state") or {}).get("type") == "COMPLETED" and run.get("start_time")
    ]
    return sorted(
        (run for run in done if server.artifacts(str(run["id"]))),
        key=lambda run: _at(run["start_time"]),
    )


def test_each_scheduled_window_ticks_until_a_later_one_took_over(server_path: ServerPath):
    server = server_path.server
    since = dt.datetime.now(dt.UTC)
    server.run_on_schedule(REALTIME, 10, WINDOW)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and len(_ticked(server, since)) < 3:
            time.sleep(2)
        # End it the way windows end: no new ones from the schedule, and one last window that
        # ticks once; every window still running hands over to it and ends on its own, so no
        # run is cut off and every one that ticked is counted below.
        _no_more_scheduled(server)
        last = _last_window(server)
        server.wait_for_state(last, timeout=300)
        _wait_until_none_live(server, since)
    finally:
        server.pause(REALTIME)
    ticked = _ticked(server, since)
    runs = _table(_runs(server, since), ticked)
    assert len(ticked) >= 3, runs
    # no gap: sorted by start, each ticking window started before the ones before it had all
    # ended (a window stops only once a later one holds the baton; runs start in any order)
    covered_until = _at(ticked[0]["end_time"])
    for window in ticked[1:]:
        if _at(window["start_time"]) > covered_until:
            pytest.fail(f"no window ticked before {window['name']} started:\n{runs}")
        covered_until = max(covered_until, _at(window["end_time"]))
    # and each stopped when the next took over, not at its cap (its 10 s + 120 s with no
    # newer window)
    for window in ticked:
        ran = _at(window["end_time"]) - _at(window["start_time"])
        if ran >= dt.timedelta(seconds=125):
            pytest.fail(f"{window['name']} ran to its cap:\n{runs}")


def _no_more_scheduled(server: PrefectServer) -> None:
    """Pause the schedule and cancel the runs it made that have not started."""
    deployment_id = server.deployment(REALTIME)["id"]
    server.api("PATCH", f"/deployments/{deployment_id}", json={"paused": True})
    for run in server.flow_runs(REALTIME):
        if (run.get("state") or {}).get("type") == "SCHEDULED":
            cancel = {"state": {"type": "CANCELLED", "message": "test over"}, "force": True}
            server.api("POST", f"/flow_runs/{run['id']}/set_state", json=cancel)


def _last_window(server: PrefectServer) -> str:
    """A window that ticks once, due after every window a worker may have started already (a
    worker starts runs up to 10 s before they are due), so it takes the baton from them all."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=15)
    body = {
        "parameters": WINDOW | {"max_ticks": 1},
        "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}},
    }
    deployment_id = server.deployment(REALTIME)["id"]
    run = server.api("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)
    return str(run["id"])


def _wait_until_none_live(server: PrefectServer, since: dt.datetime, within: float = 300) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = {(r.get("state") or {}).get("type") for r in _runs(server, since)}
        if not states & {"PENDING", "RUNNING", "CANCELLING"}:
            return
        time.sleep(1)


def _table(runs: list[dict[str, Any]], ticked: list[dict[str, Any]]) -> str:
    """Every run of the test, by start: name, state, when it was due, started and ended,
    whether it ticked, and its state's message."""
    ticking = {run["id"] for run in ticked}
    rows = sorted(runs, key=lambda r: r.get("start_time") or "~")
    return "\n".join(
        " | ".join(
            str(cell)
            for cell in (
                run["name"],
                (run.get("state") or {}).get("type"),
                run.get("expected_start_time"),
                run.get("start_time"),
                run.get("end_time"),
                "ticked" if run["id"] in ticking else "-",
                (run.get("state") or {}).get("message"),
            )
        )
        for run in rows
    )
