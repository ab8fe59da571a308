"""Activation: keys validated, review, plan preview, the approval gate and its decisions."""

from __future__ import annotations

import asyncio

import pytest
from prefect.artifacts import Artifact

from cli.operate import decide
from flows.activate import activate
from flows.initial_sync import initial_sync
from store.integrations import get_integration, history
from tasks.activation import Refusal
from tests.flows.conftest import ActivationInBackground, run_activation, take_keys, writes

pytestmark = pytest.mark.scenario


def integration_of(store, tenant):
    with store.sessions() as session:
        return get_integration(session, tenant)


def test_activation_goes_to_review_with_a_plan_and_writes_nothing(pipeline, sandboxes, state_store):
    result = run_activation(sandboxes)
    assert result == "review"
    integration = integration_of(state_store, sandboxes.tenant)
    assert integration.status == "review"
    assert integration.tripletex_company_id == sandboxes.company_id
    assert sandboxes.employee_token not in integration.employee_token_encrypted
    plan = Artifact.get("plan-t-demo")
    assert plan is not None and "dry run" in plan.data
    assert writes(sandboxes.tripletex_root) == []
    assert writes(sandboxes.svenn_root) == []
    pipeline.assert_clean()


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("not-a-real-token", "KEY_INVALID"),
        ("test-demo-employee-token", "TEST_KEY_IN_PRODUCTION"),
        ("demo-limited-token", "KEY_LACKS_ENTITLEMENTS"),
    ],
)
def test_a_bad_key_is_refused_and_nothing_is_stored(pipeline, sandboxes, state_store, token, code):
    refusal = take_keys(sandboxes, token)
    assert isinstance(refusal, Refusal)
    assert refusal.code == code
    assert token not in refusal.message
    assert integration_of(state_store, sandboxes.tenant) is None
    assert writes(sandboxes.tripletex_root) == []


def test_lacking_entitlements_are_named(pipeline, sandboxes):
    message = take_keys(sandboxes, "demo-limited-token").message
    for area in ("employees", "projects", "activities", "timesheet entries"):
        assert area in message
    assert "customers" not in message.split("cannot read", 1)[1].split(".")[0]
    assert "Alle tilganger" in message


def test_initial_sync_refuses_a_tenant_nobody_approved(pipeline, sandboxes, state_store):
    from prefect.exceptions import FailedRun

    run_activation(sandboxes)
    # The run ends Failed with the refusal as its one sentence, no task crash behind it.
    with pytest.raises(FailedRun, match=r"^tenant 't-demo' is review, not approved"):
        asyncio.run(initial_sync(sandboxes.tenant))
    assert writes(sandboxes.tripletex_root) == []
    assert writes(sandboxes.svenn_root) == []
    assert integration_of(state_store, sandboxes.tenant).status == "review"


def test_rejection_stores_who_and_why_and_writes_nothing(pipeline, sandboxes, state_store):
    run_activation(sandboxes)
    message = decide(state_store, sandboxes.tenant, "reject", "ola@ops", "wrong company")
    assert "rejected" in message
    integration = integration_of(state_store, sandboxes.tenant)
    assert (integration.status, integration.decided_by) == ("rejected", "ola@ops")
    assert integration.decision_reason == "wrong company"
    assert writes(sandboxes.tripletex_root) == []
    assert writes(sandboxes.svenn_root) == []


def test_no_decision_in_time_leaves_review_and_can_be_approved_later(
    pipeline, sandboxes, state_store
):
    assert (
        run_activation(sandboxes, approval_timeout_seconds=1, approval_poll_seconds=1) == "review"
    )
    assert integration_of(state_store, sandboxes.tenant).status == "review"
    message = decide(state_store, sandboxes.tenant, "approve", "kari@ops", "plan checked")
    assert message.endswith("active")
    with state_store.sessions() as session:
        steps = [(e.to_status, e.actor) for e in history(session, sandboxes.tenant)]
    assert steps[:2] == [("review", "activation"), ("approved", "kari@ops")]
    assert steps[-1][0] == "active"


def _wait_until_paused(store, tenant, timeout=60.0):
    import time
    from uuid import UUID

    from prefect.client.orchestration import get_client

    from cli.operate import pending_activation_run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_id = pending_activation_run(store, tenant)
        if run_id:
            with get_client(sync_client=True) as client:
                state = client.read_flow_run(UUID(run_id)).state
            if state and state.is_paused():
                return UUID(run_id)
        time.sleep(0.2)
    raise AssertionError("the activation run never paused for approval")


def test_approval_form_in_the_paused_run_starts_the_initial_sync(pipeline, sandboxes, state_store):
    from prefect.flow_runs import resume_flow_run

    runner = ActivationInBackground(sandboxes)
    run_id = _wait_until_paused(state_store, sandboxes.tenant)
    assert writes(sandboxes.tripletex_root) == []  # nothing before the decision
    with pytest.raises(RuntimeError, match="'maybe' is not one of"):  # the form is enforced
        resume_flow_run(run_id, run_input={"decision": "maybe", "approver": "x"})
    resume_flow_run(run_id, run_input={"decision": "approve", "approver": "kari@ops"})
    assert runner.result() == "active"
    integration = integration_of(state_store, sandboxes.tenant)
    assert (integration.status, integration.decided_by) == ("active", "kari@ops")
    assert writes(sandboxes.svenn_root), "the approved sync wrote to Svenn"


def test_cli_approve_answers_the_paused_run(pipeline, sandboxes, state_store):
    runner = ActivationInBackground(sandboxes)
    _wait_until_paused(state_store, sandboxes.tenant)
    message = decide(state_store, sandboxes.tenant, "reject", "ola@ops", "not this company")
    assert "took the decision up" in message and message.endswith("is rejected")
    assert runner.result() == "rejected"
    assert integration_of(state_store, sandboxes.tenant).decision_reason == "not this company"


def test_a_wrong_svenn_key_is_refused_and_nothing_is_stored(pipeline, sandboxes, state_store):
    refusal = take_keys(sandboxes, svenn_key="not-the-svenn-key")
    assert refusal.code == "SVENN_KEY_INVALID"
    assert "not-the-svenn-key" not in refusal.message
    assert integration_of(state_store, sandboxes.tenant) is None


def test_an_activation_run_without_stored_keys_is_refused(pipeline, sandboxes, state_store):
    state = asyncio.run(activate(sandboxes.tenant, approval_timeout_seconds=0, return_state=True))
    assert state.is_failed() and state.message.startswith("NO_KEYS")
    assert integration_of(state_store, sandboxes.tenant) is None


def test_keys_from_named_secret_blocks_reach_review(pipeline, sandboxes, state_store):
    from prefect.blocks.system import Secret

    Secret(value=sandboxes.employee_token).save("t-demo-tripletex", overwrite=True)
    Secret(value=sandboxes.svenn_api_key).save("t-demo-svenn", overwrite=True)
    result = asyncio.run(
        activate(
            sandboxes.tenant,
            tripletex_token_block="t-demo-tripletex",
            svenn_key_block="t-demo-svenn",
            approval_timeout_seconds=0,
        )
    )
    assert result == "review"
    integration = integration_of(state_store, sandboxes.tenant)
    assert (integration.svenn_tenant_id, integration.tripletex_company_id) == (
        sandboxes.tenant,
        sandboxes.company_id,
    )
