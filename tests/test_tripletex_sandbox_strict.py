"""Tripletex sandbox: refuses what the real API refuses (issue 14), and never answers 5xx.

Each test is a divergence the schemathesis run over the real spec found; the requests here are
deliberately outside the spec, so they are sent unchecked. Every answer must still be
Tripletex's error envelope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.tripletex_sandbox_support import sandbox

INT32_MAX = 2**31 - 1


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with sandbox(rate_limit=0) as (_, _, running):
        yield running


def envelope(response: httpx.Response, status: int, code: int) -> list[tuple[Any, str]]:
    """Assert Tripletex's error envelope; returns its (field, message) pairs."""
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["requestId"] == response.headers["x-tlx-request-id"]
    return [(m["field"], m["message"]) for m in body["validationMessages"] or []]


def test_customer_account_number_is_a_list_of_numbers(client: httpx.Client) -> None:
    found = client.get("/customer", params={"customerAccountNumber": "5001,10002"})
    assert [c["customerNumber"] for c in found.json()["values"]] == [5001]
    refused = client.get("/customer", params={"customerAccountNumber": "5001,abc"})
    assert envelope(refused, 422, 21000)[0][0] == "customerAccountNumber"


def test_for_timesheet_project_id_must_be_a_number(client: httpx.Client) -> None:
    refused = client.get("/activity/>forTimeSheet", params={"projectId": "abc"})
    assert [f for f, _ in envelope(refused, 422, 21000)] == ["projectId"]
    assert client.get("/activity/>forTimeSheet", params={"projectId": "31"}).status_code == 200


@pytest.mark.parametrize("digits", ["²", "١", "٢١", "1_0", "１"])
def test_unicode_digits_are_not_numbers(client: httpx.Client, digits: str) -> None:
    created = client.post("/department", json={"name": f"Avd {digits}"}).json()["value"]
    stale = client.delete(f"/department/{created['id']}", params={"version": digits})
    envelope(stale, 422, 21000)
    envelope(client.get(f"/customer/{digits}"), 400, 12000)
    envelope(client.get("/customer", params={"id": digits}), 422, 21000)
    envelope(client.get("/customer", params={"count": digits}), 422, 21000)


def test_deeply_nested_json_is_refused_as_invalid_json(client: httpx.Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    headers = {"content-type": "application/json"}
    envelope(client.post("/customer", content=deep, headers=headers), 422, 22000)
    nested = '{"name": "Dyp AS", "description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    refused = client.post("/customer", content=nested, headers=headers)
    assert refused.status_code == 422 and refused.json()["code"] in (16000, 22000)


def test_unknown_activity_type_is_refused(client: httpx.Client) -> None:
    refused = client.post("/activity", json={"name": "Sveising", "activityType": "WELDING"})
    [(field, text)] = envelope(refused, 422, 16000)
    assert field == "activityType" and "PROJECT_GENERAL_ACTIVITY" in text
    assert client.get("/activity", params={"name": "Sveising"}).json()["values"] == []


def test_customer_number_above_int32_is_refused(client: httpx.Client) -> None:
    refused = client.post("/customer", json={"name": "Stor AS", "customerNumber": INT32_MAX + 1})
    assert [f for f, _ in envelope(refused, 422, 16000)] == ["customerNumber"]
    accepted = client.post("/customer", json={"name": "Stor AS", "customerNumber": INT32_MAX})
    assert accepted.status_code == 201
    refused = client.post("/customer", json={"name": "Negativ AS", "customerNumber": -1})
    assert [f for f, _ in envelope(refused, 422, 18000)] == ["customerNumber"]


@pytest.mark.parametrize(
    ("path", "body", "field", "limit"),
    [
        ("/customer", {"name": "x" * 256}, "name", 255),
        ("/customer", {"name": "A", "postalAddress": {"city": "x" * 101}},
         "postalAddress.city", 100),
        ("/employee", {"firstName": "x" * 101, "lastName": "L", "userType": "NO_ACCESS"},
         "firstName", 100),
        ("/department", {"name": "x" * 256}, "name", 255),
        ("/activity", {"name": "x" * 256}, "name", 255),
        ("/project", {"name": "P", "number": "x" * 101}, "number", 100),
    ],
)  # fmt: skip
def test_strings_longer_than_the_field_takes_are_refused(
    client: httpx.Client, path: str, body: dict[str, Any], field: str, limit: int
) -> None:
    messages = envelope(client.post(path, json=body), 422, 18000)
    assert messages == [(field, f"Verdien kan ikke være lengre enn {limit} tegn.")]


def test_a_one_megabyte_name_is_not_stored(client: httpx.Client) -> None:
    envelope(client.post("/customer", json={"name": "x" * 1_000_000}), 422, 18000)
    names = [c["name"] for c in client.get("/customer", params={"count": 10_000}).json()["values"]]
    assert max(len(n) for n in names) <= 255


def test_department_manager_must_exist(client: httpx.Client) -> None:
    body = {"name": "Montasje", "departmentManager": {"id": 999_999}}
    messages = envelope(client.post("/department", json=body), 422, 18000)
    assert messages == [("departmentManager.id", "Objektet finnes ikke.")]
    made = client.post("/department", json={**body, "departmentManager": {"id": 11}})
    assert made.status_code == 201
    again = client.post("/department", json={"name": "B", "departmentNumber": "77"})
    assert again.status_code == 201
    taken = client.post("/department", json={"name": "C", "departmentNumber": "77"})
    assert envelope(taken, 422, 18000) == [("departmentNumber", "Nummeret er i bruk.")]


def test_reference_ids_must_be_int64(client: httpx.Client) -> None:
    body = {"name": "Ref AS", "accountManager": {"id": 2**64}}
    assert [f for f, _ in envelope(client.post("/customer", json=body), 422, 16000)] == [
        "accountManager.id"
    ]


def test_text_plain_body_is_refused(client: httpx.Client) -> None:
    before = client.get("/customer", params={"customerName": "Tekst"}).json()["fullResultSize"]
    refused = client.post(
        "/customer", content='{"name": "Tekst AS"}', headers={"content-type": "text/plain"}
    )
    envelope(refused, 415, 4000)
    after = client.get("/customer", params={"customerName": "Tekst"}).json()["fullResultSize"]
    assert after == before


def test_client_chosen_ids_inside_nested_objects_are_not_taken(client: httpx.Client) -> None:
    chosen = 2**63 - 1
    body = {"name": "Adresse AS", "postalAddress": {"id": chosen, "city": "Bergen"}}
    created = client.post("/customer", json=body, params={"fields": "*,postalAddress(*)"})
    value = created.json()["value"]
    address_id = value["postalAddress"]["id"]
    assert address_id != chosen and address_id < 2**40
    later = client.post("/customer", json={"name": "Etter AS"}).json()["value"]
    assert later["id"] < 2**40  # ids keep counting from where they were
    changed = client.put(
        f"/customer/{value['id']}",
        json={"postalAddress": {"id": chosen, "city": "Oslo"}},
        params={"fields": "*,postalAddress(*)"},
    ).json()["value"]
    assert changed["postalAddress"] == {**changed["postalAddress"], "id": address_id}
    assert changed["postalAddress"]["city"] == "Oslo"


def test_method_not_allowed_names_the_allowed_methods(client: httpx.Client) -> None:
    refused = client.delete("/employee/11")
    envelope(refused, 405, 4000)
    assert set(refused.headers["allow"].replace(" ", "").split(",")) == {"GET", "PUT"}
