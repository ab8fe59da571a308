"""Tripletex sandbox: each validation rule answers as Tripletex does, in Norwegian."""

from __future__ import annotations

from typing import Any

import httpx


def messages(response: httpx.Response) -> list[tuple[str | None, str]]:
    return [(m["field"], m["message"]) for m in response.json()["validationMessages"] or []]


def entry(**changes: Any) -> dict[str, Any]:
    body = {
        "employee": {"id": 12},
        "project": {"id": 31},
        "activity": {"id": 41},
        "date": "2024-03-04",
        "hours": 7.5,
    }
    return {**body, **changes}


def test_customer_needs_a_name_and_a_nine_digit_org_number(client: httpx.Client) -> None:
    response = client.post("/customer", json={"organizationNumber": "123 456"})
    assert response.status_code == 422 and response.json()["code"] == 18000
    assert response.json()["message"] == "Validering feilet."
    assert messages(response) == [
        ("name", "Feltet må fylles ut."),
        ("organizationNumber", "Organisasjonsnummeret må bestå av 9 siffer."),
    ]


def test_customer_number_must_be_unique_and_is_assigned(client: httpx.Client) -> None:
    taken = client.post("/customer", json={"name": "B", "customerNumber": 5001})
    assert messages(taken) == [("customerNumber", "Nummeret er allerede i bruk")]
    made = client.post("/customer", json={"name": "C"}).json()["value"]
    assert made["customerNumber"] > 5001


def test_customer_with_projects_cannot_be_deleted(client: httpx.Client) -> None:
    refused = client.delete("/customer/21")
    assert refused.status_code == 422
    assert messages(refused)[0][0] == "Internt felt (id)"
    fresh = client.post("/customer", json={"name": "Kort Liv AS"}).json()["value"]
    assert client.delete(f"/customer/{fresh['id']}").status_code == 204
    assert client.get(f"/customer/{fresh['id']}").status_code == 404


def test_inactive_customers_are_hidden_by_default(client: httpx.Client) -> None:
    client.put("/customer/21", json={"isInactive": True})
    assert client.get("/customer").json()["values"] == []
    inactive = client.get("/customer", params={"isInactive": True}).json()["values"]
    assert [c["id"] for c in inactive] == [21]


def test_customer_filters(client: httpx.Client) -> None:
    by_org = client.get("/customer", params={"organizationNumber": "922222222"}).json()
    assert [c["id"] for c in by_org["values"]] == [21]
    assert client.get("/customer", params={"email": "nobody@x.no"}).json()["values"] == []
    by_name = client.get("/customer", params={"customerName": "kunde en"}).json()
    assert len(by_name["values"]) == 1


def test_employee_needs_user_type_and_email_for_login_users(client: httpx.Client) -> None:
    no_type = client.post("/employee", json={"firstName": "A", "lastName": "B"})
    assert messages(no_type) == [("userType", 'Brukertype kan ikke være "0" eller tom.')]
    no_mail = client.post(
        "/employee", json={"firstName": "A", "lastName": "B", "userType": "STANDARD"}
    )
    assert messages(no_mail) == [("email", "Må angis for Tripletex-brukere.")]
    no_name = client.post("/employee", json={"userType": "NO_ACCESS"})
    assert ("firstName", "Feltet må fylles ut.") in messages(no_name)
    assert (
        client.post(
            "/employee", json={"firstName": "A", "lastName": "B", "userType": "NO_ACCESS"}
        ).status_code
        == 201
    )


def test_employee_email_and_number_are_unique(client: httpx.Client) -> None:
    dup = client.post(
        "/employee",
        json={
            "firstName": "A",
            "lastName": "B",
            "userType": "STANDARD",
            "email": "KARI@a.no",
            "employeeNumber": "12",
        },
    )
    fields = [f for f, _ in messages(dup)]
    assert fields == ["email", "employeeNumber"]


def test_employee_filters_and_no_delete(client: httpx.Client) -> None:
    managers = client.get("/employee", params={"onlyProjectManagers": True}).json()["values"]
    assert [e["id"] for e in managers] == [11]
    assert client.get("/employee", params={"employeeNumber": "12"}).json()["count"] == 1
    assert client.get("/employee", params={"email": "kari"}).json()["count"] == 1


def test_project_needs_name_manager_and_start_date(client: httpx.Client) -> None:
    response = client.post("/project", json={"description": "x"})
    assert {f for f, _ in messages(response)} == {"name", "startDate", "projectManager"}


def test_project_number_is_unique_and_generated(client: httpx.Client) -> None:
    body = {"name": "Ny", "projectManager": {"id": 11}, "startDate": "2024-05-01"}
    dup = client.post("/project", json={**body, "number": "P-1"})
    assert messages(dup) == [("number", "Nummeret er allerede i bruk")]
    made = client.post("/project", json=body).json()["value"]
    assert made["number"]


