"""No token or key reaches a log line, an artifact, a failed-record row or the run parameters."""

from __future__ import annotations

import asyncio
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter
from sqlalchemy import text

from tests.flows.conftest import run_activation, take_keys
from tests.flows.push_support import receiver_root

__all__ = ["receiver_root"]

pytestmark = pytest.mark.scenario


async def everything_prefect_holds() -> str:
    async with get_client() as client:
        logs, artifacts, runs = [], [], []
        for offset in range(0, 20_000, 200):
            page = await client.read_logs(log_filter=LogFilter(), limit=200, offset=offset)
            logs += page
            if len(page) < 200:
                break
        artifacts = await client.read_artifacts(limit=200)
        runs = await client.read_flow_runs(limit=200)
    parts = [log.message for log in logs]
    parts += [str(a.data) + str(a.description) for a in artifacts]
    parts += [str(run.parameters) + str(run.state and run.state.message) for run in runs]
    return "\n".join(parts)


def test_no_secret_is_logged_stored_or_shown(pipeline, sandboxes, state_store):
    refused = take_keys(sandboxes, token="pasted-wrong-key")
    assert refused.code == "KEY_INVALID"
    run_activation(sandboxes, approval_timeout_seconds=1, approval_poll_seconds=1)
    from cli.operate import decide

    decide(state_store, sandboxes.tenant, "approve", "kari@ops", "")
    secrets = [
        sandboxes.employee_token,
        sandboxes.svenn_api_key,
        sandboxes.consumer_token,
        "pasted-wrong-key",
    ]
    deadline = time.monotonic() + 30
    held = asyncio.run(everything_prefect_holds())
    while "initial sync of t-demo" not in held and time.monotonic() < deadline:
        time.sleep(0.5)  # logs reach the server in batches
        held = asyncio.run(everything_prefect_holds())
    assert "is in review" in held and "initial sync of t-demo" in held  # the runs were read back
    with state_store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM failed_records")).all()
        integrations = connection.execute(text("SELECT * FROM integrations")).all()
    stored = "\n".join(str(r) for r in rows + integrations)
    for secret in secrets:
        assert secret not in held, f"{secret[:4]}… reached Prefect"
        assert secret not in stored, f"{secret[:4]}… reached the store in clear"


def test_the_webhook_secret_is_never_logged_stored_in_clear_or_shown(
    pipeline, receiver_root, sandboxes, state_store
):
    import httpx
    from sqlalchemy import select

    from flows.realtime_sync import realtime_sync
    from flows.watch import watch_integrations
    from sandboxes.live_edits import tripletex_edit, tripletex_records
    from store.models import Integration
    from tests.flows.push_support import recorded, subscriptions, wait_until

    pair, store = sandboxes, state_store
    run_activation(pair)
    from cli.operate import decide

    decide(store, pair.tenant, "approve", "kari@ops", "")
    assert len(subscriptions(pair)) == 9
    with store.sessions() as session:
        encrypted = session.scalars(select(Integration.webhook_secret_encrypted)).one()
    secret = store.cipher.decrypt(encrypted).get_secret_value()
    customer = next(iter(tripletex_records(pair, "customer")))
    tripletex_edit(pair, "customer", customer, {"name": "Hemmelig Test AS"})
    assert wait_until(lambda: bool(recorded(store, pair.tenant)))
    asyncio.run(realtime_sync(max_ticks=2, poll_seconds=0.2))
    watch_integrations(push_check_seconds=0)

    held = asyncio.run(everything_prefect_holds())
    assert "webhooks are subscribed" in held  # the runs' logs were read back
    with store.engine.connect() as connection:
        stored = "\n".join(
            str(row)
            for table in ("integrations", "webhook_events", "failed_records", "integration_events")
            for row in connection.execute(text(f"SELECT * FROM {table}")).all()
        )
    shown = httpx.get(f"{pair.tripletex_root}/_admin/webhooks", timeout=30).text
    assert secret not in held, "the webhook secret reached Prefect"
    assert secret not in stored, "the webhook secret reached the store in clear"
    assert secret not in shown, "Tripletex shows the webhook secret"
