"""A rerun refused because another run holds the tenant prints one line and no traceback, for
every command that can meet a held lease (run as real subprocesses)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from prefect.settings import PREFECT_API_URL

from cli.operate import decide
from store.leases import HOURS_EXPORT, INITIAL_SYNC, acquire_lease
from tests.flows.conftest import run_activation

pytestmark = pytest.mark.scenario
TTL = dt.timedelta(minutes=10)


def svenn_sync(*args: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def held_by_a_killed_run(store, tenant: str, purpose: str) -> None:
    with store.sessions.begin() as session:
        acquire_lease(session, tenant, purpose, "killed-run-1", ttl=TTL)


@pytest.mark.parametrize(
    ("purpose", "command"),
    [
        (HOURS_EXPORT, ("hours", "export")),
        (INITIAL_SYNC, ("failures", "retry")),  # a retry writes as the initial sync does
        (INITIAL_SYNC, ("initial-sync",)),
    ],
    ids=["hours-export", "failures-retry", "initial-sync"],
)
def test_a_held_lease_is_one_line_without_a_traceback(
    pipeline, sandboxes, state_store, purpose, command
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    held_by_a_killed_run(store, pair.tenant, purpose)
    done = svenn_sync(*command, pair.tenant)
    printed = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr, printed
    assert len(printed) == 1, printed
    assert "still running" in printed[0] and "rerun in" in printed[0], printed
