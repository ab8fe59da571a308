"""Tripletex sandbox: what the hours export relies on, answered as Tripletex does."""

from __future__ import annotations

from typing import Any

import httpx


def entry(**changes: Any) -> dict[str, Any]:
    body = {
        "employee": {"id": 12},
        "project": {"id": 31},
        "activity": {"id": 41},
        "date": "2024-03-04",
        "hours": 7.5,
    }
    return {**body, **changes}


def admin(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    base = str(client.base_url).rstrip("/").removesuffix("/v2")
    return httpx.post(f"{base}/_admin/companies/1001/{path}", json=body)


def test_locking_a_month_locks_its_entries_and_refuses_new_ones(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry", json=entry()).json()["value"]
    locked = admin(client, "timesheet/month", {"month": "2024-03", "locked": True})
    assert locked.json()["entries"] == 1
    read = client.get(f"/timesheet/entry/{made['id']}", params={"fields": "locked,version"})
    assert read.json()["value"]["locked"] is True
    assert read.json()["value"]["version"] == made["version"] + 1
    put = client.put(f"/timesheet/entry/{made['id']}", json={"hours": 1})
    assert put.status_code == 409 and put.json()["code"] == 10000
    assert "2024-03" in put.json()["developerMessage"]
    batch = client.post(
        "/timesheet/entry/list", json=[entry(date="2024-02-29"), entry(date="2024-03-05")]
    )
    assert batch.status_code == 409 and batch.json()["validationMessages"][0]["path"] == "[1].date"
    other_month = client.post("/timesheet/entry", json=entry(date="2024-04-01"))
    assert other_month.status_code == 201


def test_reopening_a_month_unlocks_it(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry", json=entry()).json()["value"]
    admin(client, "timesheet/month", {"month": "2024-03", "locked": True})
    reopened = admin(client, "timesheet/month", {"month": "2024-03", "locked": False})
    assert reopened.json()["entries"] == 1
    current = client.get(f"/timesheet/entry/{made['id']}").json()["value"]
    assert current["locked"] is False
    assert client.put(f"/timesheet/entry/{made['id']}", json={"hours": 2}).status_code == 200


def test_a_month_can_be_locked_for_one_employee(client: httpx.Client) -> None:
    admin(client, "timesheet/month", {"month": "2024-03", "employeeId": 11, "locked": True})
    assert client.post("/timesheet/entry", json=entry()).status_code == 201  # employee 12
    refused = client.post("/timesheet/entry", json=entry(employee={"id": 11}))
    assert refused.status_code == 409


def test_put_nulls_fields_present_but_empty(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry", json=entry(comment="Montering")).json()["value"]
    cleared = client.put(f"/timesheet/entry/{made['id']}", json={"comment": ""})
    assert cleared.status_code == 200 and cleared.json()["value"].get("comment") in (None, "")
    zero = client.put(f"/timesheet/entry/{made['id']}", json={"hours": 0})
    assert zero.status_code == 422
    assert zero.json()["validationMessages"][0]["field"] == "hours"


def test_batch_put_updates_entries_with_versions(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry/list", json=[entry(), entry(date="2024-03-05")]).json()
    body = [{"id": e["id"], "version": e["version"], "hours": 3} for e in made["values"]]
    updated = client.put("/timesheet/entry/list", json=body)
    assert updated.status_code == 200
    assert [e["hours"] for e in updated.json()["values"]] == [3, 3]
    stale = client.put("/timesheet/entry/list", json=body)
    assert stale.status_code == 409 and stale.json()["code"] == 8000


def test_batches_larger_than_the_limit_are_refused(client: httpx.Client) -> None:
    days = [f"2024-{m:02d}-{d:02d}" for m in range(3, 13) for d in range(1, 29)]
    too_many = [entry(date=day, hours=1) for day in days] * 4
    assert len(too_many) > 1000
    refused = client.post("/timesheet/entry/list", json=too_many[:1001])
    assert refused.status_code == 422
    assert "1000" in refused.json()["validationMessages"][0]["message"]
