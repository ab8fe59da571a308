"""``svenn-sync worker``: Prefect's process worker on our pool, one that stops on SIGTERM and
takes the flow runs it started with it.

Two things Prefect's own ``prefect worker start`` does not do:

- it turns SIGTERM into a SIGINT to itself; a process started in the background of a
  non-interactive shell (``cmd &`` in a script, the README's rehearsal, many init scripts)
  inherits SIGINT *ignored*, so that SIGINT does nothing and the worker keeps running. The
  worker here starts with SIGINT and SIGTERM at their defaults;
- it leaves the flow-run processes it started running when it stops ("so they can continue
  to run and hopefully still complete"): a realtime window kept ticking, showing Running, with
  nobody to stop it, and a restarted worker started the next one beside it. This command stays
  the worker's parent, remembers the flow-run processes below it, and when the worker stops
  (a signal, or on its own) stops them too and marks every run of theirs that did not end
  Crashed, with one sentence, before it exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from types import FrameType

POOL = "svenn-sync"
FLOW_RUN_VARIABLE = b"PREFECT__FLOW_RUN_ID="
STOP_SECONDS = 20.0  # how long a flow run may take to end on SIGTERM before SIGKILL
LOOK_SECONDS = 1.0  # how often the flow-run processes below the worker are listed
GONE_KEPT = 20  # the latest flow runs whose process ended, checked once more at the stop
MESSAGE = (
    "Marked crashed: the worker running it was stopped; the next scheduled run takes over "
    "(an initial sync resumes on rerun)."
)
FINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})


def worker_argv(pool: str, extra: Sequence[str]) -> list[str]:
    """The ``prefect worker start`` command line this command runs."""
    prefect = str(Path(sys.executable).with_name("prefect"))
    return [prefect, "worker", "start", "--pool", pool, *extra]


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    return children


def _flow_run_id(pid: int) -> str | None:
    with suppress(OSError):
        for variable in (Path(f"/proc/{pid}") / "environ").read_bytes().split(b"\0"):
            if variable.startswith(FLOW_RUN_VARIABLE):
                return variable.removeprefix(FLOW_RUN_VARIABLE).decode()
    return None


def flow_run_processes(root: int) -> dict[int, str]:
    """Processes below ``root`` that run a flow run, with its id (read from /proc; Linux)."""
    children, found, queue = _children(), {}, [root]
    while queue:
        for child in children.get(queue.pop(), []):
            run_id = _flow_run_id(child)
            if run_id is not None:
                found[child] = run_id
            queue.append(child)
    return found


def _alive(pid: int, run_id: str) -> bool:
    return _flow_run_id(pid) == run_id  # the same process, not a reused pid


def stop_processes(processes: dict[int, str], grace: float = STOP_SECONDS) -> None:
    """SIGTERM the flow-run processes still alive, SIGKILL what is left after ``grace``."""
    for pid, run_id in processes.items():
        if _alive(pid, run_id):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p, r) for p, r in processes.items()):
        time.sleep(0.2)
    for pid, run_id in processes.items():
        if _alive(pid, run_id):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def end_runs(run_ids: Iterable[str]) -> list[str]:
    """Mark Crashed every run of ``run_ids`` that is not in a final state; those ids."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    ended: list[str] = []
    with get_client(sync_client=True) as client:
        for run_id in sorted(set(run_ids)):
            run = client.read_flow_run(uuid.UUID(run_id))
            if run.state is not None and run.state.type.value in FINAL:
                continue
            client.set_flow_run_state(uuid.UUID(run_id), Crashed(message=MESSAGE), force=True)
            ended.append(run_id)
    return ended


def _ended_with_retries(run_ids: Iterable[str], attempts: int = 4) -> list[str]:
    """:func:`end_runs`, tried again after a pause when a busy server times out or answers
    5xx (the last attempt's error is raised)."""
    ids = list(run_ids)
    for attempt in range(1, attempts + 1):
        try:
            return end_runs(ids)
        except Exception:
            if attempt == attempts:
                raise
            time.sleep(2 * attempt)
    return []


def run_worker(pool: str, extra: Sequence[str]) -> int:
    """Run Prefect's worker until it stops, then stop and end the runs it left; its exit code.

    The flow runs it starts send heartbeats every ``HEARTBEAT_SECONDS`` (prefect.yaml sets it
    for every deployment too; Prefect's own default is 180 s)."""
    from cli.zombies import HEARTBEAT_SECONDS

    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)  # an ignored signal would stay ignored in the child
    # its own process group: a terminal's Ctrl-C reaches this process, which passes it on once
    worker = subprocess.Popen(worker_argv(pool, extra), process_group=0)  # noqa: S603
    seen: dict[int, str] = {}
    gone: deque[str] = deque(maxlen=GONE_KEPT)  # runs whose process ended under the worker

    def stop(signum: int, _frame: FrameType | None) -> None:
        seen.update(flow_run_processes(worker.pid))
        with suppress(ProcessLookupError):
            worker.send_signal(signal.SIGTERM)  # Prefect's worker: stop polling, exit

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    while worker.poll() is None:
        still = {pid: run for pid, run in seen.items() if _alive(pid, run)}
        gone.extend(run for pid, run in seen.items() if pid not in still)
        seen = still | flow_run_processes(worker.pid)
        with suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=LOOK_SECONDS)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # the cleanup below is short; let it finish
    stop_processes(seen)
    if seen or gone:  # a run whose process died unfinished is ended too (end_runs skips the rest)
        try:
            for run_id in _ended_with_retries([*seen.values(), *gone]):
                print(f"flow run {run_id}: marked crashed, its worker stopped", flush=True)
        except Exception as error:  # the server is gone too: the heartbeat rule is left
            print(
                "the runs this worker stopped could not be marked crashed "
                f"({type(error).__name__}); the zombie automation of `svenn-sync prefect "
                "setup` marks them after 90 s of silence",
                flush=True,
            )
    return worker.returncode if worker.returncode >= 0 else 128 - worker.returncode
