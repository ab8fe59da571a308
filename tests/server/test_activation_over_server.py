"""End to end over the real server path: deployment run → pause → REST resume → active."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from store.integrations import get_integration
from store.models import IntegrationStatus
from tests.server.conftest import ServerPath

ACTIVATE = "activate-integration/activate"


def _status(session: Session, tenant: str) -> str | None:
    integration = get_integration(session, tenant)
    return integration.status if integration else None


def test_activation_approved_through_the_resume_endpoint_goes_active(server_path: ServerPath):
    server, pair = server_path.server, server_path.pair
    run_id = server.run_deployment(
        ACTIVATE,
        {
            "tenant": pair.tenant,
            "tripletex_employee_token": pair.employee_token,
            "svenn_api_key": pair.svenn_api_key,
        },
    )
    paused = server_path.wait(run_id, "PAUSED")
    assert paused["state"]["state_details"]["pause_reschedule"] is False
    plan = server.artifacts(run_id=run_id)
    assert any(a["key"] == f"plan-{pair.tenant}" for a in plan), [a["key"] for a in plan]
    with server_path.store.sessions() as session:
        assert _status(session, pair.tenant) == IntegrationStatus.REVIEW

    # The same call the UI's Resume form makes.
    server.resume(run_id, {"decision": "approve", "approver": "kari@firma.no", "reason": "ok"})
    done = server_path.wait(run_id, timeout=300)

    assert done["state"]["type"] == "COMPLETED", server.logs(run_id)[-20:]
    with server_path.store.sessions() as session:
        assert _status(session, pair.tenant) == IntegrationStatus.ACTIVE
    keys = {a["key"] for a in server.artifacts(run_id=run_id)}
    assert f"initial-sync-summary-{pair.tenant}" in keys or any(
        a["key"] == f"initial-sync-summary-{pair.tenant}"
        for a in server.artifacts(key=f"initial-sync-summary-{pair.tenant}")
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
