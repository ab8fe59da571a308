"""Tripletex sandbox: fault injection, admin endpoints, seeding, the CLI and speed."""

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

from sandboxes.faults import FaultSpec, parse_fault_option
from sandboxes.runner import free_port
from sandboxes.tripletex.app import create_app
from sandboxes.tripletex.seed import company_from_dataset
from sync.entities import Customer, Employee, HourEntry, Project
from tests.tripletex_sandbox_support import CONSUMER, FUTURE, TOKEN_A, new_checker, sandbox, seed

CHECKER = new_checker()
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def spec_clean() -> Iterator[None]:
    yield
    CHECKER.assert_clean()


@pytest.fixture
def env() -> Iterator[Any]:
    with sandbox(CHECKER) as running:
        yield running


def add_fault(base: str, **spec: Any) -> None:
    assert httpx.post(f"{base}/_admin/faults", json=spec).status_code == 201


def test_drop_closes_the_connection_without_a_response(env: Any) -> None:
    base, _, client = env
    add_fault(base, kind="drop", count=1, path_prefix="/v2/customer")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        client.get("/customer")
    assert client.get("/customer").status_code == 200


def test_timeout_after_performs_the_write_then_holds_the_answer(env: Any) -> None:
    base, app, client = env
    add_fault(base, kind="timeout_after", count=1, method="POST", latency_ms=2000)
    with pytest.raises(httpx.ReadTimeout):
        client.post("/customer", json={"name": "Kanskje AS"}, timeout=0.5)
    names = [c["name"] for c in app.state.sandbox.companies[1001].table("customer").values()]
    assert "Kanskje AS" in names


def test_status_faults_and_latency(env: Any) -> None:
    base, _, client = env
    for kind in ("429", "500", "503"):
        add_fault(base, kind=kind, count=1)
        assert client.get("/customer").status_code == int(kind)
    add_fault(base, kind="latency", count=1, latency_ms=300)
    started = time.monotonic()
    assert client.get("/customer").status_code == 200
    assert time.monotonic() - started >= 0.3
    add_fault(base, kind="timeout", count=1, latency_ms=100)
    assert client.get("/customer").status_code == 504


def test_faults_from_options_and_the_request_log() -> None:
    spec = parse_fault_option("500:count=1,path_prefix=/v2/project")
    with sandbox(CHECKER, faults=[spec, FaultSpec(kind="429", rate=0.0)]) as (base, _, client):
        assert client.get("/project").status_code == 500
        assert client.get("/project").status_code == 200
        log = httpx.get(f"{base}/_admin/requests").json()
        assert [r["status"] for r in log if r["path"] == "/v2/project"] == [500, 200]
        assert all(r["tenant"] == "1001" for r in log if r["path"] == "/v2/project")


def test_admin_state_shows_inactive_rows_versions_and_changes(env: Any) -> None:
    base, _, client = env
    client.put("/customer/21", json={"isInactive": True})
    state = httpx.get(f"{base}/_admin/companies/1001/state").json()
    customer = state["customer"][0]
    assert customer["isInactive"] is True and customer["version"] == 1
    assert [c["changeType"] for c in customer["changes"]] == ["CREATE", "UPDATE"]
    assert state["company"]["employeeTokens"][0]["token"] == TOKEN_A


def test_admin_edit_acts_like_a_ui_user(env: Any) -> None:
    base, _, client = env
    edit = {"entity": "customer", "id": 21, "changes": {"name": "Endret i UI AS"}}
    assert httpx.post(f"{base}/_admin/companies/1001/edit", json=edit).status_code == 200
    value = client.get("/customer/21").json()["value"]
    assert value["name"] == "Endret i UI AS" and value["version"] == 1
    create = {
        "entity": "project",
        "id": None,
        "changes": {"name": "Fra UI", "startDate": "2024-01-01", "projectManager": {"id": 11}},
    }
    made = httpx.post(f"{base}/_admin/companies/1001/edit", json=create)
    assert made.status_code == 201
    gone = {"entity": "project", "id": made.json()["value"]["id"], "delete": True}
    assert httpx.post(f"{base}/_admin/companies/1001/edit", json=gone).status_code == 204


