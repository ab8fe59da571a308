"""Kill during the approval wait: `approve` sees the paused run is gone and syncs itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

from cli.operate import decide, pending_activation_run
from config.settings import load_settings
from store.integrations import get_integration
from tests.flows.conftest import writes

pytestmark = pytest.mark.scenario
HEARTBEAT = "1"  # seconds; three missed beats = gone


def run_state(run_id: str):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id)).state


def start_waiting_activation(pair) -> subprocess.Popen:
    """`svenn-sync activate --wait` in its own process (group), as an operator would run it."""
    env = dict(
        os.environ,
        PREFECT_API_URL=PREFECT_API_URL.value(),
        TRIPLETEX_EMPLOYEE_TOKEN=pair.employee_token,
        SVENN_API_KEY=pair.svenn_api_key,
        SVENN_SYNC_ACTIVATION_HEARTBEAT_SECONDS=HEARTBEAT,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "activate", pair.tenant, "--wait", "600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until_paused(store, tenant, process, timeout=240.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the activation process ended before pausing"
        run_id = pending_activation_run(store, tenant)
        if run_id and (state := run_state(run_id)) and state.is_paused():
            return run_id
        time.sleep(0.3)
    raise AssertionError("the activation run never paused for approval")


@pytest.fixture
def short_heartbeat(monkeypatch):
    monkeypatch.setenv("SVENN_SYNC_ACTIVATION_HEARTBEAT_SECONDS", HEARTBEAT)
    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def test_approve_after_the_paused_process_was_killed_runs_the_sync_itself(
    pipeline, sandboxes, state_store, short_heartbeat
):
    process = start_waiting_activation(sandboxes)
    try:
        run_id = wait_until_paused(state_store, sandboxes.tenant, process)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert run_state(run_id).is_paused()  # Prefect alone cannot tell it died
        time.sleep(3.5)  # three missed heartbeats
        message = decide(state_store, sandboxes.tenant, "approve", "kari@ops", "plan checked")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert f"the activation run {run_id} is gone" in message
    assert message.endswith("initial sync finished: active")
    assert run_state(run_id).is_crashed()
    with state_store.sessions() as session:
        integration = get_integration(session, sandboxes.tenant)
        assert (integration.status, integration.decided_by) == ("active", "kari@ops")
    assert writes(sandboxes.svenn_root), "the sync ran in the approving process"
    assert pending_activation_run(state_store, sandboxes.tenant) is None


def test_approve_answers_a_paused_process_that_is_alive(
    pipeline, sandboxes, state_store, short_heartbeat
):
    process = start_waiting_activation(sandboxes)
    try:
        run_id = wait_until_paused(state_store, sandboxes.tenant, process)
        time.sleep(3.5)  # longer than three beats: a live run keeps beating
        message = decide(state_store, sandboxes.tenant, "reject", "ola@ops", "wrong company")
        # approve returns once the run has taken the decision up, never on a bare answer
        assert (
            message
            == f"the activation run {run_id} took the decision up: {sandboxes.tenant} is rejected"
        )
        assert process.wait(timeout=240) == 0  # the run ended (rejected) in its process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    with state_store.sessions() as session:
        assert get_integration(session, sandboxes.tenant).status == "rejected"
