"""Ops are told, over the real server path: the automations ``svenn-sync prefect setup`` creates
send the review and failure alerts through a Custom Webhook notification block to a local
receiver, and a healthy tick sends nothing."""

from __future__ import annotations

import time
from typing import Any

import httpx

from intake.keys import Accepted
from tasks.alerts import AlertKind
from tests.server.alerts_support import (
    alert_automations,
    prefect_setup,
    save_webhook_block,
    webhook_receiver,
)
from tests.server.conftest import ServerPath, take_keys_here
from tests.server.harness import ACTIVATE, activation_parameters

REALTIME = "realtime-sync/realtime-sync"
A_FEW_TICKS = {"window_seconds": 60, "poll_seconds": 0.5, "max_ticks": 2}


def _is(kind: str, tenant: str) -> Any:
    return lambda message: kind in message["subject"] and tenant in message["subject"]


def test_ops_get_the_review_then_the_failure_and_nothing_for_healthy_ticks(
    server_path: ServerPath, intake_env: Any
):
    server, pair = server_path.server, server_path.pair
    with webhook_receiver() as receiver:
        save_webhook_block(server, receiver.url)
        first = prefect_setup(server)
        again = prefect_setup(server)  # idempotent: updated in place, never a second one
        kinds = len(AlertKind)
        assert first.count("created") >= kinds and again.count("updated") == kinds, (first, again)
        automations = alert_automations(server)
        assert sorted(a["name"] for a in automations) == sorted(
            f"svenn-sync: notify {kind.value}" for kind in AlertKind
        )

        # A tenant pastes keys: the activation run pauses for review, and ops are told.
        intake_env(pair)
        assert isinstance(take_keys_here(pair), Accepted)
        run_id = server.run_deployment(ACTIVATE, activation_parameters(server, pair))
        server_path.wait(run_id, "PAUSED")
        review = receiver.wait_for(_is("asks to be turned on", pair.tenant))
        assert run_id in review["body"] and "Tripletex company" in review["body"]
        assert f"{server.ui_url}/flow-runs/flow-run/{run_id}" in review["body"]  # the UI link

        server.resume(run_id, {"decision": "approve", "approver": "kari@ops", "reason": "ok"})
        assert server_path.wait(run_id)["state"]["type"] == "COMPLETED"

        healthy = server.run_deployment(REALTIME, A_FEW_TICKS)
        assert server_path.wait(healthy)["state"]["type"] == "COMPLETED"

        # The tenant's Svenn key is revoked: the next ticks fail, ops are told once.
        httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/revoke-key").raise_for_status()
        for _ in range(2):
            failing = server.run_deployment(REALTIME, A_FEW_TICKS)
            server_path.wait(failing)
        failed = receiver.wait_for(_is("failed", pair.tenant))
        assert "Svenn refused the stored key (HTTP 401)" in failed["body"]
        time.sleep(5)  # let anything else the runs may have caused arrive before counting
        assert receiver.received == [review, failed]  # nothing for the healthy ticks, one failure
        for key in (pair.employee_token, pair.svenn_api_key):
            assert key not in str(receiver.received)
