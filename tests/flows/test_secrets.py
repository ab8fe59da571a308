"""No token or key reaches a log line, an artifact, a failed-record row or the run parameters."""

from __future__ import annotations

import asyncio
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter
from sqlalchemy import text

from tests.flows.conftest import run_activation, take_keys

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
