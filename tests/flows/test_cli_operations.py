"""The svenn-sync commands ops and scripts use, run as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prefect.settings import PREFECT_API_URL

from store.integrations import get_integration
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario


def svenn_sync(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), **env)
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def status_of(store, tenant):
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        return integration.status if integration else None


def test_cli_activate_refuses_a_wrong_key_in_one_line(pipeline, sandboxes, state_store):
    done = svenn_sync(
        "activate",
        sandboxes.tenant,
        TRIPLETEX_EMPLOYEE_TOKEN="pasted-the-wrong-thing",
        SVENN_API_KEY=sandboxes.svenn_api_key,
    )
    assert done.returncode == 1
    assert "error: KEY_INVALID: Tripletex did not accept the key" in done.stderr
    assert "pasted-the-wrong-thing" not in done.stdout + done.stderr
    assert status_of(state_store, sandboxes.tenant) is None


def test_cli_activate_then_approve_runs_the_initial_sync(pipeline, sandboxes, state_store):
    done = svenn_sync(
        "activate",
        sandboxes.tenant,
        TRIPLETEX_EMPLOYEE_TOKEN=sandboxes.employee_token,
        SVENN_API_KEY=sandboxes.svenn_api_key,
    )
    assert done.returncode == 0, done.stderr
    assert "review" in done.stdout
    assert status_of(state_store, sandboxes.tenant) == "review"
    assert writes(sandboxes.svenn_root) == []
    done = svenn_sync("approve", sandboxes.tenant, "--by", "kari@ops")
    assert done.returncode == 0, done.stderr
    assert "initial sync finished: active" in done.stdout
    assert status_of(state_store, sandboxes.tenant) == "active"
    listed = svenn_sync("integrations", "list", COLUMNS="200")
    assert "kari@ops" in listed.stdout and "active" in listed.stdout
    assert f"({sandboxes.company_id})" in listed.stdout  # both accounts, named for the approver
    assert f"({sandboxes.tenant})" in listed.stdout


def test_cli_reject_needs_a_reason_and_records_it(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    assert svenn_sync("reject", sandboxes.tenant, "--by", "ola@ops").returncode != 0
    done = svenn_sync("reject", sandboxes.tenant, "--by", "ola@ops", "--reason", "wrong company")
    assert done.returncode == 0, done.stderr
    assert status_of(state_store, sandboxes.tenant) == "rejected"
    again = svenn_sync("approve", sandboxes.tenant, "--by", "kari@ops")
    assert again.returncode == 1
    assert "is rejected, not in review" in again.stderr
