"""Svenn sandbox: holds to its contract's limits (issue 14), and every error is a problem document.

Requests here are deliberately outside the contract, so they go through the unchecked client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Request

from sandboxes.openapi_check import SVENN_SPEC
from sandboxes.svenn.seed import example_seed
from tests.test_svenn_sandbox import Sandbox, start

INT32_MAX = 2**31 - 1
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield from start()


@pytest.fixture
def raw(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with sandbox.raw() as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem document with ``status``; returns it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    document: dict[str, Any] = response.json()
    assert document["status"] == status and document["type"].startswith("https://")
    return document


def fields(document: dict[str, Any]) -> list[str]:
    return [e["field"] for e in document.get("errors", [])]


@pytest.mark.parametrize("resource", ["customers", "employees", "projects"])
def test_empty_external_ref_is_refused(raw: httpx.Client, resource: str) -> None:
    body = {"name": "Ny"} if resource != "employees" else {"firstName": "Ny"}
    refused = raw.post(f"/{resource}", json={**body, "externalRef": ""})
    assert fields(problem(refused, 422)) == ["externalRef"]
    created = raw.post(f"/{resource}", json={**body, "externalRef": f"ref-{resource}"})
    assert created.status_code == 201
    patched = raw.patch(
        f"/{resource}/{created.json()['id']}",
        json={"externalRef": ""},
        headers={"If-Match": created.headers["etag"]},
    )
    assert fields(problem(patched, 422)) == ["externalRef"]


def test_contract_and_sandbox_both_require_if_match_on_patch(raw: httpx.Client) -> None:
    contract = json.loads(SVENN_SPEC.read_text())
    params = contract["components"]["parameters"]
    for path, item in contract["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            declared = [
                params[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                for p in operation.get("parameters", [])
            ]
            if_match = [p for p in declared if p["name"] == "If-Match"]
            if method == "patch":
                assert [p["required"] for p in if_match] == [True], path
            elif if_match:  # deactivate: optional, idempotent
                assert [p["required"] for p in if_match] == [False], path
    assert "428" in contract["paths"]["/customers/{id}"]["patch"]["responses"]
    problem(raw.patch("/customers/cus-1", json={"phone": "1"}), 428)
    assert raw.post("/employees/emp-2/deactivate").status_code == 200  # If-Match optional


@pytest.mark.parametrize("cursor", ["x", "", ".", "abc.²", "abc.١", "abc.-1", "a.b.c"])
def test_malformed_cursor_is_a_problem_not_a_crash(
    sandbox: Sandbox, raw: httpx.Client, cursor: str
) -> None:
    epoch = raw.get("/changes/latest").json()["cursor"].split(".")[0]
    for text in (cursor, cursor.replace("abc", epoch)):
        response = raw.get("/changes", params={"cursor": text})
        if response.status_code != 200:  # "" reads from the start, like no cursor
            assert problem(response, 410)["resync"] is True


def test_deeply_nested_json_is_a_400_problem(raw: httpx.Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    headers = {"content-type": "application/json"}
    problem(raw.post("/customers", content=deep, headers=headers), 400)
    problem(raw.patch("/customers/cus-1", content=deep, headers={**headers, "If-Match": "1"}), 400)


@pytest.mark.parametrize("number", [INT32_MAX + 1, str(INT32_MAX + 1), 10**20])
def test_customer_number_above_int32_is_refused(raw: httpx.Client, number: Any) -> None:
    refused = raw.post("/customers", json={"name": "Stor AS", "customerNumber": number})
    assert fields(problem(refused, 422)) == ["customerNumber"]


def test_largest_int32_customer_number_is_taken(raw: httpx.Client) -> None:
    created = raw.post("/customers", json={"name": "Stor AS", "customerNumber": str(INT32_MAX)})
    assert created.status_code == 201 and created.json()["customerNumber"] == INT32_MAX


def test_names_longer_than_the_contract_allows_are_refused(raw: httpx.Client) -> None:
    assert fields(problem(raw.post("/customers", json={"name": "x" * 256}), 422)) == ["name"]
    assert fields(problem(raw.post("/employees", json={"firstName": "x" * 101}), 422)) == [
        "firstName"
    ]


def test_an_unexpected_error_is_a_500_problem_document() -> None:
    from sandboxes.runner import serve_in_thread
    from sandboxes.svenn.app import create_app

    app = create_app(example_seed())

    async def broken(request: Request) -> None:
        raise RuntimeError("a sandbox bug")

    app.add_api_route("/api/v1/broken", broken, methods=["GET"])
    with serve_in_thread(app) as url:
        response = httpx.get(url + "/api/v1/broken")
    document = problem(response, 500)
    assert "RuntimeError" in document["detail"] and "a sandbox bug" not in response.text


@pytest.mark.parametrize(
    ("name", "limit"), [("addressLine1", 255), ("postalCode", 20), ("city", 100)]
)
def test_address_fields_longer_than_the_contract_allows_are_refused(
    raw: httpx.Client, name: str, limit: int
) -> None:
    address = {name: "x" * (limit + 1)}
    refused = raw.post("/customers", json={"name": "Adresse AS", "postalAddress": address})
    assert fields(problem(refused, 422)) == ["postalAddress"]
    project = raw.post("/projects", json={"name": "Tak", "address": address})
    assert fields(problem(project, 422)) == ["address"]
    fits = raw.post("/customers", json={"name": "Adresse AS", "postalAddress": {name: "x" * limit}})
    assert fits.status_code == 201
