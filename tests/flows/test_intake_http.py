"""The HTTP key intake over real HTTP: authenticated, keys validated at once, one sentence per
refusal, nothing echoed; accepted keys start an activation run that gets the tenant only."""

from __future__ import annotations

import time

import httpx
import pytest
from prefect.artifacts import Artifact

from intake.app import IntakeUnavailableError, create_app
from sandboxes.runner import serve_in_thread
from tests.flows.test_tenancy import OTHER_SVENN_KEY, one_sentence, rows

pytestmark = pytest.mark.scenario

INTAKE_TOKEN = "intake-bearer-for-tests"


@pytest.fixture
def intake_url(sync_env, monkeypatch):
    from config.settings import load_settings

    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        yield root


def post(url, tenant, body, token=INTAKE_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}/tenants/{tenant}/activation", json=body, headers=headers, timeout=120)


def keys(pair, token=None, svenn_key=None):
    return {
        "tripletexEmployeeToken": token or pair.employee_token,
        "svennApiKey": svenn_key or pair.svenn_api_key,
    }


def test_the_intake_refuses_to_start_without_a_bearer_token(sync_env):
    with pytest.raises(IntakeUnavailableError, match="SVENN_SYNC_INTAKE_TOKEN"):
        create_app()


@pytest.mark.parametrize("token", [None, "wrong-bearer"])
def test_an_unauthenticated_caller_is_refused_and_nothing_stored(
    intake_url, sandboxes, state_store, token
):
    answer = post(intake_url, sandboxes.tenant, keys(sandboxes), token=token)
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHENTICATED"
    assert rows(state_store) == {}


@pytest.mark.parametrize("token", [None, "wrong-bearer"])
def test_an_unauthenticated_caller_is_refused_before_its_body_is_read(
    intake_url, sandboxes, state_store, token
):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers["Content-Type"] = "application/json"
    answer = httpx.post(
        f"{intake_url}/tenants/{sandboxes.tenant}/activation",
        content=b'{"not json',
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 401, answer.text
    assert answer.json() == {
        "code": "UNAUTHENTICATED",
        "message": "Send the intake's bearer token.",
    }
    assert rows(state_store) == {}


def test_a_malformed_body_is_refused_without_echoing_it(intake_url, sandboxes, state_store):
    body = {"tripletexEmployeeToken": sandboxes.employee_token, "svennApiKey": ["oops-secret"]}
    answer = post(intake_url, sandboxes.tenant, body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "MALFORMED_REQUEST"
    assert "svennApiKey" in answer.text
    assert "oops-secret" not in answer.text and sandboxes.employee_token not in answer.text
    assert rows(state_store) == {}


def test_a_bad_key_is_answered_in_one_sentence_and_nothing_stored(
    intake_url, sandboxes, state_store
):
    answer = post(intake_url, sandboxes.tenant, keys(sandboxes, token="pasted-wrong-thing"))
    assert answer.status_code == 422
    assert answer.json()["code"] == "KEY_INVALID"
    assert "pasted-wrong-thing" not in answer.text
    assert rows(state_store) == {}


def test_a_company_already_connected_is_a_conflict(
    pipeline, intake_url, sandboxes, state_store, second_accounts
):
    assert post(intake_url, sandboxes.tenant, keys(sandboxes)).status_code == 202
    answer = post(intake_url, "t-other", keys(sandboxes, svenn_key=OTHER_SVENN_KEY))
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "COMPANY_ALREADY_CONNECTED" and one_sentence(body["message"])
    assert "t-demo" in body["message"]
    assert set(rows(state_store)) == {sandboxes.tenant}


def test_good_keys_go_to_review_and_start_the_activation_run(
    pipeline, intake_url, sandboxes, state_store
):
    answer = post(intake_url, sandboxes.tenant, keys(sandboxes))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "review"
    assert body["tripletexCompany"]["id"] == sandboxes.company_id
    assert body["svennTenant"]["id"] == sandboxes.tenant
    assert sandboxes.employee_token not in answer.text
    deadline = time.monotonic() + 180
    while Artifact.get(f"plan-{sandboxes.tenant}") is None and time.monotonic() < deadline:
        time.sleep(0.5)  # the run started in the background publishes the plan
    plan = Artifact.get(f"plan-{sandboxes.tenant}")
    assert plan is not None
    assert f"({sandboxes.company_id})" in plan.data and f"({sandboxes.tenant})" in plan.data
    assert rows(state_store)[sandboxes.tenant][0] == "review"
