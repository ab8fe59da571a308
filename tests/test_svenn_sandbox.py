"""The Svenn sandbox over real HTTP, every exchange validated against our Svenn contract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from sandboxes.openapi_check import SVENN_SPEC, OpenAPIChecker
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app
from sandboxes.svenn.seed import example_seed

ACME, BETA = "svenn-acme-key", "svenn-beta-key"


@dataclass
class Sandbox:
    url: str
    api: httpx.Client  # tenant t-acme, checked against the contract
    checker: OpenAPIChecker

    def client(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        hooks = {"response": [self.checker.sync_hook]}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, event_hooks=hooks)

    def raw(self, key: str | None = ACME) -> httpx.Client:
        """A client whose requests are deliberately outside the contract (not checked)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers)

    def admin(self, path: str, body: Any = None) -> Any:
        response = httpx.post(self.url + "/_admin" + path, json=body)
        assert response.status_code < 300, response.text
        return response.json()


def start(seed: dict[str, Any] | None = None, **options: Any) -> Iterator[Sandbox]:
    checker = OpenAPIChecker(SVENN_SPEC, server_prefix="/api/v1")
    with serve_in_thread(create_app(seed or example_seed(), **options)) as url:
        sandbox = Sandbox(url, httpx.Client(), checker)
        with sandbox.client(ACME) as api:
            sandbox.api = api
            yield sandbox
    checker.assert_clean()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from start()


