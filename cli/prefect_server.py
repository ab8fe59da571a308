"""The CLI's own temporary Prefect server: a child process that never outlives the CLI.

Without ``PREFECT_API_URL`` Prefect starts a temporary server as a subprocess and stops it at
normal exit; a ``kill -9`` of the CLI skipped that and left the server running as an orphan.
Here the CLI starts Prefect's same temporary server itself, with the kernel told to end it when
the CLI dies for any reason (Linux ``PR_SET_PDEATHSIG``; elsewhere only a normal exit stops it).
With ``PREFECT_API_URL`` set (a real server), nothing is started. The temporary server has its
own database (``svenn-sync-cli.db`` in ``PREFECT_HOME``), never a real local server's.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

PR_SET_PDEATHSIG = 1
STARTUP_TIMEOUT_SECONDS = 240  # a loaded 2-core machine needs well over a minute
# The temporary server keeps its runs apart from a real local server's (same PREFECT_HOME), so
# the CLI's and the demo's runs never show in that server's UI as runs of other data; kept
# between CLI runs, so that the next CLI sees the runs a killed one left and marks them Crashed.
TEMPORARY_DATABASE = "svenn-sync-cli.db"
FLUSH_SECONDS = 20  # a bound: what is not sent by then stays unsent, the CLI does not hang


def die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGTERM when ``parent`` dies (Linux), or exits now if
    ``parent`` is already gone."""

    def arm() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


def _owned_server_class() -> type[Any]:
    from prefect.server.api import server as prefect_server

    class OwnedServer(prefect_server.SubprocessASGIServer):  # type: ignore[misc]
        """Prefect's temporary server, started with :func:`die_with_parent` armed."""

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            popen = partial(subprocess.Popen, preexec_fn=die_with_parent(os.getpid()))
            shim = types.SimpleNamespace(Popen=popen, TimeoutExpired=subprocess.TimeoutExpired)
            with mock.patch.object(prefect_server, "subprocess", shim):
                process: subprocess.Popen[Any] = super()._run_uvicorn_command()
            return process

    return OwnedServer


@contextmanager
def prefect_api() -> Iterator[None]:
    """Flows run in this block talk to the configured server, or to a temporary one that is
    stopped at the end of the block and can never outlive this process."""
    from prefect.settings import (
        PREFECT_API_DATABASE_CONNECTION_URL,
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        temporary_settings,
    )

    from cli.zombies import HEARTBEAT_SECONDS

    if PREFECT_API_URL.value():
        yield
        return
    server = _owned_server_class()()
    own_database = f"sqlite+aiosqlite:///{Path(PREFECT_HOME.value()) / TEMPORARY_DATABASE}"
    with temporary_settings({PREFECT_API_DATABASE_CONNECTION_URL: own_database}):
        server.start(timeout=STARTUP_TIMEOUT_SECONDS)  # the child reads these settings
    updates = {
        PREFECT_API_URL: server.api_url,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY: HEARTBEAT_SECONDS,
    }
    try:
        with temporary_settings(updates):
            try:
                asyncio.run(sweep_zombies())  # runs of a CLI that was killed: Crashed
                yield
            finally:
                flush_to_server()
    finally:
        server.stop()


def flush_to_server() -> None:
    """Send the logs and events still queued to the temporary server while it is up: left for
    the exit, Prefect's workers kept retrying a server already stopped (about a minute of
    silence, then "Error logging to API")."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=FLUSH_SECONDS)


async def sweep_zombies() -> list[Any]:
    """Mark Crashed the runs whose process is gone (see :mod:`cli.zombies`)."""
    from prefect.client.orchestration import get_client

    from cli.zombies import crash_zombie_runs

    async with get_client() as client:
        return await crash_zombie_runs(client)
