"""The Svenn sandbox's change feed, faults, seeding and command line."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from sandboxes.faults import FaultSpec
from sandboxes.runner import free_port
from sandboxes.svenn.app import create_app
from sandboxes.svenn.seed import example_seed, tenant_from_dataset
from sync.entities import Customer, Employee, HourEntry, Project
from sync.records import Activity, Address
from tests.test_svenn_sandbox import ACME, Sandbox, start

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    yield from start()


def read_feed(api: httpx.Client, cursor: str | None, limit: int = 3) -> tuple[list[Any], str]:
    events: list[Any] = []
    while True:
        page = api.get("/changes", params={"limit": limit} | ({"cursor": cursor} if cursor else {}))
        assert page.status_code == 200, page.text
        body = page.json()
        events += body["events"]
        cursor = body["nextCursor"]
        if not body["hasMore"]:
            return events, cursor


def edit(sandbox: Sandbox, entity: str, record_id: str | None, op: str, **changes: Any) -> Any:
    body = {"entity": entity, "id": record_id, "operation": op, "changes": changes}
    return sandbox.admin("/tenants/t-acme/edit", body)["record"]


def test_every_kind_of_change_appears_in_order(sandbox: Sandbox) -> None:
    start_cursor = sandbox.api.get("/changes/latest").json()["cursor"]
    customer = sandbox.api.post("/customers", json={"name": "Ny AS"}).json()
    sandbox.api.patch(
        f"/customers/{customer['id']}", json={"phone": "1"}, headers={"If-Match": "1"}
    )
    sandbox.api.post(f"/customers/{customer['id']}/deactivate")
    sandbox.api.post("/employees/batch", json={"items": [{"firstName": "Eva", "lastName": "Ås"}]})
    edit(sandbox, "project", "prj-1", "deactivate")
    hours = edit(sandbox, "hours", None, "create", employeeId="emp-1", date="2025-03-03", hours=4)
    edit(sandbox, "hours", hours["id"], "submit")
    approved = edit(sandbox, "hours", hours["id"], "approve", approvedBy="emp-2")
    assert approved["status"] == "approved" and approved["approvedAt"]
    unapproved = edit(sandbox, "hours", hours["id"], "unapprove")
    assert unapproved["approvedBy"] is None and unapproved["status"] == "submitted"
    edit(sandbox, "hours", hours["id"], "update", hours=5.5)
    edit(sandbox, "hours", "hrs-1", "delete")
    events, _ = read_feed(sandbox.api, start_cursor)
    seen = [(e["entity"], e["operation"], e["version"]) for e in events]
    assert seen == [
        ("customer", "create", 1), ("customer", "update", 2), ("customer", "update", 3),
        ("employee", "create", 1), ("project", "update", 2),
        ("hours", "create", 1), ("hours", "update", 2), ("hours", "update", 3),
        ("hours", "update", 4), ("hours", "update", 5), ("hours", "delete", 2),
    ]  # fmt: skip
    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(sequences[0], sequences[0] + len(events)))
    assert sandbox.api.get("/hours/hrs-1").status_code == 404


def test_rereading_from_an_old_cursor_returns_the_same_events(sandbox: Sandbox) -> None:
    middle = sandbox.api.get("/changes", params={"limit": 2}).json()["nextCursor"]
    sandbox.api.post("/customers", json={"name": "Etter AS"})
    first, end = read_feed(sandbox.api, middle)
    again, end_again = read_feed(sandbox.api, middle, limit=1)
    assert first == again and end == end_again and len(first) == 4
    nothing = sandbox.api.get("/changes", params={"cursor": end}).json()
    assert nothing == {"events": [], "nextCursor": end, "hasMore": False}
    assert sandbox.api.get("/changes/latest").json()["cursor"] == end


def test_no_cursor_reads_from_the_start_of_retention(sandbox: Sandbox) -> None:
    events, _ = read_feed(sandbox.api, None)
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0] == events[0] | {"entity": "employee", "id": "emp-1", "operation": "create"}


def test_expired_or_unknown_cursor_is_410_telling_the_client_to_resync(sandbox: Sandbox) -> None:
    old = sandbox.api.get("/changes", params={"limit": 1}).json()["nextCursor"]
    for n in range(3):
        sandbox.api.post("/customers", json={"name": f"K{n}"})
    compacted = sandbox.admin("/tenants/t-acme/feed/compact?keep=2")
    assert compacted == {"head": 8, "firstRetained": 7}
    for cursor in (old, "garbage", old.split(".")[0] + ".999"):
        response = sandbox.api.get("/changes", params={"cursor": cursor})
        assert response.status_code == 410, cursor
        problem = response.json()
        assert problem["type"].endswith("/cursor-expired") and problem["resync"] is True
        assert "resynchronise" in problem["detail"]
    events, _ = read_feed(sandbox.api, None)
    assert [e["sequence"] for e in events] == [7, 8]


def test_feed_keeps_at_most_the_retention() -> None:
    for sandbox in start(feed_retention=3):
        start_cursor = sandbox.api.get("/changes/latest").json()["cursor"]
        assert [e["sequence"] for e in read_feed(sandbox.api, None)[0]] == [3, 4, 5]
        sandbox.api.post("/customers", json={"name": "Siste AS"})
        assert sandbox.api.get("/changes", params={"cursor": start_cursor}).status_code == 200
        for n in range(3):
            sandbox.api.post("/customers", json={"name": f"K{n}"})
        assert sandbox.api.get("/changes", params={"cursor": start_cursor}).status_code == 410


def test_faults_set_at_runtime_and_at_start() -> None:
    for sandbox in start():
        fault = {"kind": "500", "count": 1, "path_prefix": "/api/v1/customers"}
        assert httpx.post(sandbox.url + "/_admin/faults", json=fault).status_code == 201
        assert sandbox.api.get("/customers").status_code == 500
        assert sandbox.api.get("/customers").status_code == 200
        logged = httpx.get(sandbox.url + "/_admin/requests").json()
        assert [r["status"] for r in logged][-2:] == [500, 200]
        assert logged[-1]["tenant"] == "t-acme"
    faults = [FaultSpec(kind="429", count=2, method="POST")]
    for sandbox in start(faults=faults):
        statuses = [sandbox.api.post("/customers", json={"name": "X"}).status_code for _ in "abc"]
        assert statuses == [429, 429, 201]


def test_seed_from_canonical_records_loads_in_contract_shape() -> None:
    dataset = _hand_built()
    tenant = tenant_from_dataset(dataset, "t-x", "x-key")
    app = create_app({"tenants": [tenant]})
    loaded = app.state.sandbox.tenants["t-x"]
    hours = loaded.collections["hours"].get("h1")
    assert hours["hours"] == 7.5 and hours["approvedAt"] == "2025-01-02T08:00:00Z"
    assert loaded.collections["projects"].get("p2")["parentProjectId"] == "p1"
    assert loaded.collections["customers"].get("c1")["postalAddress"]["city"] == "Oslo"
    assert loaded.collections["activities"].get("a1")["code"] == "1"


def test_seed_from_the_data_generator_loads() -> None:
    datagen = pytest.importorskip("sandboxes.datagen")
    world = datagen.generate_world("small", seed=1)
    app = create_app({"tenants": [tenant_from_dataset(world.svenn, "t-gen", "gen-key")]})
    loaded = app.state.sandbox.tenants["t-gen"]
    assert len(loaded.collections["customers"]) == len(world.svenn.customers)
    assert len(loaded.collections["hours"]) == len(world.svenn.hours)


def _cli(*options: str) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    command = [sys.executable, "-m", "sandboxes.svenn", "--port", str(port), *options]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        lines.append(process.stdout.readline())
        yield url, lines
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_serves_a_seed_file(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(example_seed()))
    for url, lines in _cli("--seed", str(seed_file)):
        assert url in lines[0] and ACME in lines[1]
        me = httpx.get(url + "/api/v1/me", headers={"Authorization": f"Bearer {ACME}"})
        assert me.json() == {"id": "t-acme", "name": "Acme Bygg AS"}


def test_cli_generates_data() -> None:
    pytest.importorskip("sandboxes.datagen")
    for url, lines in _cli("--generate", "small"):
        assert "svenn-demo-key" in lines[1]
        headers = {"Authorization": "Bearer svenn-demo-key"}
        assert httpx.get(url + "/api/v1/customers", headers=headers).json()["data"]


def _hand_built() -> SimpleNamespace:
    customer_address = Address(address_line1="Gata 1", postal_code="0150", city="Oslo")
    return SimpleNamespace(
        name="Hand-built",
        activities=[Activity(id="a1", name="Normaltid", number="1")],
        employees=[
            Employee(id="e1", first_name="Kari", last_name="Nordmann", email="k@x.no",
                     date_of_birth=dt.date(1990, 5, 17))
        ],
        customers=[
            Customer(id="c1", name="Kunde AS", customer_number=5, postal_address=customer_address)
        ],
        projects=[
            Project(id="p2", name="Under", parent_project_id="p1", customer_id="c1"),
            Project(id="p1", name="Hoved", number="P1", customer_id="c1",
                    project_manager_id="e1", start_date=dt.date(2025, 1, 1), is_closed=True),
        ],
        hours=[
            HourEntry(id="h1", employee_id="e1", project_id="p1", activity_id="a1",
                      date=dt.date(2025, 1, 1), hours=Decimal("7.5"), status="approved",
                      approved_by="e1", approved_at=dt.datetime(2025, 1, 2, 8, tzinfo=dt.UTC))
        ],
    )  # fmt: skip


def test_a_manager_edits_approved_hours_and_their_task_in_the_app(sandbox: Sandbox) -> None:
    cursor = sandbox.api.get("/changes/latest").json()["cursor"]
    moved = edit(sandbox, "hours", "hrs-1", "update", date="2025-01-08", activityId="act-travel")
    assert moved["status"] == "approved" and moved["activityId"] == "act-travel"
    window = {"status": "approved", "dateFrom": "2025-01-08", "dateTo": "2025-01-08"}
    assert [h["id"] for h in sandbox.api.get("/hours", params=window).json()["data"]] == ["hrs-1"]
    refused = sandbox.api.patch("/hours/hrs-1", json={"hours": 1}, headers={"If-Match": "2"})
    assert refused.status_code == 422  # through the API, approved hours are locked
    events = sandbox.api.get("/changes", params={"cursor": cursor}).json()["events"]
    seen = [(e["entity"], e["id"], e["operation"]) for e in events]
    assert seen == [("hours", "hrs-1", "update")]
