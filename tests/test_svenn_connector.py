"""The Svenn connector over real HTTP against the Svenn sandbox, held to the contract.

Every request the client sends and every response the sandbox returns goes through
:class:`OpenAPIChecker` (an httpx response hook); each test ends with ``assert_clean()``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.errors import AuthenticationError, PreconditionFailedError, StaleVersionError
from connectors.http import HttpPolicy, ValidationFailedError
from connectors.svenn.client import SvennClient
from connectors.svenn.errors import SvennStaleVersionError
from connectors.svenn.mapping import UnmappableRecordError
from sandboxes.openapi_check import SVENN_SPEC, OpenAPIChecker
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app
from sync.entities import Customer, Employee, HourEntry, Project
from sync.records import Entity

FAST = HttpPolicy(timeout=5.0, connect_timeout=2.0, backoff_base=0.01, backoff_max=0.05)
_tenant_numbers = itertools.count(1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with serve_in_thread(create_app({"tenants": []})) as url:
        yield url


@dataclass
class Sandbox:
    """One fresh tenant in the shared sandbox, and the means to poke at it."""

    url: str
    tenant_id: str
    api_key: str
    checker: OpenAPIChecker

    @property
    def api_url(self) -> str:
        return self.url + "/api/v1"

    def client(self, policy: HttpPolicy = FAST, **options: Any) -> SvennClient:
        hooks = {"response": [self.checker.async_hook]}
        return SvennClient(self.api_url, self.api_key, policy=policy, event_hooks=hooks, **options)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, self.url + "/_admin" + path, json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict[str, Any]:
        return dict(self.admin("GET", f"/tenants/{self.tenant_id}/state"))

    def edit(self, entity: str, record_id: str | None, operation: str, **changes: Any) -> Any:
        body = {"entity": entity, "id": record_id, "operation": operation, "changes": changes}
        return self.admin("POST", f"/tenants/{self.tenant_id}/edit", body)["record"]

    def fault(self, kind: str, path: str, method: str = "GET", **options: Any) -> None:
        spec = {"kind": kind, "count": 1, "method": method, "path_prefix": path} | options
        self.admin("POST", "/faults", spec)

    def requests(self, method: str, path: str) -> list[dict[str, Any]]:
        rows = self.admin("GET", "/requests")
        return [
            r
            for r in rows
            if (r["method"], r["path"], r["tenant"]) == (method, path, self.tenant_id)
        ]


def make_tenant(url: str, **records: list[dict[str, Any]]) -> Sandbox:
    number = next(_tenant_numbers)
    tenant_id, api_key = f"t-{number}", f"svenn-test-key-{number:04d}"
    seed = {"id": tenant_id, "name": f"Tenant {number}", "apiKey": api_key} | records
    response = httpx.post(url + "/_admin/tenants", json=seed, timeout=60)
    response.raise_for_status()
    return Sandbox(url, tenant_id, api_key, OpenAPIChecker(SVENN_SPEC, server_prefix="/api/v1"))


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[Sandbox]:
    box = make_tenant(sandbox_url, **small_world())
    yield box
    httpx.delete(sandbox_url + "/_admin/faults")
    assert box.checker.checked > 0
    box.checker.assert_clean()


@pytest.fixture
async def svenn(sandbox: Sandbox) -> AsyncIterator[SvennClient]:
    async with sandbox.client() as client:
        yield client


def small_world() -> dict[str, list[dict[str, Any]]]:
    employees = [
        {"id": f"emp-{i:03d}", "firstName": f"Ansatt{i}", "lastName": "Hansen",
         "email": f"ansatt{i}@firma.no", "employeeNumber": str(i)}
        for i in range(1, 6)
    ]  # fmt: skip
    customers = [
        {"id": f"cus-{i:05d}", "name": f"Kunde {i} AS", "customerNumber": 1000 + i,
         "organizationNumber": None, "email": f"post{i}@kunde.no",
         "postalAddress": {"addressLine1": f"Gate {i}", "postalCode": "0150", "city": "Oslo",
                           "countryCode": "NO"}}
        for i in range(1, 2346)
    ]  # fmt: skip
    projects = [
        {"id": f"prj-{i:03d}", "name": f"Prosjekt {i}", "number": f"P-{i}",
         "customerId": f"cus-{i:05d}", "projectManagerId": "emp-001", "startDate": "2025-01-06"}
        for i in range(1, 11)
    ]  # fmt: skip
    hours = [
        {"id": f"hrs-{i:04d}", "employeeId": f"emp-{1 + i % 5:03d}", "projectId": "prj-001",
         "activityId": "act-normal", "date": f"2025-01-{1 + i % 30:02d}",
         "hours": 7.5, "status": "approved" if i % 2 else "submitted",
         "approvedBy": "emp-001" if i % 2 else None,
         "approvedAt": "2025-02-01T08:00:00Z" if i % 2 else None}
        for i in range(1, 121)
    ]  # fmt: skip
    activities = [{"id": "act-normal", "code": "NORMAL", "name": "Normal time"}]
    return {
        "employees": employees,
        "customers": customers,
        "projects": projects,
        "hours": hours,
        "activities": activities,
    }


# --- reading -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_me_names_the_tenant(sandbox: Sandbox, svenn: SvennClient) -> None:
    tenant = await svenn.me()
    assert (tenant.id, tenant.name) == (sandbox.tenant_id, sandbox.state()["name"])


@pytest.mark.anyio
async def test_unknown_key_is_refused_without_leaking_it(sandbox: Sandbox) -> None:
    secret = "svenn-key-that-nobody-has-1234"
    hooks = {"response": [sandbox.checker.async_hook]}
    async with SvennClient(sandbox.api_url, secret, policy=FAST, event_hooks=hooks) as svenn:
        with pytest.raises(AuthenticationError) as caught:
            await svenn.me()
        assert secret not in repr(svenn)
    assert secret not in str(caught.value) and secret not in repr(caught.value)
    assert caught.value.code == "unauthorized"


@pytest.mark.anyio
async def test_list_customers_reads_every_page_at_the_largest_limit(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    customers = (await svenn.list(Entity.CUSTOMER)).of(Customer)
    expected = {c["id"] for c in sandbox.state()["customers"]}
    assert [c.id for c in customers] == sorted(expected)
    assert len(customers) == 2345
    assert svenn.api.counters.by_endpoint == {"GET /customers": 3}
    first = customers[0]
    assert first.customer_number == 1001 and first.postal_address is not None
    assert first.postal_address.city == "Oslo" and first.version == 1


@pytest.mark.anyio
async def test_list_other_entities_maps_their_references(svenn: SvennClient) -> None:
    employees = (await svenn.list(Entity.EMPLOYEE)).of(Employee)
    projects = (await svenn.list(Entity.PROJECT)).of(Project)
    activities = await svenn.list_activities()
    assert [e.employee_number for e in employees] == ["1", "2", "3", "4", "5"]
    assert projects[0].customer_id == "cus-00001" and projects[0].project_manager_id == "emp-001"
    assert projects[0].start_date == dt.date(2025, 1, 6) and not projects[0].is_closed
    assert [(a.id, a.number) for a in activities] == [("act-normal", "NORMAL")]


@pytest.mark.anyio
async def test_list_hours_filters_by_status_and_inclusive_dates(svenn: SvennClient) -> None:
    everything = (await svenn.list(Entity.HOURS)).of(HourEntry)
    approved = (
        await svenn.list(
            Entity.HOURS,
            status="approved",
            date_from=dt.date(2025, 1, 5),
            date_to=dt.date(2025, 1, 10),
        )
    ).of(HourEntry)
    assert len(everything) == 120
    expected = [
        h.id
        for h in everything
        if h.status == "approved" and dt.date(2025, 1, 5) <= h.date <= dt.date(2025, 1, 10)
    ]
    assert [h.id for h in approved] == expected and expected
    assert all(h.approved_by == "emp-001" and h.approved_at is not None for h in approved)


@pytest.mark.anyio
async def test_get_many_fetches_by_ids_in_chunks_and_leaves_out_unknown_ids(
    svenn: SvennClient,
) -> None:
    wanted = [f"cus-{i:05d}" for i in range(2345, 844, -1)]  # 1,501 ids, newest first
    records = (await svenn.get_many(Entity.CUSTOMER, [*wanted, "cus-99999", wanted[0]])).of(
        Customer
    )
    assert sorted(r.id or "" for r in records) == sorted(wanted)
    assert svenn.api.counters.by_endpoint["GET /customers"] == 2


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_batch_create_reports_bad_items_and_keeps_the_good_ones(
    sandbox: Sandbox,
) -> None:
    records = [
        Customer(name="Ny Kunde AS", customer_number=5001),
        Customer(name="Dobbel AS", customer_number=1001),  # number already taken
        Customer(name="Tekstnummer AS", customer_number="A-12"),  # Svenn wants a number
        Customer(name="Annen Ny AS", email="post@annen.no"),
        Customer(name="x" * 300),  # too long
    ]
    refs = [f"tx-customer-{i}" for i in range(len(records))]
    async with sandbox.client(batch_size=2) as svenn:
        outcomes = await svenn.create_many(Entity.CUSTOMER, records, refs)
    assert [o.ok for o in outcomes] == [True, False, False, True, False]
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4]
    assert outcomes[0].record is not None and outcomes[0].record.customer_number == 5001
    assert isinstance(outcomes[1].error, ValidationFailedError)
    assert [fe.field for fe in outcomes[1].error.field_errors] == ["customerNumber"]
    assert isinstance(outcomes[2].error, UnmappableRecordError)
    assert isinstance(outcomes[4].error, ValidationFailedError)
    assert len(sandbox.requests("POST", "/api/v1/customers/batch")) == 2  # item 2 never sent
    created = {c["externalRef"]: c for c in sandbox.state()["customers"] if c["externalRef"]}
    assert sorted(created) == ["tx-customer-0", "tx-customer-3"]


@pytest.mark.anyio
async def test_repeating_a_batch_create_returns_the_existing_records(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    records = [Employee(first_name="Ny", last_name=f"Person{i}") for i in range(3)]
    refs = [f"tx-employee-{i}" for i in range(3)]
    first = await svenn.create_many(Entity.EMPLOYEE, records, refs)
    again = await svenn.create_many(Entity.EMPLOYEE, records, refs)
    assert all(o.ok and not o.already_existed for o in first)
    assert all(o.ok and o.already_existed for o in again)
    assert [o.record for o in again] == [o.record for o in first]
    assert len([e for e in sandbox.state()["employees"] if e["externalRef"]]) == 3


@pytest.mark.anyio
async def test_conditional_update_bumps_the_version_and_a_stale_one_is_refused(
    svenn: SvennClient,
) -> None:
    (customer,) = (await svenn.get_many(Entity.CUSTOMER, ["cus-00007"])).of(Customer)
    assert isinstance(customer, Customer)
    updated = await svenn.update(customer.model_copy(update={"phone": "+47 22 00 00 00"}))
    assert updated.phone == "+47 22 00 00 00" and updated.version == 2
    with pytest.raises(SvennStaleVersionError) as caught:
        await svenn.update(customer.model_copy(update={"phone": "+47 99 99 99 99"}))
    assert isinstance(caught.value, StaleVersionError)
    assert isinstance(caught.value, PreconditionFailedError)
    assert caught.value.status == 412 and caught.value.current_version == 2
    assert (await svenn.get(Entity.CUSTOMER, "cus-00007")) == updated


@pytest.mark.anyio
async def test_update_of_named_fields_leaves_the_others_alone(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    project = await svenn.get(Entity.PROJECT, "prj-002")
    assert isinstance(project, Project)
    sandbox.edit("project", "prj-002", "update", number="P-200")  # someone else's change
    fresh = await svenn.get(Entity.PROJECT, "prj-002")
    assert isinstance(fresh, Project)
    changed = fresh.model_copy(update={"name": "Nytt navn", "number": "P-stale"})
    result = await svenn.update(changed, fields={"name"})
    assert (result.name, result.number) == ("Nytt navn", "P-200")


@pytest.mark.anyio
async def test_deactivate_and_close_are_idempotent(sandbox: Sandbox, svenn: SvennClient) -> None:
    customer = await svenn.deactivate(Entity.CUSTOMER, "cus-00003")
    again = await svenn.deactivate(Entity.CUSTOMER, "cus-00003")
    employee = await svenn.deactivate(Entity.EMPLOYEE, "emp-005", version=1)
    project = await svenn.deactivate(Entity.PROJECT, "prj-003")
    closed_again = await svenn.deactivate(Entity.PROJECT, "prj-003")
    assert isinstance(customer, Customer) and isinstance(employee, Employee)
    assert isinstance(project, Project)
    assert not customer.is_active and again.version == customer.version
    assert not employee.is_active and employee.version == 2
    assert project.is_closed and closed_again.version == project.version
    with pytest.raises(SvennStaleVersionError):
        await svenn.deactivate(Entity.EMPLOYEE, "emp-004", version=7)
    inactive = (await svenn.list(Entity.CUSTOMER, active=False)).of(Customer)
    assert [c.id for c in inactive] == ["cus-00003"]


@pytest.mark.anyio
async def test_create_single_records_then_find_them_by_external_ref(
    svenn: SvennClient,
) -> None:
    project = await svenn.create(
        Project(name="Nytt bygg", number="P-900", customer_id="cus-00001"), "tx-project-900"
    )
    again = await svenn.create(Project(name="Nytt bygg"), "tx-project-900")
    assert again == project
    assert await svenn.find_by_external_ref(Entity.PROJECT, "tx-project-900") == project
    assert await svenn.find_by_external_ref(Entity.PROJECT, "tx-project-nope") is None
