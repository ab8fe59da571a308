"""Tripletex sandbox: employments as the spec has them (``/employee/employment``), and an
employee's version moving with them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.tripletex_sandbox_support import new_checker, sandbox

CHECKER = new_checker()


@pytest.fixture(scope="module", autouse=True)
def spec_clean() -> Iterator[None]:
    yield
    CHECKER.assert_clean()


@pytest.fixture
def client() -> Iterator[Any]:
    with sandbox(CHECKER) as (_, _, running):
        yield running


def employee(client: Any, employee_id: int) -> dict[str, Any]:
    params = {"fields": "id,version,employments(id,startDate,endDate)"}
    value: dict[str, Any] = client.get(f"/employee/{employee_id}", params=params).json()["value"]
    return value


def test_an_employment_is_created_read_ended_and_moves_its_employees_version(client) -> None:
    client.put("/employee/12", json={"dateOfBirth": "1990-05-17"})
    before = employee(client, 12)["version"]
    body = {"employee": {"id": 12}, "startDate": "2024-01-01"}
    made = client.post("/employee/employment", json=body)
    assert made.status_code == 201, made.text
    employment = made.json()["value"]
    seen = employee(client, 12)
    assert seen["version"] == before + 1
    assert [e["id"] for e in seen["employments"]] == [employment["id"]]
    listed = client.get("/employee/employment", params={"employeeId": 12}).json()["values"]
    assert [e["id"] for e in listed] == [employment["id"]]
    ended = client.put(
        f"/employee/employment/{employment['id']}",
        json={"id": employment["id"], "version": employment["version"], "endDate": "2025-01-31"},
    )
    assert ended.status_code == 200, ended.text
    seen = employee(client, 12)
    assert seen["version"] == before + 2 and seen["employments"][0]["endDate"] == "2025-01-31"
    assert client.get(f"/employee/employment/{employment['id']}").json()["value"]["endDate"] == (
        "2025-01-31"
    )


def test_an_employment_tripletex_would_refuse_is_a_422_naming_the_field(client) -> None:
    no_birth_date = client.post(
        "/employee/employment", json={"employee": {"id": 11}, "startDate": "2024-01-01"}
    )
    assert no_birth_date.status_code == 422
    assert no_birth_date.json()["validationMessages"][0]["field"] == "employee.dateOfBirth"
    client.put("/employee/11", json={"dateOfBirth": "1980-01-01"})
    for body, field in (
        ({"employee": {"id": 11}}, "startDate"),
        ({"startDate": "2024-01-01"}, "employee"),
        ({"employee": {"id": 11}, "startDate": "2024-02-01", "endDate": "2024-01-01"}, "endDate"),
    ):
        refused = client.post("/employee/employment", json=body)
        assert refused.status_code == 422, body
        assert [m["field"] for m in refused.json()["validationMessages"]] == [field]
