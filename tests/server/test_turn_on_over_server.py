"""Turning off and on again over the real server path: the HTTP intake as its own process
starts the activation deployment, a worker runs it; after "Slå av" and an edit in Svenn, the
same call with the same keys starts the ``turn-on-again`` deployment (no review): the worker's
run reconciles the edit into Tripletex and the integration is active again."""

from __future__ import annotations

import re
import sys
import uuid
from typing import Any

import httpx

from sandboxes.live_edits import svenn_edit, tripletex_records
from sandboxes.runner import free_port
from store.integrations import get_integration
from store.links import links_for
from tests.server.conftest import ServerPath
from tests.server.harness import ManagedProcess, sandbox_env, store_env
from tests.server.test_keys_never_reach_prefect import _wait_for_port

BEARER = f"intake-bearer-{uuid.uuid4().hex}"
AUTH = {"Authorization": f"Bearer {BEARER}"}


def _status(server_path: ServerPath, tenant: str) -> str | None:
    with server_path.store.sessions() as session:
        integration = get_integration(session, tenant)
        return integration.status if integration else None


def _activate(url: str, pair: Any) -> dict[str, Any]:
    keys = {"tripletexEmployeeToken": pair.employee_token, "svennApiKey": pair.svenn_api_key}
    answer = httpx.post(
        f"{url}/tenants/{pair.tenant}/activation", json=keys, headers=AUTH, timeout=180
    )
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    assert body["activationRun"], body  # started on the server's deployment
    return body


def test_turned_off_then_on_again_through_the_intake_runs_the_turn_on_deployment(
    server_path: ServerPath, database: tuple[str, str | None], intake_env: Any
):
    from tests.conftest import TEST_KEY

    server, pair = server_path.server, server_path.pair
    intake_env(pair)
    url, schema = database
    env = server.env | store_env(url, schema, TEST_KEY) | sandbox_env(pair)
    port = free_port()
    intake = ManagedProcess.spawn(
        "intake",
        [sys.executable, "-m", "cli", "intake", "--port", str(port)],
        env | {"SVENN_SYNC_INTAKE_TOKEN": BEARER},
        server.home,
    )
    try:
        root = f"http://127.0.0.1:{port}"
        _wait_for_port(root, intake)
        first = _activate(root, pair)
        assert first["code"] == "IN_REVIEW"
        server_path.wait(first["activationRun"], "PAUSED")
        server.resume(first["activationRun"], {"decision": "approve", "approver": "kari@ops"})
        assert server_path.wait(first["activationRun"])["state"]["type"] == "COMPLETED"
        assert _status(server_path, pair.tenant) == "active"

        off = httpx.post(
            f"{root}/tenants/{pair.tenant}/deactivation",
            json={"by": "ola@kunde.no"},
            headers=AUTH,
            timeout=60,
        )
        assert off.status_code == 200 and off.json()["status"] == "disabled", off.text
        with server_path.store.sessions() as session:
            link = links_for(session, pair.tenant, "customer")[0]
        svenn_edit(pair, "customer", link.svenn_id, {"name": "Endret Mens Avslått AS"})

        again = _activate(root, pair)
        assert (again["code"], again["status"]) == ("TURNING_ON", "syncing")
        done = server_path.wait(again["activationRun"])
    finally:
        intake.stop()
    assert done["state"]["type"] == "COMPLETED", server.logs(again["activationRun"])[-20:]
    assert re.fullmatch(rf"turn-on-again-{pair.tenant}-\d{{8}}-\d{{6}}", done["name"])
    assert _status(server_path, pair.tenant) == "active"
    customer = tripletex_records(pair, "customer")[link.tripletex_id]
    assert customer["name"] == "Endret Mens Avslått AS"
