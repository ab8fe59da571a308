"""Tripletex sandbox: sessions, envelopes, paging, fields, digests, versions, limits."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.runner import serve_in_thread
from sandboxes.tripletex.app import create_app
from tests.tripletex_sandbox_support import (
    CONSUMER,
    FUTURE,
    TOKEN_B,
    new_checker,
    open_session,
    sandbox,
)

CHECKER = new_checker()


@pytest.fixture(scope="module", autouse=True)
def spec_clean() -> Iterator[None]:
    yield
    assert CHECKER.checked > 0
    CHECKER.assert_clean()


@pytest.fixture
def env() -> Iterator[Any]:
    with sandbox(CHECKER) as running:
        yield running


def test_session_create_put_and_post_forms(env: Any) -> None:
    base, _, _ = env
    with httpx.Client(base_url=f"{base}/v2", event_hooks={"response": [CHECKER.sync_hook]}) as c:
        body = {"consumerToken": CONSUMER, "employeeToken": TOKEN_B, "expirationDate": FUTURE}
        created = c.post("/token/session/:create", json=body)
        assert created.status_code == 201
        token = created.json()["value"]["token"]
        c.auth = ("0", token)
        me = c.get("/token/session/>whoAmI").json()["value"]
        assert me["companyId"] == 2002 and me["employeeId"] == 51
        assert c.delete(f"/token/session/{token}").status_code == 204
        assert c.get("/customer").status_code == 401


def test_wrong_tokens_give_422_with_consumer_token_message(env: Any) -> None:
    base, _, _ = env
    url = f"{base}/v2/token/session/:create"
    bad = httpx.put(
        url, params={"consumerToken": "nope", "employeeToken": TOKEN_B, "expirationDate": FUTURE}
    )
    assert bad.status_code == 422 and bad.json()["code"] == 18000
    assert bad.json()["validationMessages"][0] == {
        "field": "arg:consumerToken",
        "message": "The consumer token is invalid or does not exist.",
        "path": "arg:consumerToken",
        "rootId": None,
    }
    unknown = httpx.put(
        url, params={"consumerToken": CONSUMER, "employeeToken": "x", "expirationDate": FUTURE}
    )
    assert unknown.status_code == 422
    assert unknown.json()["validationMessages"][0]["field"] == "arg:employeeToken"
    past = httpx.put(
        url,
        params={
            "consumerToken": CONSUMER,
            "employeeToken": TOKEN_B,
            "expirationDate": "2020-01-01",
        },
    )
    assert past.status_code == 422


@pytest.mark.parametrize(("environment", "token"), [("production", "test-abc"), ("test", "abc")])
def test_tokens_of_the_other_environment_are_refused(environment: str, token: str) -> None:
    data = {"companies": [{"id": 7, "employeeTokens": [{"token": token}]}]}
    with serve_in_thread(create_app(data, environment=environment)) as base:
        refused = httpx.put(
            f"{base}/v2/token/session/:create",
            params={"consumerToken": CONSUMER, "employeeToken": token, "expirationDate": FUTURE},
        )
    assert refused.status_code == 422
    assert refused.json()["validationMessages"][0]["field"] == "arg:consumerToken"


def test_missing_or_bad_auth_gives_401_code_3000(env: Any) -> None:
    base, _, _ = env
    plain = httpx.get(f"{base}/v2/customer")
    assert plain.status_code == 401 and plain.json()["code"] == 3000
    assert plain.json()["requestId"] == plain.headers["x-tlx-request-id"]
    wrong_user = httpx.get(f"{base}/v2/customer", auth=("abc", open_session(base)))
    assert wrong_user.status_code == 401


def test_expired_sessions_give_401(env: Any) -> None:
    base, _, client = env
    assert client.get("/customer").status_code == 200
    assert httpx.post(f"{base}/_admin/sessions/expire").status_code == 200
    expired = client.get("/customer")
    assert expired.status_code == 401 and expired.json()["code"] == 3000


def test_company_id_as_basic_username_is_accepted(env: Any) -> None:
    base, _, _ = env
    token = open_session(base)
    header = base64.b64encode(f"1001:{token}".encode()).decode()
    response = httpx.get(f"{base}/v2/customer", headers={"Authorization": f"Basic {header}"})
    assert response.status_code == 200


def test_list_envelope_paging_and_default_digest(env: Any) -> None:
    _, _, client = env
    client.post("/customer/list", json=[{"name": f"Kunde {i}"} for i in range(25)])
    page = client.get("/customer", params={"from": 10, "count": 10}).json()
    assert page["fullResultSize"] == 26 and page["from"] == 10 and page["count"] == 10
    assert page["versionDigest"] == "'If-None-Match' header not specified"
    assert len(page["values"]) == 10


def test_count_above_10000_is_refused(env: Any) -> None:
    _, _, client = env
    response = client.get("/customer", params={"count": 10001})
    assert response.status_code == 422 and response.json()["code"] == 23000


def test_fields_filter_subobjects_and_bare_references(env: Any) -> None:
    _, _, client = env
    project = client.get("/project/31", params={"fields": "id,name,customer(id,name)"}).json()
    assert project["value"] == {
        "id": 31,
        "name": "Tak",
        "customer": {"id": 21, "name": "Kunde En AS"},
    }
    bare = client.get("/project/31", params={"fields": "projectManager"}).json()["value"]
    assert set(bare["projectManager"]) == {"id", "url"}
    star = client.get("/project/31", params={"fields": "*"}).json()["value"]
    assert star["version"] == 0 and "changes" not in star and "url" in star
    with_changes = client.get("/project/31", params={"fields": "*,changes"}).json()["value"]
    assert with_changes["changes"][0]["changeType"] == "CREATE"


def test_unknown_field_in_filter_is_400_code_11000(env: Any) -> None:
    _, _, client = env
    response = client.get("/project", params={"fields": "id,fixedPrice"})
    assert response.status_code == 400 and response.json()["code"] == 11000
    assert response.json()["message"].startswith("Illegal field in fields filter: fixedPrice.")


def test_sorting_descending(env: Any) -> None:
    _, _, client = env
    client.post("/customer/list", json=[{"name": "Aaa"}, {"name": "Zzz"}])
    names = [
        c["name"] for c in client.get("/customer", params={"sorting": "-name"}).json()["values"]
    ]
    assert names == sorted(names, reverse=True)


def test_changed_since_returns_only_later_changes(env: Any) -> None:
    _, _, client = env
    client.put("/customer/21", json={"phoneNumber": "22 33 44 55"})
    stamp = client.get("/customer/21", params={"fields": "changes"}).json()["value"]["changes"]
    since = stamp[-1]["timestamp"]
    client.post("/customer", json={"name": "Ny Kunde AS"})
    changed = client.get("/customer", params={"changedSince": since, "fields": "id,name"}).json()
    assert {c["name"] for c in changed["values"]} >= {"Ny Kunde AS"}
    far = client.get("/customer", params={"changedSince": "2999-01-01T00:00:00"}).json()
    assert far["values"] == []


def test_if_none_match_digest_and_304(env: Any) -> None:
    _, _, client = env
    first = client.get("/project", headers={"If-None-Match": "x"})
    digest = first.json()["versionDigest"]
    assert digest != "'If-None-Match' header not specified"
    assert client.get("/project", headers={"If-None-Match": digest}).status_code == 304
    client.put("/project/31", json={"description": "endret"})
    assert client.get("/project", headers={"If-None-Match": digest}).status_code == 200


def test_stale_version_gives_409_code_8000_and_no_version_skips_check(env: Any) -> None:
    _, _, client = env
    updated = client.put("/customer/21", json={"id": 21, "version": 0, "name": "Nytt Navn AS"})
    assert updated.json()["value"]["version"] == 1
    stale = client.put("/customer/21", json={"id": 21, "version": 0, "name": "X"})
    assert stale.status_code == 409 and stale.json()["code"] == 8000
    unchecked = client.put("/customer/21", json={"email": "ny@kunde1.no"})
    value = unchecked.json()["value"]
    assert value["version"] == 2 and value["name"] == "Nytt Navn AS"  # partial update


def test_unknown_json_field_gives_422_code_16000(env: Any) -> None:
    _, _, client = env
    response = client.post("/project", json={"name": "X", "fixedPrice": 10})
    assert response.status_code == 422 and response.json()["code"] == 16000
    assert (
        response.json()["validationMessages"][0]["message"] == "Feltet eksisterer ikke i objektet."
    )


def test_companies_are_isolated(env: Any) -> None:
    base, _, client = env
    with httpx.Client(base_url=f"{base}/v2", auth=("0", open_session(base, TOKEN_B))) as other:
        names = [c["name"] for c in other.get("/customer").json()["values"]]
        assert names == ["Bare B AS"]
        assert other.get("/customer/21").status_code == 404
        assert other.put("/customer/21", json={"name": "hijack"}).status_code == 404
    assert client.get("/customer/61").status_code == 404


def test_missing_entitlement_gives_403_code_9000(env: Any) -> None:
    base, _, _ = env
    with httpx.Client(base_url=f"{base}/v2", auth=("0", open_session(base, TOKEN_B))) as other:
        assert other.get("/customer").status_code == 200
        denied = other.get("/project")
        assert denied.status_code == 403 and denied.json()["code"] == 9000


def test_rate_limit_headers_and_429_without_reset() -> None:
    with sandbox(CHECKER, rate_limit=3, rate_window_seconds=60) as (_, _, client):
        first = client.get("/customer")
        assert first.headers["x-rate-limit-limit"] == "3"
        assert first.headers["x-rate-limit-remaining"] == "2"  # creating the session is free
        assert "x-rate-limit-reset" in first.headers
        client.get("/customer")
        client.get("/customer")
        limited = client.get("/customer")
        assert limited.status_code == 429
        assert "x-rate-limit-reset" not in limited.headers
        assert limited.headers["x-rate-limit-remaining"] == "0"


def test_every_response_has_a_request_id(env: Any) -> None:
    _, _, client = env
    for response in (client.get("/customer"), client.get("/customer/999999")):
        assert response.headers["x-tlx-request-id"]
    assert client.get("/customer/999999").json()["code"] == 6000
