"""Runs that give up, refusals and failed previews leave a state and a reason to act on."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.operate import DecisionError, decide
from connectors.http import HttpPolicy
from flows.activate import ApprovalDecision, record_decision
from flows.initial_sync import initial_sync
from store.integrations import claim_sync, get_integration, history
from tasks import tenant as tenant_wiring
from tests.flows.conftest import run_activation, writes

pytestmark = pytest.mark.scenario
FAST = HttpPolicy(timeout=2.0, max_retries=1, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tenant_wiring.WIRING, "policy", FAST)


def fault(root: str, **spec) -> None:
    httpx.post(f"{root}/_admin/faults", json=spec).raise_for_status()


def clear(pair) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/faults").raise_for_status()


def approve(pair, store) -> None:
    run_activation(pair)
    decision = ApprovalDecision(decision="approve", approver="kari")
    record_decision.fn(store, pair.tenant, decision, None)


def integration(store, tenant):
    with store.sessions() as session:
        found = get_integration(session, tenant)
        assert found is not None
        session.expunge(found)
        return found


@pytest.mark.parametrize(
    ("system", "spec", "says"),
    [
        ("tripletex", {"kind": "429", "rate": 1.0, "method": "POST"}, "HTTP 429"),
        (
            "tripletex",
            {"kind": "500", "rate": 1.0, "method": "POST", "path_prefix": "/v2/customer/list"},
            "did not confirm a write",
        ),
        ("tripletex", {"kind": "503", "rate": 1.0, "path_prefix": "/v2/project"}, "could not be"),
    ],
)
def test_a_sync_that_gives_up_is_failed_with_the_reason_and_a_rerun_completes(
    pipeline, sandboxes, state_store, fast_retries, system, spec, says
):
    approve(sandboxes, state_store)
    root = sandboxes.tripletex_root if system == "tripletex" else sandboxes.svenn_root
    fault(root, **spec)
    state = asyncio.run(initial_sync(sandboxes.tenant, return_state=True))
    assert state.is_failed()
    stopped = integration(state_store, sandboxes.tenant)
    assert stopped.status == "failed"
    assert says in stopped.last_error and "run the initial sync again" in stopped.last_error
    assert state.message == stopped.last_error  # the Prefect run says the same, in one sentence
    assert "\n" not in stopped.last_error and "Traceback" not in stopped.last_error
    clear(sandboxes)
    rerun = asyncio.run(initial_sync(sandboxes.tenant, return_state=True))
    assert rerun.is_completed()
    done = integration(state_store, sandboxes.tenant)
    assert done.status in ("active", "failed")  # failed only by the checks after the sync
    if done.status == "active":
        assert done.last_error is None


@pytest.mark.parametrize("kind", ["429", "500", "drop"])
def test_under_heavy_faults_a_run_never_stays_syncing_without_a_reason(
    pipeline, sandboxes, state_store, fast_retries, kind
):
    approve(sandboxes, state_store)
    for root in (sandboxes.tripletex_root, sandboxes.svenn_root):
        fault(root, kind=kind, rate=0.8)
    asyncio.run(initial_sync(sandboxes.tenant, return_state=True))
    after = integration(state_store, sandboxes.tenant)
    assert after.status in ("active", "failed")
    assert after.status == "active" or after.last_error


def test_an_activation_whose_preview_fails_is_off_with_the_reason_and_cannot_be_approved(
    pipeline, sandboxes, state_store, fast_retries
):
    fault(sandboxes.svenn_root, kind="503", rate=1.0, path_prefix="/api/v1/projects")
    state = run_activation(sandboxes, return_state=True)
    assert state.is_failed() and "plan preview could not be built" in state.message
    after = integration(state_store, sandboxes.tenant)
    assert after.status == "off" and after.last_error == state.message
    with state_store.sessions() as session:
        assert [e.to_status for e in history(session, sandboxes.tenant)] == ["review", "off"]
    with pytest.raises(DecisionError, match="not in review"):
        decide(state_store, sandboxes.tenant, "approve", "kari", "")
    assert writes(sandboxes.tripletex_root) == [] and writes(sandboxes.svenn_root) == []
    clear(sandboxes)
    run_activation(sandboxes)  # activating again works, and clears the reason
    again = integration(state_store, sandboxes.tenant)
    assert again.status == "review" and again.last_error is None


def test_a_rerun_within_the_lease_is_refused_by_the_cli_in_one_sentence(
    pipeline, sandboxes, state_store
):
    approve(sandboxes, state_store)
    with state_store.sessions.begin() as session:
        claim_sync(session, sandboxes.tenant, "run-elsewhere", lease=dt.timedelta(seconds=120))
    result = CliRunner().invoke(app, ["initial-sync", sandboxes.tenant])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("error: tenant 't-demo': initial-sync run run-elsewhere is still")
    assert lines[0].endswith("s if it was killed")
