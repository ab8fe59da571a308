"""A worker started the way the README starts it (``&`` in a shell) stops on SIGTERM.

A shell script's background job inherits SIGINT ignored; Prefect's worker turns SIGTERM into a
SIGINT to itself, so a plain ``prefect worker start &`` outlives the SIGTERM of a supervisor
(seen on a fresh clone: still running 35 s later). ``svenn-sync worker`` is the command the
README gives; it is started here exactly so (SIGINT ignored) against the real server.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from cli.zombies import HEARTBEAT_SECONDS
from tests.server.harness import ROOT, PrefectServer

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
        environment = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
        assert f"PREFECT_FLOWS_HEARTBEAT_FREQUENCY={HEARTBEAT_SECONDS}".encode() in environment
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)  # raises if it is still running: a bound, not a speed target
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = log.read_text(errors="replace")
    assert "Worker 'sigterm-probe' stopped!" in printed, printed
