"""``svenn-sync worker``: Prefect's process worker on our pool, one that stops on SIGTERM.

Prefect's worker handles SIGTERM by sending itself SIGINT and stopping on that. A process started
in the background of a non-interactive shell (``cmd &`` in a script, the README's rehearsal,
many init scripts) inherits SIGINT *ignored*, so that SIGINT does nothing and the worker keeps
running until it is killed. This command restores SIGINT's default before it becomes Prefect's
worker (``exec``: same process id, so a supervisor's signals reach the worker itself).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

POOL = "svenn-sync"


def worker_argv(pool: str, extra: Sequence[str]) -> list[str]:
    """The ``prefect worker start`` command line this worker becomes."""
    prefect = str(Path(sys.executable).with_name("prefect"))
    return [prefect, "worker", "start", "--pool", pool, *extra]


def become_worker(pool: str, extra: Sequence[str]) -> NoReturn:
    """Replace this process with Prefect's worker, with SIGINT (and SIGTERM) at their defaults,
    and the flow runs it starts sending heartbeats every ``HEARTBEAT_SECONDS`` (Prefect's own
    default left them at minutes, so a killed run showed Running for ~9 minutes)."""
    from cli.zombies import HEARTBEAT_SECONDS

    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(HEARTBEAT_SECONDS))
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)  # an ignored signal would stay ignored across exec
    argv = worker_argv(pool, extra)
    os.execv(argv[0], argv)  # noqa: S606 (our own argv; a shell would only add quoting risk)
