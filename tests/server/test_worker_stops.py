"""A worker started the way the README starts it (``&`` in a shell) stops on SIGTERM.

A shell script's background job inherits SIGINT ignored; Prefect's worker turns SIGTERM into a
SIGINT to itself, so a plain ``prefect worker start &`` outlives the SIGTERM of a supervisor
(seen on a fresh clone: still running 35 s later). ``svenn-sync worker`` is the command the
README gives; it is started here exactly so (SIGINT ignored) against the real server.

It takes its runs with it: a realtime window Running when the worker gets SIGTERM is final
within a minute (Prefect's own worker left it running), and the window a restarted worker
starts is the only live one. After a pile-up of due windows (no worker for a while), the
earlier one ends once the later one holds the shard's baton, so a restarted worker runs one
window.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli.zombies import HEARTBEAT_SECONDS
from sandboxes.pair import SandboxPair
from store.state import StateStore
from tests.conftest import TEST_KEY
from tests.server.harness import (
    FINAL_STATES,
    ROOT,
    PrefectServer,
    ServerPathError,
    _descendants,
    sandbox_env,
    store_env,
)

SVENN_SYNC = str(Path(sys.executable).with_name("svenn-sync"))


def _as_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what `cmd &` in a non-interactive shell does


def _started(output: Path, process: subprocess.Popen[bytes], within: float = 600) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        if "started!" in output.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


def test_svenn_sync_worker_started_in_the_background_stops_on_sigterm(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SVENN_SYNC, "worker", "--name", "sigterm-probe"],
            env=prefect_server.env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_as_a_background_job,
        )
    try:
        assert _started(log, process), log.read_text(errors="replace")
        # the runs it starts inherit its environment: heartbeats as often as docs/DECISIONS.md
        # says, so a killed run is marked Crashed after 3 missed beats, not Prefect's minutes
        (worker,) = _descendants(process.pid)  # Prefect's worker, below our command
        environment = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
        assert f"PREFECT_FLOWS_HEARTBEAT_FREQUENCY={HEARTBEAT_SECONDS}".encode() in environment
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)  # raises if it is still running: a bound, not a speed target
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = log.read_text(errors="replace")
    assert "Worker 'sigterm-probe' stopped!" in printed, printed


REALTIME = "realtime-sync/realtime-sync"


def _start_worker(env: dict[str, str], log: Path, name: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [SVENN_SYNC, "worker", "--name", name],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_as_a_background_job,
        )
    assert _started(log, process), log.read_text(errors="replace")
    return process


def _live_realtime_runs(server: PrefectServer) -> list[str]:
    return [
        str(run["id"])
        for run in server.flow_runs(REALTIME)
        if (run.get("state") or {}).get("type") in {"RUNNING", "PENDING", "CANCELLING"}
    ]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_stopped_worker_leaves_no_running_realtime_window_behind(
    prefect_server: PrefectServer,
    server_sandboxes: SandboxPair,
    database: tuple[str, str | None],
    state_store: StateStore,
    tmp_path: Path,
) -> None:
    url, schema = database
    env = (
        prefect_server.env
        | {"PREFECT_WORKER_QUERY_SECONDS": "1"}
        | store_env(url, schema, TEST_KEY)
        | sandbox_env(server_sandboxes)
    )
    log = tmp_path / "worker.log"
    first = _start_worker(env, log, "realtime-first")
    second: subprocess.Popen[bytes] | None = None
    try:
        window = prefect_server.run_deployment(REALTIME, {"window_seconds": 600})
        prefect_server.wait_for_state(window, {"RUNNING"}, timeout=300)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=120)
        # the window it ran is over (Crashed or Cancelled) within a minute, not Prefect's ~9
        try:
            ended = prefect_server.wait_for_state(window, FINAL_STATES, timeout=60)
        except ServerPathError as error:
            raise AssertionError(f"{error}\n--- worker:\n{log.read_text()[-4000:]}") from error
        assert ended["state"]["type"] in {"CRASHED", "CANCELLED"}, ended["state"]
        assert "stopped" in (ended["state"]["message"] or ""), ended["state"]

        second = _start_worker(env, log, "realtime-second")
        following = prefect_server.run_deployment(REALTIME, {"window_seconds": 600})
        prefect_server.wait_for_state(following, {"RUNNING"}, timeout=300)
        assert _live_realtime_runs(prefect_server) == [following]
        assert prefect_server.flow_run(window)["state"]["type"] in FINAL_STATES
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        prefect_server.pause(REALTIME)


def _due_window(server: PrefectServer, minutes_ago: int) -> str:
    """A realtime window the schedule created ``minutes_ago`` while no worker ran."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    deployment = server.deployment(REALTIME)
    body = {
        "parameters": {"window_seconds": 600},
        "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": at.isoformat()}},
    }
    run = server.api("POST", f"/deployments/{deployment['id']}/create_flow_run", json=body)
    return str(run["id"])


def _logged(server: PrefectServer, run_id: str, words: str, within: float = 120) -> str:
    """The run's log once it has ``words`` (logs reach the server after the state does)."""
    deadline = time.monotonic() + within
    said = ""
    while time.monotonic() < deadline and words not in said:
        said = "\n".join(server.logs(run_id))
        time.sleep(0.5)
    return said


def test_after_a_pile_up_a_restarted_worker_runs_one_realtime_window(
    prefect_server: PrefectServer,
    server_sandboxes: SandboxPair,
    database: tuple[str, str | None],
    state_store: StateStore,
    tmp_path: Path,
) -> None:
    url, schema = database
    env = (
        prefect_server.env
        | {"PREFECT_WORKER_QUERY_SECONDS": "1"}
        | store_env(url, schema, TEST_KEY)
        | sandbox_env(server_sandboxes)
    )
    older, newer = _due_window(prefect_server, 10), _due_window(prefect_server, 5)
    worker = _start_worker(env, tmp_path / "worker.log", "after-a-pile-up")
    try:
        ended = prefect_server.wait_for_state(older, FINAL_STATES, timeout=300)
        assert ended["state"]["type"] == "COMPLETED", ended["state"]
        said = _logged(prefect_server, older, "a newer window")
        assert f"a newer window (flow run {newer})" in said, said
        prefect_server.wait_for_state(newer, {"RUNNING"}, timeout=300)
        assert _live_realtime_runs(prefect_server) == [newer]
    finally:
        _stop(worker)
        prefect_server.pause(REALTIME)
