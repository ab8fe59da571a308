"""The svenn-sync commands ops and scripts use, run as real subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL

from store.integrations import get_integration
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario
ROOT = Path(__file__).resolve().parents[2]


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
    assert "active" in listed.stdout and f"({sandboxes.company_id})" in listed.stdout
    shown = svenn_sync("integrations", "show", sandboxes.tenant)
    assert "kari@ops" in shown.stdout  # both accounts and the decision, named for the approver
    assert str(sandboxes.company_id) in shown.stdout and sandboxes.tenant in shown.stdout


def test_cli_reject_needs_a_reason_and_records_it(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    assert svenn_sync("reject", sandboxes.tenant, "--by", "ola@ops").returncode != 0
    done = svenn_sync("reject", sandboxes.tenant, "--by", "ola@ops", "--reason", "wrong company")
    assert done.returncode == 0, done.stderr
    assert status_of(state_store, sandboxes.tenant) == "rejected"
    again = svenn_sync("approve", sandboxes.tenant, "--by", "kari@ops")
    assert again.returncode == 1
    assert "is rejected, not in review" in again.stderr


def _plan_hints(tenant: str) -> dict[str, str]:
    """The approve and reject commands the plan artifact prints, with its placeholders filled
    the way a person would (NAME, WHY)."""
    from prefect.artifacts import Artifact

    plan: Any = Artifact.get(f"plan-{tenant}")  # the sync form of a dual sync/async call
    assert plan is not None and isinstance(plan.data, str)
    commands = re.findall(r"`([^`]*svenn-sync (?:approve|reject) [^`]*)`", plan.data)
    assert len(commands) == 2, plan.data
    filled = [c.replace("NAME", "kari@ops").replace("WHY", "'wrong company'") for c in commands]
    return {c.split()[1]: c for c in filled}


def _as_printed(line: str) -> subprocess.CompletedProcess[str]:
    """A printed command in a shell at the repository root, with this deployment's settings."""
    environment = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    return subprocess.run(
        ["sh", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_the_plan_artifacts_reject_hint_works_as_printed(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    done = _as_printed(_plan_hints(sandboxes.tenant)["reject"])
    assert done.returncode == 0, done.stderr
    assert status_of(state_store, sandboxes.tenant) == "rejected"
    with state_store.sessions() as session:
        integration = get_integration(session, sandboxes.tenant)
        assert integration is not None and integration.decision_reason == "wrong company"


def test_the_plan_artifacts_approve_hint_works_as_printed(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    done = _as_printed(_plan_hints(sandboxes.tenant)["approve"])
    assert done.returncode == 0, done.stderr
    assert "initial sync finished: active" in done.stdout
    assert status_of(state_store, sandboxes.tenant) == "active"
