"""TripletexClient over real HTTP against the Tripletex sandbox, every exchange spec-checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.http import AuthenticationError, HttpPolicy, StaleVersionError
from connectors.tripletex import TripletexClient, TripletexValidationError
from connectors.tripletex.client import UNREADABLE_VERSION
from sandboxes.openapi_check import TRIPLETEX_SPEC, OpenAPIChecker, SpecViolation
from sandboxes.runner import serve_in_thread
from sync.entities import Customer, Employee, HourEntry, Project
from sync.malformed import Problem
from sync.records import Entity

COMPANY = 1001
CONSUMER = "sandbox-consumer-token"
EMPLOYEE_TOKEN = "employee-token-fjordbygg-1001"
CUSTOMERS_ONLY_TOKEN = "employee-token-customers-only"
# Patient enough for a page of 1,000 customers served by an in-process sandbox on a loaded
# 2-core machine (the suite runs 4 workers); the timeout faults below answer after 2.5 s.
FAST = HttpPolicy(timeout=2.0, backoff_base=0.01, backoff_max=0.1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def seed_customers(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "id": 10_000 + n,
            "name": f"Kunde {n} AS",
            "organizationNumber": f"{900_000_000 + n}",
            "customerNumber": n,
            "email": f"post{n}@kunde.no",
            "isInactive": n % 10 == 0,
        }
        for n in range(start, start + count)
    ]


def make_seed(customers: int = 25) -> dict[str, Any]:
    return {
        "companies": [
            {
                "id": COMPANY,
                "name": "Fjordbygg AS",
                "employeeTokens": [
                    {"token": EMPLOYEE_TOKEN, "entitlements": ["ALL"]},
                    {"token": CUSTOMERS_ONLY_TOKEN, "entitlements": ["customer"]},
                ],
                "customers": seed_customers(customers),
                "employees": [
                    {
                        "id": 501,
                        "firstName": "Kari",
                        "lastName": "Nordmann",
                        "email": "kari@fjordbygg.no",
                        "userType": "EXTENDED",
                        "employeeNumber": "1",
                    },
                    {
                        "id": 502,
                        "firstName": "Ola",
                        "lastName": "Hansen",
                        "userType": "NO_ACCESS",
                        "employeeNumber": "2",
                    },
                ],
                "projects": [
                    {
                        "id": 701,
                        "name": "Rehabilitering Bryggen",
                        "number": "P-1",
                        "customer": {"id": 10_001},
                        "projectManager": {"id": 501},
                        "startDate": "2025-01-01",
                        "isInternal": False,
                    }
                ],
                "activities": [
                    {"id": 801, "name": "Normaltid", "activityType": "PROJECT_GENERAL_ACTIVITY"}
                ],
                "timesheetEntries": [],
            }
        ]
    }


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[str]:
    from sandboxes.tripletex.app import create_app

    count = getattr(request, "param", 25)
    app = create_app(make_seed(count), rate_limit=0)
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def checker() -> Iterator[OpenAPIChecker]:
    check = OpenAPIChecker(TRIPLETEX_SPEC, server_prefix="/v2")
    yield check
    # The real spec declares no error responses, so a 4xx/5xx answer is "unknown" to it; that
    # says nothing about our requests, which must all conform.
    check.violations = [v for v in check.violations if not undeclared_error_status(v)]
    check.assert_clean()


def undeclared_error_status(violation: SpecViolation) -> bool:
    if violation.problem.startswith("response: MissingData"):
        return True  # spec declares an (empty) JSON body on 204/entitlement answers
    return (violation.status or 0) >= 400 and "Unknown response http status" in violation.problem


@pytest.fixture
async def tx(sandbox: str, checker: OpenAPIChecker) -> AsyncIterator[TripletexClient]:
    async with TripletexClient(
        f"{sandbox}/v2",
        CONSUMER,
        EMPLOYEE_TOKEN,
        policy=FAST,
        event_hooks={"response": [checker.async_hook]},
    ) as client:
        yield client


def admin(sandbox: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox}{path}", timeout=5, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def add_fault(sandbox: str, **fault: Any) -> None:
    admin(sandbox, "POST", "/_admin/faults", json=fault)


def state_of(sandbox: str) -> dict[str, Any]:
    return dict(admin(sandbox, "GET", f"/_admin/companies/{COMPANY}/state"))


def rows(state: dict[str, Any], entity: str) -> list[dict[str, Any]]:
    value = state.get(entity) or state.get(f"{entity}s") or []
    return list(value.values()) if isinstance(value, dict) else list(value)


# --- identity and access ---------------------------------------------------------------


@pytest.mark.anyio
async def test_who_am_i_names_company_and_employee(tx: TripletexClient) -> None:
    me = await tx.who_am_i()
    assert me.company_id == COMPANY
    assert me.company_name == "Fjordbygg AS"
    assert me.employee_id > 0


@pytest.mark.anyio
async def test_probe_access_reports_every_area_readable(tx: TripletexClient) -> None:
    access = await tx.probe_access()
    assert access == {
        "customers": None,
        "employees": None,
        "projects": None,
        "activities": None,
        "timesheet": None,
    }


@pytest.mark.anyio
async def test_probe_access_names_areas_the_token_cannot_read(
    sandbox: str, checker: OpenAPIChecker
) -> None:
    hooks = {"response": [checker.async_hook]}
    async with TripletexClient(
        f"{sandbox}/v2", CONSUMER, CUSTOMERS_ONLY_TOKEN, policy=FAST, event_hooks=hooks
    ) as client:
        access = await client.probe_access()
    assert access["customers"] is None
    assert access["projects"] is not None and "permission" in access["projects"]


@pytest.mark.anyio
async def test_unknown_employee_token_fails_clearly_without_leaking_it(
    sandbox: str, checker: OpenAPIChecker
) -> None:
    bad = "not-a-real-employee-token-42"
    hooks = {"response": [checker.async_hook]}
    async with TripletexClient(
        f"{sandbox}/v2", CONSUMER, bad, policy=FAST, event_hooks=hooks
    ) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.who_am_i()
    assert bad not in str(caught.value)
    assert CONSUMER not in str(caught.value)


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("sandbox", [2100], indirect=True)
@pytest.mark.anyio
async def test_list_customers_reads_every_page_active_and_inactive(tx: TripletexClient) -> None:
    customers = (await tx.list(Entity.CUSTOMER)).of(Customer)
    assert len(customers) == 2100
    assert len({c.id for c in customers}) == 2100
    assert sum(not c.is_active for c in customers) == 210
    # 1890 active → 2 pages, 210 inactive → 1 page (plus one session and nothing else)
    assert tx.api.counters.by_endpoint["GET /customer"] == 3


@pytest.mark.anyio
async def test_list_customers_maps_fields(tx: TripletexClient) -> None:
    listed = await tx.list(Entity.CUSTOMER, include_inactive=False)
    customers = {c.id: c for c in listed.of(Customer)}
    first = customers["10001"]
    assert first.name == "Kunde 1 AS"
    assert first.organization_number == "900000001"
    assert first.customer_number == 1
    assert first.email == "post1@kunde.no"
    assert "10010" not in customers  # inactive


@pytest.mark.anyio
async def test_get_many_customers_returns_only_those(tx: TripletexClient) -> None:
    found = (await tx.get_many(Entity.CUSTOMER, ["10002", "10010", "99999"])).of(Customer)
    assert sorted(str(c.id) for c in found) == ["10002", "10010"]


@pytest.mark.anyio
async def test_customers_by_ids_cost_one_read_unless_some_are_inactive(
    tx: TripletexClient,
) -> None:
    tx.api.counters.reset()
    found = (await tx.get_many(Entity.CUSTOMER, ["10002", "10003", "10004"])).of(Customer)
    assert sorted(str(c.id) for c in found) == ["10002", "10003", "10004"]
    assert tx.api.counters.by_endpoint["GET /customer"] == 1  # one ``id=`` read, active ones
    tx.api.counters.reset()
    found = (await tx.get_many(Entity.CUSTOMER, ["10002", "10010"])).of(Customer)  # inactive
    assert sorted(str(c.id) for c in found) == ["10002", "10010"]
    assert tx.api.counters.by_endpoint["GET /customer"] == 2


@pytest.mark.anyio
async def test_list_changed_returns_none_until_something_changes(tx: TripletexClient) -> None:
    first, digest = await tx.list_changed(Entity.PROJECT, None)
    assert first is not None and [p.id for p in first] == ["701"]
    tx.api.counters.reset()
    again, same_digest = await tx.list_changed(Entity.PROJECT, digest)
    assert again is None
    assert tx.api.counters.total == 1
    project = first[0]
    assert isinstance(project, Project)
    await tx.update(project.model_copy(update={"name": "Bryggen etappe 2"}))
    changed, _ = await tx.list_changed(Entity.PROJECT, same_digest)
    assert changed is not None and isinstance(changed[0], Project)
    assert changed[0].name == "Bryggen etappe 2"


@pytest.mark.anyio
async def test_list_versions_gives_id_and_version(tx: TripletexClient) -> None:
    versions = await tx.list_versions(Entity.CUSTOMER)
    assert len(versions) == 25
    assert all(isinstance(v, int) for v in versions.values())


@pytest.mark.anyio
async def test_list_employees_projects_and_activities(tx: TripletexClient) -> None:
    employees = {e.id: e for e in (await tx.list(Entity.EMPLOYEE)).of(Employee)}
    assert employees["501"].email == "kari@fjordbygg.no"
    assert employees["502"].last_name == "Hansen"
    projects = (await tx.list(Entity.PROJECT)).of(Project)
    assert projects[0].customer_id == "10001"
    assert projects[0].project_manager_id == "501"
    assert projects[0].start_date == dt.date(2025, 1, 1)
    activities = await tx.list_activities()
    assert [a.name for a in activities] == ["Normaltid"]


# --- writing -----------------------------------------------------------------------------


def new_customers(count: int, start: int = 5000) -> list[Customer]:
    return [
        Customer(
            name=f"Ny kunde {n} AS",
            organization_number=f"{910_000_000 + n}",
            customer_number=n,
            email=f"ny{n}@kunde.no",
        )
        for n in range(start, start + count)
    ]


@pytest.mark.anyio
async def test_create_customers_uses_batches_of_batch_size(
    tx: TripletexClient, sandbox: str
) -> None:
    tx.batch_size = 40
    created = await tx.create_many(Entity.CUSTOMER, new_customers(100))
    assert [c.name for c in created] == [c.name for c in new_customers(100)]
    assert all(c.id is not None for c in created)
    assert tx.api.counters.by_endpoint["POST /customer/list"] == 3
    assert len(rows(state_of(sandbox), "customer")) == 125


@pytest.mark.anyio
async def test_update_with_stale_version_raises_stale_version(tx: TripletexClient) -> None:
    [customer] = (await tx.get_many(Entity.CUSTOMER, ["10003"])).of(Customer)
    updated = await tx.update(customer.model_copy(update={"email": "ny@kunde.no"}))
    assert updated.email == "ny@kunde.no"
    with pytest.raises(StaleVersionError) as caught:
        await tx.update(customer.model_copy(update={"email": "annen@kunde.no"}))
    assert caught.value.status == 409
    assert caught.value.code == 8000


@pytest.mark.anyio
async def test_update_customers_sends_one_put_list_per_batch(
    tx: TripletexClient, sandbox: str
) -> None:
    tx.batch_size = 2
    before = (await tx.get_many(Entity.CUSTOMER, ["10002", "10003", "10004"])).of(Customer)
    changed = [c.model_copy(update={"email": f"ny{c.id}@kunde.no"}) for c in before]
    tx.api.counters.reset()
    after = await tx.update_many(Entity.CUSTOMER, changed)
    assert [c.email for c in after] == [f"ny{c.id}@kunde.no" for c in before]
    assert [a.version for a in after] == [(b.version or 0) + 1 for b in before]
    assert tx.api.counters.by_endpoint["PUT /customer/list"] == 2  # batches of 2: 2 + 1
    stored = {r["id"]: r for r in rows(state_of(sandbox), "customer")}
    assert stored[10003]["email"] == "ny10003@kunde.no"


@pytest.mark.anyio
async def test_a_stale_item_refuses_the_whole_batch(tx: TripletexClient, sandbox: str) -> None:
    before = (await tx.get_many(Entity.CUSTOMER, ["10002", "10003"])).of(Customer)
    await tx.update(before[1].model_copy(update={"email": "annen@kunde.no"}))
    with pytest.raises(StaleVersionError):
        await tx.update_many(
            Entity.CUSTOMER, [c.model_copy(update={"phone": "+4791234567"}) for c in before]
        )
    stored = {r["id"]: r for r in rows(state_of(sandbox), "customer")}
    assert stored[10002].get("phoneNumber") != "+4791234567"  # nothing of the batch was written


@pytest.mark.anyio
async def test_update_each_takes_out_the_item_tripletex_names_within_its_own_batch(
    tx: TripletexClient, sandbox: str
) -> None:
    tx.batch_size = 2
    ids = ["10002", "10003", "10004", "10005", "10006"]
    before = (await tx.get_many(Entity.CUSTOMER, ids)).of(Customer)
    changed = [c.model_copy(update={"email": f"ny{c.id}@kunde.no"}) for c in before]
    changed[3] = changed[3].model_copy(update={"organization_number": "123"})  # [1] of batch 2
    outcomes = await tx.update_each(Entity.CUSTOMER, changed)
    assert isinstance(outcomes[3], TripletexValidationError)
    written = [o for i, o in enumerate(outcomes) if i != 3]
    assert [getattr(o, "email", None) for o in written] == [
        f"ny{c.id}@kunde.no" for i, c in enumerate(before) if i != 3
    ]
    stored = {str(r["id"]): r for r in rows(state_of(sandbox), "customer")}
    assert stored[ids[3]].get("email") != f"ny{ids[3]}@kunde.no"  # the refused one only
    assert stored[ids[2]]["email"] == f"ny{ids[2]}@kunde.no"


@pytest.mark.anyio
async def test_update_projects_uses_put_list(tx: TripletexClient) -> None:
    [project] = (await tx.list(Entity.PROJECT)).of(Project)
    tx.api.counters.reset()
    [after] = await tx.update_many(
        Entity.PROJECT, [project.model_copy(update={"name": "Bryggen 3"})]
    )
    assert after.name == "Bryggen 3" and after.version == (project.version or 0) + 1
    assert tx.api.counters.by_endpoint["PUT /project/list"] == 1


@pytest.mark.anyio
async def test_validation_error_keeps_tripletex_messages(tx: TripletexClient) -> None:
    with pytest.raises(TripletexValidationError) as caught:
        await tx.create(Customer(name="Feil AS", organization_number="123"))
    error = caught.value
    assert error.status == 422
    assert error.field_errors
    assert error.field_errors[0].field is not None
    assert error.request_id


@pytest.mark.anyio
async def test_employee_project_and_hours_lifecycle(tx: TripletexClient, sandbox: str) -> None:
    [employee] = await tx.create_many(
        Entity.EMPLOYEE,
        [
            Employee(
                first_name="Per", last_name="Berg", email="per@fjordbygg.no", employee_number="9"
            )
        ],
    )
    assert employee.id is not None
    await tx.grant_project_manager(employee.id)
    project = await tx.create(
        Project(
            name="Nytt tak",
            number="P-2",
            customer_id="10002",
            project_manager_id=employee.id,
            start_date=dt.date(2025, 3, 1),
        )
    )
    assert project.id is not None and project.project_manager_id == employee.id
    tx.api.counters.reset()
    [entry] = await tx.create_many(
        Entity.HOURS,
        [
            HourEntry(
                employee_id=employee.id,
                project_id=project.id,
                activity_id="801",
                date=dt.date(2025, 3, 3),
                hours=Decimal("7.5"),
                comment="Taktekking",
            )
        ],
    )
    assert entry.hours == Decimal("7.5")
    read = (
        await tx.list(Entity.HOURS, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 4, 1))
    ).of(HourEntry)
    assert [e.id for e in read] == [entry.id]
    assert entry.id is not None and entry.version is not None
    await tx.delete(Entity.HOURS, entry.id, entry.version)
    assert (
        await tx.list(Entity.HOURS, date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 4, 1))
    ).of(HourEntry) == []
    closed = await tx.deactivate(Entity.PROJECT, project.id, project.version)
    assert isinstance(closed, Project) and closed.is_closed
    inactive = await tx.deactivate(Entity.CUSTOMER, "10002")
    assert isinstance(inactive, Customer) and not inactive.is_active


# --- faults ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_429_without_reset_header_is_waited_out(tx: TripletexClient, sandbox: str) -> None:
    add_fault(sandbox, kind="429", count=2, method="GET", path_prefix="/v2/customer")
    customers = (await tx.list(Entity.CUSTOMER)).of(Customer)
    assert len(customers) == 25
    assert tx.api.counters.retries == 2


@pytest.mark.anyio
async def test_500_then_success_is_retried(tx: TripletexClient, sandbox: str) -> None:
    add_fault(sandbox, kind="500", count=1, method="GET", path_prefix="/v2/project")
    assert len(await tx.list(Entity.PROJECT)) == 1
    assert tx.api.counters.retries == 1


@pytest.mark.anyio
async def test_timeout_on_batch_create_never_creates_twice(
    tx: TripletexClient, sandbox: str
) -> None:
    add_fault(
        sandbox,
        kind="timeout_after",
        count=1,
        method="POST",
        path_prefix="/v2/customer/list",
        latency_ms=2500,
    )
    records = new_customers(30)
    created = await tx.create_many(Entity.CUSTOMER, records)
    assert len(created) == 30 and all(c.id for c in created)
    names = [r["name"] for r in rows(state_of(sandbox), "customer")]
    assert all(names.count(r.name) == 1 for r in records)
    assert tx.api.counters.by_endpoint["POST /customer/list"] == 1  # all found by lookup


@pytest.mark.anyio
async def test_timeout_on_single_create_never_creates_twice(
    tx: TripletexClient, sandbox: str
) -> None:
    add_fault(
        sandbox,
        kind="timeout_after",
        count=1,
        method="POST",
        path_prefix="/v2/employee",
        latency_ms=2500,
    )
    employee = await tx.create(
        Employee(first_name="Siri", last_name="Lie", email="siri@fjordbygg.no")
    )
    assert employee.id is not None
    emails = [r.get("email") for r in rows(state_of(sandbox), "employee")]
    assert emails.count("siri@fjordbygg.no") == 1


@pytest.mark.anyio
async def test_expired_session_is_renewed_once(tx: TripletexClient, sandbox: str) -> None:
    await tx.who_am_i()
    admin(sandbox, "POST", "/_admin/sessions/expire")
    me = await tx.who_am_i()
    assert me.company_id == COMPANY
    assert tx.api.counters.by_endpoint["POST /token/session"] == 2


@pytest.mark.anyio
async def test_changed_since_returns_only_customers_changed_after_that_moment(
    tx: TripletexClient, sandbox: str
) -> None:
    import asyncio

    await asyncio.sleep(1.1)  # the seed's changes are now at least a second old
    moment = dt.datetime.now(dt.UTC)  # an aware UTC time: Tripletex reads Norwegian time
    admin(
        sandbox,
        "POST",
        f"/_admin/companies/{COMPANY}/edit",
        json={"entity": "customer", "id": 10_005, "changes": {"name": "Kunde 5 Endret AS"}},
    )
    changed = (await tx.list(Entity.CUSTOMER, changed_since=moment)).of(Customer)
    assert [(c.id, c.name) for c in changed] == [("10005", "Kunde 5 Endret AS")]
    assert len(await tx.list(Entity.CUSTOMER)) == 25


@pytest.mark.anyio
async def test_500_on_batch_create_is_looked_up_then_sent_again_once(
    tx: TripletexClient, sandbox: str
) -> None:
    add_fault(sandbox, kind="500", count=1, method="POST", path_prefix="/v2/customer/list")
    records = new_customers(12)
    created = await tx.create_many(Entity.CUSTOMER, records)
    assert len(created) == 12 and all(c.id for c in created)
    names = [r["name"] for r in rows(state_of(sandbox), "customer")]
    assert all(names.count(r.name) == 1 for r in records)
    assert tx.api.counters.by_endpoint["POST /customer/list"] == 2  # failed, then re-sent


def test_session_dates_follow_the_norwegian_calendar() -> None:
    # Between 00:00 and 01:00/02:00 in Oslo the UTC date is still yesterday: a session asked
    # for "UTC tomorrow" would end today in Norway, and Tripletex refuses it. The boundary
    # itself, with frozen clocks, is in test_tripletex_session_clock.py.
    from connectors.tripletex.clock import OSLO, oslo_today
    from connectors.tripletex.session import TripletexSession

    assert oslo_today() == dt.datetime.now(OSLO).date()
    session = TripletexSession(None, None, CONSUMER, EMPLOYEE_TOKEN)  # type: ignore[arg-type]
    assert oslo_today(session.now) == dt.datetime.now(OSLO).date()


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["x", 1.5, "٣", {"id": 1}])
async def test_an_unreadable_version_or_id_in_a_version_list_costs_only_that_row(
    sandbox: str, value: Any
) -> None:
    # Served malformed on purpose, so no spec check here: the answers break the spec.
    admin(sandbox, "POST", "/_admin/mutations", json={
        "path_prefix": "/v2/customer", "id": 10_002, "field": "version", "value": value
    })  # fmt: skip
    admin(sandbox, "POST", "/_admin/mutations", json={
        "path_prefix": "/v2/customer", "id": 10_003, "field": "id", "value": value
    })  # fmt: skip
    async with TripletexClient(f"{sandbox}/v2", CONSUMER, EMPLOYEE_TOKEN, policy=FAST) as tx:
        listed = await tx.list_versions(Entity.CUSTOMER)
        polled, _ = await tx.poll_versions(Entity.CUSTOMER, None)
    assert polled is not None
    for versions in (listed, polled):
        assert "10001" in versions and versions["10001"] >= 0
        assert versions["10002"] == UNREADABLE_VERSION  # fetched, and set aside there
        assert "10003" not in versions
        [bad] = versions.malformed
        assert bad.field == "id" and bad.problem is Problem.NOT_INTEGER
