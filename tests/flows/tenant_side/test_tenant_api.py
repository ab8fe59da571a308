"""The tenant's side over real HTTP, read from a real activation's store: the status in
Norwegian, the log (newest first, searchable by part of a name, paged, no reason code in the
Norwegian text), refusals in one sentence, and the Logg page's signed links."""

from __future__ import annotations

import httpx
import pytest

from store.failures import find_failures
from sync.rules import ReasonCode
from tests.flows.conftest import take_keys
from tests.flows.tenant_side.conftest import HANSEN, INTAKE_TOKEN

pytestmark = pytest.mark.scenario


def open_rows(store, tenant) -> int:
    with store.sessions() as session:
        return find_failures(session, tenant)[1]


def test_status_is_in_norwegian_and_counts_the_open_problems(tenant_side, state_store):
    pair = tenant_side.pair
    answer = tenant_side.get(f"/tenants/{pair.tenant}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "active" and body["statusText"] == "Aktiv"
    assert body["tripletexCompany"]["id"] == pair.company_id
    assert body["tripletexCompany"]["name"]
    assert body["svennTenant"]["id"] == pair.tenant
    assert body["openProblems"] == open_rows(state_store, pair.tenant) > 0
    assert body["lastSyncedAt"] is not None and body["lagSeconds"] >= 0
    assert body["lastError"] is None
    assert pair.employee_token not in answer.text and pair.svenn_api_key not in answer.text


def test_a_tenant_in_review_reads_gjennomgang(sync_env, sandboxes, state_store, monkeypatch):
    from config.settings import load_settings
    from intake.app import create_app
    from sandboxes.runner import serve_in_thread

    take_keys(sandboxes)  # the keys are stored: the tenant waits for review
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
        body = httpx.get(f"{root}/tenants/{sandboxes.tenant}", headers=headers).json()
    assert body["status"] == "review" and body["statusText"] == "Gjennomgang"
    assert body["lastSyncedAt"] is None and body["openProblems"] == 0


def test_typing_part_of_a_name_finds_the_held_back_customer(tenant_side):
    tenant = tenant_side.pair.tenant
    answer = tenant_side.get(f"/tenants/{tenant}/log", q="hansen")
    assert answer.status_code == 200, answer.text
    found = answer.json()["entries"]
    assert [row["name"] for row in found] == [HANSEN]
    (row,) = found
    assert row["svennId"] == tenant_side.planted[HANSEN] and row["number"] == "K-1"
    assert row["entity"] == "customer" and row["entityText"] == "Kunde"
    assert row["reasonCode"] == "CUSTOMER_NUMBER_NOT_NUMERIC"
    assert HANSEN in row["messageNo"] and HANSEN in row["messageEn"]
    assert row["whatToDo"] and not row["resolved"]
    by_email = tenant_side.get(f"/tenants/{tenant}/log", q="POST1@KUNDE1").json()["entries"]
    assert [r["id"] for r in by_email] == [row["id"]]
    by_entity = tenant_side.get(f"/tenants/{tenant}/log", q="hansen", entity="project").json()
    assert by_entity["total"] == 0


def test_the_log_is_newest_first_paged_and_never_shows_a_code_in_norwegian(
    tenant_side, state_store
):
    tenant = tenant_side.pair.tenant
    everything = tenant_side.get(f"/tenants/{tenant}/log", status="all", pageSize=200).json()
    total = everything["total"]
    assert total == len(everything["entries"]) >= open_rows(state_store, tenant) > 2
    seen = [row["lastSeen"] for row in everything["entries"]]
    assert seen == sorted(seen, reverse=True)
    first = tenant_side.get(f"/tenants/{tenant}/log", status="all", pageSize=2, page=1).json()
    second = tenant_side.get(f"/tenants/{tenant}/log", status="all", pageSize=2, page=2).json()
    assert first["pages"] == (total + 1) // 2
    ids = [r["id"] for r in first["entries"] + second["entries"]]
    assert ids == [r["id"] for r in everything["entries"][:4]]
    codes = {code.value for code in ReasonCode}
    for row in everything["entries"]:
        norwegian = " ".join((row["messageNo"], row["title"], row["whatToDo"]))
        assert not [code for code in codes if code in norwegian], row


def test_refusals_are_one_sentence_and_every_answer_is_in_the_openapi_document(tenant_side):
    tenant = tenant_side.pair.tenant
    for path in ("/tenants/t-nobody", "/tenants/t-nobody/log"):
        answer = tenant_side.get(path)
        assert answer.status_code == 404
        assert answer.json() == {
            "code": "UNKNOWN_TENANT",
            "message": "No integration is known for tenant t-nobody.",
        }
    for path in (f"/tenants/{tenant}", f"/tenants/{tenant}/log"):
        answer = httpx.get(tenant_side.url + path, headers={"Authorization": "Bearer wrong"})
        assert answer.status_code == 401 and answer.json()["code"] == "UNAUTHENTICATED"
    answer = tenant_side.get(f"/tenants/{tenant}/log", status="bogus", page=0)
    assert answer.status_code == 422
    assert answer.json() == {
        "code": "MALFORMED_REQUEST",
        "message": "Check the query parameters (problem with: page, status).",
    }

    paths = httpx.get(tenant_side.url + "/openapi.json").json()["paths"]
    assert set(paths["/tenants/{tenant}"]["get"]["responses"]) == {
        "200", "401", "404", "413", "422",
    }  # fmt: skip
    assert set(paths["/tenants/{tenant}/log"]["get"]["responses"]) == {
        "200", "401", "404", "413", "422",
    }  # fmt: skip
    assert set(paths["/tenants/{tenant}/logg"]["get"]["responses"]) == {
        "200", "403", "404", "422",
    }  # fmt: skip
    error_body = {"$ref": "#/components/schemas/Answer"}
    for path, status in [
        ("/tenants/{tenant}", "401"), ("/tenants/{tenant}", "404"), ("/tenants/{tenant}", "422"),
        ("/tenants/{tenant}/log", "401"), ("/tenants/{tenant}/log", "404"),
        ("/tenants/{tenant}/log", "422"), ("/tenants/{tenant}/logg", "422"),
    ]:  # fmt: skip
        documented = paths[path]["get"]["responses"][status]
        assert documented["content"]["application/json"]["schema"] == error_body, (path, status)
