"""The canary: a tenant's keys go through the whole production path and are found nowhere.

Real ``prefect server`` + process worker + deployments, the HTTP key intake as its own process,
``svenn-sync approve`` as its own process, the alert automations of ``svenn-sync prefect setup``
notifying a local webhook. Afterwards the canary keys (and the intake's bearer token) are
looked for in Prefect's database (every byte of its home and SQLite files, or every row of every
table on PostgreSQL), in the run parameters, the run input, all logs, artifacts and events, the
notifications ops received, every row of our store, and everything each process printed.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from sandboxes.pair import SandboxPair, sandbox_pair
from sandboxes.runner import free_port
from store.integrations import get_integration
from store.models import Base
from store.state import StateStore
from tests.conftest import TEST_KEY
from tests.server.alerts_support import prefect_setup, save_webhook_block, webhook_receiver
from tests.server.harness import ROOT, ManagedProcess, PrefectServer, sandbox_env, store_env

ACTIVATE = "activate-integration/activate"
INTAKE_BEARER = f"intake-bearer-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def canary_pair() -> Iterator[SandboxPair]:
    """Both sandboxes, the tenant's keys being canaries nobody else uses."""
    with sandbox_pair(
        size="small",
        seed=7,
        employee_token=f"canary-tripletex-{uuid.uuid4().hex}",
        svenn_api_key=f"canary-svenn-{uuid.uuid4().hex}",
    ) as pair:
        yield pair


def _prefect_database_text(server: PrefectServer) -> str:
    """Everything Prefect's database holds, as text: every row of every table."""
    url = make_url(server.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    engine = create_engine(url.set(drivername="sqlite" if sqlite else "postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            parts = []
            for table in tables:
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                parts += [repr(tuple(row)) for row in rows]
    finally:
        engine.dispose()
    assert len(tables) > 10, tables  # it really read Prefect's schema
    return "\n".join(parts)


def _home_bytes(home: Path) -> bytes:
    """Every byte under Prefect's home: its SQLite file, WAL, logs, anything stored there."""
    return b"\n".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def _store_text(store: StateStore) -> str:
    parts = []
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in connection.execute(table.select()).all()]
    return "\n".join(parts)


def _wait_for_port(url: str, process: ManagedProcess, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.process.poll() is None, process.output()
        try:
            httpx.get(f"{url}/docs", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"the intake did not start:\n{process.output()}")


def test_the_keys_are_found_nowhere_but_encrypted_in_our_store(
    prefect_server: PrefectServer,
    canary_pair: SandboxPair,
    database: tuple[str, str | None],
    state_store: StateStore,
):
    pair, server = canary_pair, prefect_server
    url, schema = database
    env = store_env(url, schema, TEST_KEY) | sandbox_env(pair)
    with webhook_receiver() as receiver, server.worker(env, name="canary-worker") as worker:
        save_webhook_block(server, receiver.url)
        prefect_setup(server)
        port = free_port()
        intake_env = server.env | env | {"SVENN_SYNC_INTAKE_TOKEN": INTAKE_BEARER}
        intake = ManagedProcess.spawn(
            "intake",
            [sys.executable, "-m", "cli", "intake", "--port", str(port)],
            intake_env,
            server.home,
        )
        try:
            intake_url = f"http://127.0.0.1:{port}"
            _wait_for_port(intake_url, intake)
            answer = httpx.post(
                f"{intake_url}/tenants/{pair.tenant}/activation",
                json={
                    "tripletexEmployeeToken": pair.employee_token,
                    "svennApiKey": pair.svenn_api_key,
                },
                headers={"Authorization": f"Bearer {INTAKE_BEARER}"},
                timeout=180,
            )
            assert answer.status_code == 202, answer.text
            run_id = answer.json()["activationRun"]
            assert run_id, answer.text  # started on the server's deployment
            server.wait_for_state(run_id, {"PAUSED"}, timeout=300, worker=worker)
            review = receiver.wait_for(lambda message: run_id in message["body"])
            approved = subprocess.run(
                [sys.executable, "-m", "cli", "approve", pair.tenant, "--by", "kari@ops"],
                env=server.env | env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert approved.returncode == 0, approved.stderr
            said = " ".join(approved.stdout.split())  # the console wraps long lines
            assert f"the activation run {run_id} took the decision up" in said
            done = server.wait_for_state(run_id, timeout=400, worker=worker)
            assert done["state"]["type"] == "COMPLETED", server.logs(run_id)[-20:]
        finally:
            intake.stop()
        worker_output = worker.output()
    time.sleep(2)  # logs reach the server in batches

    # What the server holds, read through its API: the run, its input, logs, artifacts.
    run = server.flow_run(run_id)
    assert run["parameters"] == {"tenant": pair.tenant}
    run_input = server.api("POST", f"/flow_runs/{run_id}/input/filter", json={"prefix": ""})
    assert run_input, "the approval form's answer is stored as run input"
    all_logs = server.api("POST", "/logs/filter", json={"limit": 200})
    artifacts = server.artifacts()
    ours = {"event": {"prefix": ["svenn-sync."]}}
    events = server.api("POST", "/events/filter", json={"filter": ours, "limit": 50})
    notifications = [*receiver.received]
    read_back = [run, run_input, server.logs(run_id), all_logs, artifacts, server.deployments()]
    api_text = "\n".join(map(str, [*read_back, events, notifications]))
    assert "initial sync of t-demo" in api_text and "kari@ops" in api_text  # a real read-back
    assert "svenn-sync.review-requested" in str(events) and review in notifications

    prefect_db = _prefect_database_text(server)
    home = _home_bytes(server.home)
    store_text = _store_text(state_store)
    printed = [answer.text, approved.stdout, approved.stderr, worker_output]
    outputs = "\n".join([*printed, intake.output(10**7), server.process.output(10**7)])
    assert "kari@ops" in prefect_db and "t-demo" in store_text  # the scans see the run
    assert "svenn-sync.review-requested" in prefect_db  # ... and the alert events

    for canary in (pair.employee_token, pair.svenn_api_key, INTAKE_BEARER):
        assert canary not in api_text, "a key reached the Prefect API, an event or a message"
        assert canary not in prefect_db, "a key reached Prefect's database"
        assert canary.encode() not in home, "a key reached Prefect's home (database file, logs)"
        assert canary not in store_text, "a key rests in our store in clear"
        assert canary not in outputs, "a key was printed by a process"

    with state_store.sessions() as session:  # it is in our store, encrypted
        integration = get_integration(session, pair.tenant)
        assert integration is not None and integration.status == "active"
        assert integration.employee_token_encrypted is not None
        token = state_store.cipher.decrypt(integration.employee_token_encrypted)
        assert token.get_secret_value() == pair.employee_token
