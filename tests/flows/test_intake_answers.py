"""Bad input to the tenant API gets one sentence and changes nothing; every route documents
every answer it gives; one tenant's path never reaches another's integration."""

from __future__ import annotations

import httpx
import pytest

from intake.answers import ANY_ROUTE
from intake.app import create_app
from intake.body_limit import MAX_BODY_BYTES
from tests.flows.conftest import take_keys
from tests.flows.test_intake_http import INTAKE_TOKEN, intake_url
from tests.flows.test_tenancy import one_sentence, rows

pytestmark = pytest.mark.scenario
__all__ = ["intake_url"]

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}", "Content-Type": "application/json"}
ROUTES = [
    ("POST", "activation"),
    ("POST", "deactivation"),
    ("PUT", "keys"),
]


def send(url: str, method: str, route: str, tenant: str = "t-demo", **options):
    return httpx.request(
        method, f"{url}/tenants/{tenant}/{route}", headers=AUTH, timeout=60, **options
    )


def chunks(total: int):
    sent = 0
    while sent < total:
        yield b" " * 8192
        sent += 8192


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_bad_json_unknown_fields_and_huge_bodies_get_one_sentence_and_change_nothing(
    intake_url, sandboxes, state_store, method, route
):
    bad_json = send(intake_url, method, route, content=b'{"by": "ola", ')
    assert bad_json.status_code == 422
    assert bad_json.json()["code"] == "MALFORMED_REQUEST"
    assert bad_json.json()["message"] == "The body is not valid JSON."

    unknown = send(intake_url, method, route, json={"by": "ola", "passord": "hemmelig-123"})
    assert unknown.status_code == 422 and "passord" in unknown.json()["message"]
    assert "hemmelig-123" not in unknown.text and one_sentence(unknown.json()["message"])

    huge = b'{"by": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    declared = send(intake_url, method, route, content=huge)
    assert declared.status_code == 413 and declared.json()["code"] == "BODY_TOO_LARGE"
    assert one_sentence(declared.json()["message"])
    streamed = send(intake_url, method, route, content=chunks(MAX_BODY_BYTES + 8192))
    assert streamed.status_code == 413 and streamed.json()["code"] == "BODY_TOO_LARGE"

    bad_tenant = send(intake_url, method, route, tenant="-" + "x" * 120, json={"by": "ola"})
    assert bad_tenant.status_code == 422 and one_sentence(bad_tenant.json()["message"])
    assert rows(state_store) == {}


def test_a_tenant_path_reaches_only_that_tenants_integration(
    pipeline, intake_url, sandboxes, state_store, second_accounts
):
    take_keys(sandboxes)  # t-demo in review
    before = rows(state_store)
    other = send(intake_url, "POST", "deactivation", tenant="t-other", json={"by": "ola"})
    assert other.status_code == 404 and other.json()["code"] == "UNKNOWN_TENANT"
    assert one_sentence(other.json()["message"])
    new_key = {"tripletexEmployeeToken": sandboxes.employee_token}
    keys = send(intake_url, "PUT", "keys", tenant="t-other", json=new_key)
    assert keys.status_code == 404 and sandboxes.employee_token not in keys.text
    assert rows(state_store) == before


def test_every_route_documents_every_answer_with_the_code_and_message_body(sync_env, monkeypatch):
    from config.settings import load_settings

    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    spec = create_app(run_on="process").openapi()
    documented = {
        (method.upper(), path.rsplit("/", 1)[-1]): operation["responses"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    answer = spec["components"]["schemas"]["Answer"]
    assert set(answer["required"]) == {"code", "message"}
    expected = {
        ("POST", "activation"): {202, 409, 503},
        ("POST", "deactivation"): {200, 404, 409},
        ("PUT", "keys"): {200, 404, 409, 503},
    }
    for operation, statuses in expected.items():
        answers = documented[operation]
        assert {int(s) for s in answers} == statuses | set(ANY_ROUTE), operation
        for status in ANY_ROUTE:
            schema = answers[str(status)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Answer"}, (operation, status)