def test_admin_adds_companies_and_resets(env: Any) -> None:
    base, _, client = env
    added = httpx.post(
        f"{base}/_admin/companies",
        json={"id": 3003, "name": "Ny AS", "employeeTokens": [{"token": "tok-c"}]},
    ).json()
    assert added["id"] == 3003 and added["employeeTokens"][0]["token"] == "tok-c"
    client.post("/customer", json={"name": "Borte etter reset"})
    assert httpx.post(f"{base}/_admin/reset").status_code == 200
    state = httpx.get(f"{base}/_admin/companies/1001/state").json()
    assert [c["name"] for c in state["customer"]] == ["Kunde En AS"]
    assert httpx.get(f"{base}/_admin/companies/3003/state").status_code == 404


def test_company_from_dataset_builds_a_valid_seed() -> None:
    dataset = SimpleNamespace(
        employees=[Employee(id="7", first_name="Ane", last_name="Lie", email="ane@x.no")],
        customers=[Customer(id="8", name="Kunde AS", organization_number="933333333")],
        projects=[
            Project(
                id="9",
                name="Bad",
                number="100",
                customer_id="8",
                project_manager_id="7",
                start_date=dt.date(2024, 1, 1),
            )
        ],
        activities=[],
        hours=[
            HourEntry(
                id="10",
                employee_id="7",
                project_id="9",
                activity_id=None,
                date=dt.date(2024, 2, 1),
                hours=Decimal("7.5"),
            )
        ],
    )

    company = company_from_dataset(dataset, 4004, "tok-d")
    assert company["projects"][0]["projectManager"] == {"id": 7}
    app = create_app({"companies": [company]})
    tables = app.state.sandbox.companies[4004].tables
    assert tables["customer"][8]["organizationNumber"] == "933333333"
    assert tables["timesheetEntry"][10]["hours"] == 7.5


def test_cli_starts_and_serves(tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed()))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "sandboxes.tripletex",
        "--port",
        str(port),
        "--seed",
        str(seed_file),
        "--rate-limit",
        "0",
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        banner = [process.stdout.readline() for _ in range(4)] if process.stdout else []
        assert f"http://127.0.0.1:{port}/v2" in banner[0]
        assert any(TOKEN_A in line for line in banner)
        session = _retry_put(f"http://127.0.0.1:{port}/v2/token/session/:create")
        token = session.json()["value"]["token"]
        customers = httpx.get(f"http://127.0.0.1:{port}/v2/customer", auth=("0", token))
        assert customers.json()["values"][0]["name"] == "Kunde En AS"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_takes_the_employee_token_as_an_option() -> None:
    port = free_port()
    command = [sys.executable, "-m", "sandboxes.tripletex", "--port", str(port)]
    command += ["--employee-token", "my-own-token", "--consumer-token", CONSUMER]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        banner = [process.stdout.readline() for _ in range(3)] if process.stdout else []
        assert any("my-own-token" in line for line in banner)
        url = f"http://127.0.0.1:{port}/v2/token/session/:create"
        assert _retry_put(url, "my-own-token").status_code == 200
        assert _retry_put(url, "sandbox-employee-token").status_code == 422
    finally:
        process.terminate()
        process.wait(timeout=10)


def _retry_put(url: str, employee_token: str = TOKEN_A) -> httpx.Response:
    params = {"consumerToken": CONSUMER, "employeeToken": employee_token, "expirationDate": FUTURE}
    deadline = time.monotonic() + 15
    while True:
        try:
            return httpx.put(url, params=params)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_bulk_create_and_paged_read_hold_ten_thousand_customers() -> None:
    # How fast is bench/bench_tripletex.py's figure, not a timed assertion here.
    with sandbox(rate_limit=0) as (_, _, client):
        for chunk in range(10):
            body = [{"name": f"Kunde {chunk}-{i}"} for i in range(1000)]
            assert client.post("/customer/list", json=body, timeout=30).status_code == 201
        seen = 0
        for start in range(0, 10_001, 1000):
            page = client.get(
                "/customer", params={"from": start, "count": 1000, "fields": "id,version,name"}
            )
            seen += page.json()["count"]
    assert seen == 10_001