def test_project_manager_needs_access_until_granted(client: httpx.Client) -> None:
    body = {"name": "Ny", "projectManager": {"id": 12}, "startDate": "2024-05-01"}
    refused = client.post("/project", json=body)
    assert messages(refused) == [
        (
            "projectManager.id",
            "Oppgitt prosjektleder har ikke fått tilgang som prosjektleder i kontoen: Ola Snekker.",
        )
    ]
    grant = client.put(
        "/employee/entitlement/:grantEntitlementsByTemplate",
        params={"employeeId": 12, "template": "ALL_PRIVILEGES"},
    )
    assert grant.status_code == 200
    assert client.post("/project", json=body).status_code == 201


def test_project_customer_must_exist(client: httpx.Client) -> None:
    body = {
        "name": "Ny",
        "projectManager": {"id": 11},
        "startDate": "2024-05-01",
        "customer": {"id": 999},
    }
    assert messages(client.post("/project", json=body))[0][0] == "customer.id"


def test_project_filters(client: httpx.Client) -> None:
    assert client.get("/project", params={"customerId": 21}).json()["count"] == 1
    assert client.get("/project", params={"name": "ta"}).json()["count"] == 1
    assert client.get("/project", params={"number": "P-2"}).json()["count"] == 0
    assert client.get("/project", params={"isClosed": True}).json()["count"] == 0


def test_one_timesheet_entry_per_employee_date_activity_project(client: httpx.Client) -> None:
    assert client.post("/timesheet/entry", json=entry()).status_code == 201
    dup = client.post("/timesheet/entry", json=entry(hours=1))
    assert dup.status_code == 409
    assert dup.json()["message"].startswith(
        "Det er allerede registrert timer på den ansatte på denne dagen, aktiviteten og prosjektet"
    )


def test_activity_must_be_allowed_on_the_project(client: httpx.Client) -> None:
    for activity in (42, 43):
        refused = client.post("/timesheet/entry", json=entry(activity={"id": activity}))
        assert messages(refused) == [("activity.id", "Aktiviteten kan ikke benyttes.")]
    allowed = client.get("/activity/>forTimeSheet", params={"projectId": 31}).json()["values"]
    assert [a["id"] for a in allowed] == [41]
    link = {"project": {"id": 31}, "activity": {"id": 42}}
    assert client.post("/project/projectActivity", json=link).status_code == 201
    twice = client.post("/project/projectActivity", json=link)
    assert messages(twice) == [("activity.id", "Finnes fra før.")]
    assert client.post("/timesheet/entry", json=entry(activity={"id": 42})).status_code == 201


def test_hours_must_be_between_0_and_24_and_after_project_start(client: httpx.Client) -> None:
    assert messages(client.post("/timesheet/entry", json=entry(hours=25)))[0][0] == "hours"
    early = client.post("/timesheet/entry", json=entry(date="2023-12-31"))
    assert "Det kan ikke registreres timer før denne datoen." in messages(early)[0][1]


def test_timesheet_search_needs_dates_and_sums_hours(client: httpx.Client) -> None:
    client.post("/timesheet/entry/list", json=[entry(), entry(date="2024-03-05", hours=2)])
    found = client.get(
        "/timesheet/entry", params={"dateFrom": "2024-03-04", "dateTo": "2024-03-05"}
    ).json()
    assert found["count"] == 1 and found["sumAllHours"] == 7.5
    raw = httpx.get(str(client.base_url).rstrip("/") + "/timesheet/entry", auth=client.auth)
    assert raw.status_code == 422


def test_locked_entries_refuse_changes_with_409_code_10000(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry", json=entry()).json()["value"]
    base = str(client.base_url).rstrip("/").removesuffix("/v2")
    edit = {"entity": "timesheetEntry", "id": made["id"], "changes": {"locked": True}}
    assert httpx.post(f"{base}/_admin/companies/1001/edit", json=edit).status_code == 200
    put = client.put(f"/timesheet/entry/{made['id']}", json={"hours": 1})
    assert put.status_code == 409 and put.json()["code"] == 10000
    delete = client.delete(f"/timesheet/entry/{made['id']}", params={"version": 1})
    assert delete.status_code == 409


def test_timesheet_entry_delete_with_version(client: httpx.Client) -> None:
    made = client.post("/timesheet/entry", json=entry()).json()["value"]
    stale = client.delete(f"/timesheet/entry/{made['id']}", params={"version": 5})
    assert stale.status_code == 409 and stale.json()["code"] == 8000
    assert client.delete(f"/timesheet/entry/{made['id']}", params={"version": 0}).status_code == 204


def test_batch_create_is_all_or_nothing_with_indexed_paths(client: httpx.Client) -> None:
    response = client.post("/customer/list", json=[{"name": "Ok AS"}, {"name": ""}])
    assert response.status_code == 422
    assert response.json()["validationMessages"][0]["path"] == "[1].name"
    assert client.get("/customer", params={"customerName": "Ok AS"}).json()["values"] == []


def test_batch_update_applies_each_item(client: httpx.Client) -> None:
    made = client.post("/customer/list", json=[{"name": "E"}, {"name": "F"}]).json()["values"]
    body = [{"id": c["id"], "version": c["version"], "email": f"{c['name']}@x.no"} for c in made]
    updated = client.put("/customer/list", json=body)
    assert updated.status_code == 200
    assert [c["version"] for c in updated.json()["values"]] == [1, 1]
