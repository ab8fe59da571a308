"""End to end over the real server path: deployment run → pause → REST resume → active → an
edit synced by a scheduled run."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from intake.keys import Accepted
from sandboxes.pair import SandboxPair
from store.integrations import get_integration
from store.links import links_for
from store.models import IntegrationStatus, Link
from sync.records import Entity
from tests.server.conftest import ServerPath, take_keys_here
from tests.server.harness import ACTIVATE, PrefectServer, activation_parameters


def _status(session: Session, tenant: str) -> str | None:
    integration = get_integration(session, tenant)
    return integration.status if integration else None


def test_activation_approved_through_the_resume_endpoint_then_a_scheduled_run_syncs_an_edit(
    server_path: ServerPath, intake_env: Any
):
    server, pair = server_path.server, server_path.pair
    intake_env(pair)
    assert isinstance(take_keys_here(pair), Accepted)  # keys go to the store, not to Prefect
    run_id = server.run_deployment(ACTIVATE, activation_parameters(server, pair))
    paused = server_path.wait(run_id, "PAUSED")
    assert paused["state"]["state_details"]["pause_reschedule"] is False
    plan = server.artifacts(run_id=run_id)
    assert any(a["key"] == f"plan-{pair.tenant}" for a in plan), [a["key"] for a in plan]
    with server_path.store.sessions() as session:
        assert _status(session, pair.tenant) == IntegrationStatus.REVIEW

    # The same call the UI's Resume form makes.
    server.resume(run_id, {"decision": "approve", "approver": "kari@firma.no", "reason": "ok"})
    done = server_path.wait(run_id)

    assert done["state"]["type"] == "COMPLETED", server.logs(run_id)[-20:]
    assert re.fullmatch(rf"activate-{pair.tenant}-\d{{8}}-\d{{6}}", done["name"]), done["name"]
    with server_path.store.sessions() as session:
        assert _status(session, pair.tenant) == IntegrationStatus.ACTIVE
    assert server.artifacts(key=f"initial-sync-summary-{pair.tenant}")

    # Then an edit in Svenn reaches Tripletex through a run the server's scheduler started.
    link = _a_customer_link(server_path)
    _edit_svenn_customer(pair, link.svenn_id, "Omdøpt etter aktivering AS")
    deployment, parameters = _scheduled_sync(server, pair.tenant)
    server.run_on_schedule(deployment, 5, parameters)
    try:
        _wait_for_tripletex_name(pair, link.tripletex_id, "Omdøpt etter aktivering AS", server_path)
    finally:
        server.pause(deployment)
    runs = server.flow_runs(deployment)
    assert any(r["auto_scheduled"] for r in runs), [r["state_type"] for r in runs]
    # Runs the worker started are named after whom they serve, not at random.
    flow_name = deployment.split("/")[0]
    started = [r for r in runs if r["run_count"]]  # not the ones cancelled before they ran
    assert started
    for run in started:
        whom = rf"({pair.tenant}|all-tenants|shard-\d+-of-\d+)"
        assert re.fullmatch(rf"{flow_name}-{whom}-\d{{8}}-\d{{6}}", run["name"]), [
            (r["name"], r["state_type"], r["start_time"]) for r in runs
        ]


def _scheduled_sync(server: PrefectServer, tenant: str) -> tuple[str, dict[str, Any]]:
    """The realtime deployment when main has it, else the nightly reconciliation (both merge
    with the same rules); with parameters that make a test-sized run."""
    names = {f"{d['name']}" for d in server.deployments()}
    if "realtime-sync" in names:
        return "realtime-sync/realtime-sync", {"window_seconds": 30, "wait_for_next_seconds": 0}
    return "reconcile/reconcile", {"tenant": tenant}


def _a_customer_link(server_path: ServerPath) -> Link:
    with server_path.store.sessions() as session:
        return links_for(session, server_path.pair.tenant, Entity.CUSTOMER.value)[0]


def _edit_svenn_customer(pair: SandboxPair, svenn_id: str, name: str) -> None:
    body = {"entity": "customer", "id": svenn_id, "operation": "update", "changes": {"name": name}}
    httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit", json=body).raise_for_status()


def _wait_for_tripletex_name(
    pair: SandboxPair, tripletex_id: str, name: str, server_path: ServerPath
) -> None:
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/state"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        customers = httpx.get(url).json()["customer"]
        if any(str(c["id"]) == tripletex_id and c["name"] == name for c in customers):
            return
        time.sleep(2)
    raise AssertionError(
        f"Tripletex customer {tripletex_id} never became {name!r}:\n"
        + server_path.worker.output()[-4000:]
    )


def _in_group(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_a_stopped_worker_leaves_no_process_behind(prefect_server):
    with prefect_server.worker({}, name="short-lived") as worker:
        pid = worker.process.process.pid
        assert _in_group(pid)  # the worker leads its own process group
    assert worker.process.process.poll() is not None
    assert not _in_group(pid)