def all_pages(api: httpx.Client, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    records, calls, after = [], 0, None
    while True:
        query = params | ({"after": after} if after else {})
        page = api.get(path, params=query).json()
        calls += 1
        records += page["data"]
        after = page["next"]
        if after is None:
            return records, calls


def test_contract_is_a_valid_openapi_document_and_is_served(sandbox: Sandbox) -> None:
    document = json.loads(SVENN_SPEC.read_text())
    validate(document)
    assert httpx.get(sandbox.url + "/openapi.json").json() == document
    assert sandbox.api.get("/openapi.json").json() == document


def test_missing_or_unknown_key_is_401_problem(sandbox: Sandbox) -> None:
    for anonymous in (sandbox.raw(None), sandbox.client("wrong-key")):
        with anonymous:
            response = anonymous.get("/customers")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/unauthorized")
        assert "wrong-key" not in response.text
        assert response.headers["www-authenticate"] == "Bearer"
    assert sandbox.api.get("/me").json() == {"id": "t-acme", "name": "Acme Bygg AS"}


def test_paging_returns_every_record_once_in_id_order(sandbox: Sandbox) -> None:
    items = [{"name": f"Kunde {n}", "customerNumber": 20000 + n} for n in range(25)]
    results = sandbox.api.post("/customers/batch", json={"items": items}).json()["results"]
    assert [r["status"] for r in results] == [201] * 25
    records, calls = all_pages(sandbox.api, "/customers", limit=7)
    ids = [r["id"] for r in records]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 26
    assert calls == 4
    assert sandbox.api.get("/customers", params={"limit": 1000}).json()["next"] is None


def test_fetch_by_ids_leaves_out_unknown_ids(sandbox: Sandbox) -> None:
    created = sandbox.api.post("/customers", json={"name": "Ny Kunde AS"}).json()
    page = sandbox.api.get("/customers", params={"ids": f"{created['id']},nope,cus-1"}).json()
    assert [r["id"] for r in page["data"]] == sorted([created["id"], "cus-1"])


def test_create_then_patch_with_version_and_stale_version_is_412(sandbox: Sandbox) -> None:
    response = sandbox.api.post("/employees", json={"firstName": "Nina", "lastName": "Lie"})
    assert response.status_code == 201 and response.headers["etag"] == '"1"'
    employee = response.json()
    assert response.headers["location"].endswith(employee["id"])
    path = f"/employees/{employee['id']}"
    with sandbox.raw() as raw:  # the contract requires If-Match on PATCH: this is outside it
        missing = raw.patch(path, json={"phone": "99887766"})
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    updated = sandbox.api.patch(path, json={"phone": "99887766"}, headers={"If-Match": '"1"'})
    assert updated.json()["version"] == 2 and updated.headers["etag"] == '"2"'
    stale = sandbox.api.patch(path, json={"phone": "1"}, headers={"If-Match": "1"})
    assert stale.status_code == 412 and stale.json()["currentVersion"] == 2
    assert sandbox.api.get(path).json()["phone"] == "99887766"


def test_unchanged_patch_keeps_the_version(sandbox: Sandbox) -> None:
    same = sandbox.api.patch("/customers/cus-1", json={"name": "Fjord Eiendom AS"},
                             headers={"If-Match": "1"})  # fmt: skip
    assert same.status_code == 200 and same.json()["version"] == 1


def test_batch_create_reports_each_item_on_its_own(sandbox: Sandbox) -> None:
    items = [
        {"name": "God Kunde AS", "externalRef": "tx-1"},
        {"nmae": "Typo"},
        {"name": "Dobbel", "customerNumber": 10001},
        {"name": "Igjen", "externalRef": "tx-1"},
    ]
    results = sandbox.api.post("/customers/batch", json={"items": items}).json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == [201, 422, 422, 409]
    assert {e["code"] for e in results[1]["problem"]["errors"]} == {"unknown_field", "required"}
    assert results[2]["problem"]["errors"][0] == {
        "field": "customerNumber", "message": "is already used by cus-1", "code": "unique"
    }  # fmt: skip
    assert results[3]["problem"]["existingId"] == results[0]["data"]["id"]
    too_many = sandbox.api.post("/customers/batch", json={"items": [{"name": "x"}] * 501})
    assert too_many.status_code in (400, 422)
    sandbox.checker.violations.clear()  # 501 items is outside the contract on purpose


def test_create_with_existing_external_ref_is_409_naming_the_record(sandbox: Sandbox) -> None:
    first = sandbox.api.post("/projects", json={"name": "Bad", "externalRef": "tx-p-1"}).json()
    again = sandbox.api.post("/projects", json={"name": "Bad", "externalRef": "tx-p-1"})
    assert again.status_code == 409
    assert again.json()["existingId"] == first["id"]
    found = sandbox.api.get("/projects", params={"externalRef": "tx-p-1"}).json()["data"]
    assert [p["id"] for p in found] == [first["id"]]


def test_a_repeated_create_learns_the_record_exists_before_any_unique_rule(
    sandbox: Sandbox,
) -> None:
    body = {"firstName": "Per", "lastName": "Hansen", "email": "per@x.no", "externalRef": "t:1"}
    first = sandbox.api.post("/employees", json=body).json()
    again = sandbox.api.post("/employees", json=body)  # the answer to the first was lost
    assert again.status_code == 409  # not 422 "email is already used"
    assert again.json()["existingId"] == first["id"]


@pytest.mark.parametrize(
    ("path", "body", "field", "code"),
    [
        ("/employees", {"firstName": "A", "email": "KARI@acmebygg.no"}, "email", "unique"),
        ("/employees", {"lastName": "Uten Fornavn"}, "firstName", "required"),
        ("/projects", {"name": "P", "number": "P-100"}, "number", "unique"),
        ("/projects", {"name": "P", "customerId": "cus-404"}, "customerId", "not_found"),
        ("/projects", {"name": "P", "startDate": "2025-02-01", "endDate": "2025-01-01"},
         "endDate", "invalid"),
        ("/customers", {"name": "K", "customerNumber": 10001}, "customerNumber", "unique"),
        ("/customers", {"name": ""}, "name", "invalid"),
        ("/hours", {"employeeId": "emp-1", "date": "2025-01-01", "hours": 25}, "hours",
         "out_of_range"),
        ("/hours", {"employeeId": "emp-9", "date": "2025-01-01", "hours": 1}, "employeeId",
         "not_found"),
        ("/hours", {"employeeId": "emp-1", "date": "2025-01-01", "hours": 1,
                    "status": "approved"}, "status", "invalid"),
    ],
)  # fmt: skip
def test_invalid_writes_are_422_with_field_errors(
    sandbox: Sandbox, path: str, body: dict[str, Any], field: str, code: str
) -> None:
    with sandbox.raw() as raw:  # some bodies break the contract's schema on purpose
        response = raw.post(path, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in problem["errors"]
    ]
    assert field in problem["detail"]


def test_malformed_query_is_400_problem(sandbox: Sandbox) -> None:
    with sandbox.raw() as raw:
        for params in ({"limit": 0}, {"limit": 1001}, {"colour": "red"}, {"active": "yes"}):
            response = raw.get("/customers", params=params)
            assert response.status_code == 400, params
            assert response.json()["type"].endswith("/bad-request")


def test_deactivate_keeps_the_record_and_filters_by_active(sandbox: Sandbox) -> None:
    response = sandbox.api.post("/customers/cus-1/deactivate")
    assert response.status_code == 200 and response.json()["active"] is False
    assert response.json()["version"] == 2
    assert sandbox.api.get("/customers", params={"active": "true"}).json()["data"] == []
    inactive = sandbox.api.get("/customers", params={"active": "false"}).json()["data"]
    assert [c["id"] for c in inactive] == ["cus-1"]
    closed = sandbox.api.patch("/projects/prj-1", json={"status": "closed"},
                               headers={"If-Match": "1"})  # fmt: skip
    assert closed.json()["status"] == "closed"


def test_hours_filters(sandbox: Sandbox) -> None:
    body = {"employeeId": "emp-1", "projectId": "prj-1", "date": "2025-02-03", "hours": 8}
    draft = sandbox.api.post("/hours", json=body).json()
    assert draft["status"] == "draft" and draft["approvedBy"] is None
    approved = sandbox.api.get("/hours", params={"status": "approved"}).json()["data"]
    assert [h["id"] for h in approved] == ["hrs-1"]
    february = sandbox.api.get("/hours", params={"dateFrom": "2025-02-01", "dateTo": "2025-02-28"})
    assert [h["id"] for h in february.json()["data"]] == [draft["id"]]
    by_employee = sandbox.api.get("/hours", params={"employeeId": "emp-2"}).json()["data"]
    assert [h["id"] for h in by_employee] == ["hrs-1"]


def test_tenants_never_see_each_others_data(sandbox: Sandbox) -> None:
    with sandbox.client(BETA) as beta:
        assert beta.get("/me").json()["id"] == "t-beta"
        created = beta.post("/customers", json={"name": "Kun Beta", "externalRef": "x"}).json()
        names = sorted(c["name"] for c in beta.get("/customers").json()["data"])
        assert names == ["Beta Kunde AS", "Kun Beta"]
        assert beta.get("/projects/prj-1").status_code == 404
        assert beta.get("/hours").json()["data"] == []
        beta_events = beta.get("/changes").json()["events"]
    assert [c["name"] for c in sandbox.api.get("/customers").json()["data"]] == ["Fjord Eiendom AS"]
    assert sandbox.api.get(f"/customers/{created['id']}").status_code == 404
    same_ref = sandbox.api.post("/customers", json={"name": "Acme", "externalRef": "x"})
    assert same_ref.status_code == 201
    acme_events = sandbox.api.get("/changes").json()["events"]
    assert ("customer", created["id"]) in {(e["entity"], e["id"]) for e in beta_events}
    assert all(e["id"] != "prj-1" for e in beta_events)
    assert len(acme_events) == 6 and len(beta_events) == 3


def test_admin_adds_tenant_and_reads_state(sandbox: Sandbox) -> None:
    tenant = {"id": "t-new", "name": "Ny AS", "apiKey": "new-key",
              "customers": [{"name": "Første kunde"}]}  # fmt: skip
    assert sandbox.admin("/tenants", tenant) == {"id": "t-new", "name": "Ny AS"}
    with sandbox.client("new-key") as new:
        assert [c["name"] for c in new.get("/customers").json()["data"]] == ["Første kunde"]
    state = httpx.get(sandbox.url + "/_admin/tenants/t-new/state").json()
    assert len(state["customers"]) == 1 and state["feed"]["head"] == 1
    assert "new-key" not in json.dumps(state)
    sandbox.admin("/reset")
    assert httpx.get(sandbox.url + "/_admin/tenants/t-new/state").status_code == 404
