"""What a realtime run tells the operator: two edits read as two changed records (not every row
the tick compared), what travelled each way, and a one-line description on every artifact,
read back from the Prefect API the run published them to."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from cli.operate import decide
from flows.realtime_sync import realtime_sync
from scripts.screenshots import plant_drift
from store.links import links_for
from sync.records import Entity
from tests.flows.conftest import run_activation

pytestmark = pytest.mark.scenario


def run_artifacts(flow_run_id: Any) -> list[Any]:
    """Every artifact the flow run published, as the Prefect API returns them."""

    async def read() -> list[Any]:
        async with get_client() as client:
            found = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            return list(await client.read_artifacts(artifact_filter=found))

    return asyncio.run(read())


def test_two_edits_in_a_first_window_read_as_two_changes_and_each_artifact_says_what_it_is(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, "approve", "kari@ops", "ok")
    with store.sessions() as session:
        plant_drift(pair, links_for(session, pair.tenant, Entity.CUSTOMER.value))

    state = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1, return_state=True))

    summary = state.result()
    artifacts = {a.key: a for a in run_artifacts(state.state_details.flow_run_id)}
    assert set(artifacts) == {"realtime-sync-summary", "realtime-sync-counts"}
    for artifact in artifacts.values():
        assert artifact.description and "\n" not in artifact.description.strip()
    table = artifacts["realtime-sync-counts"].data
    rows = json.loads(table) if isinstance(table, str) else table
    by_entity = {row["entity"]: row for row in rows}
    assert by_entity.pop("customer") == {
        "tenant": pair.tenant,
        "entity": "customer",
        "changed in Svenn": 1,
        "in Tripletex": 1,
        "sent to Svenn": 1,
        "to Tripletex": 1,
        "conflicts": 0,
        "failed": 0,
    }
    # This first window compared every record once: what it retried and failed again (the
    # initial sync's refused creates) shows as failed, never as changed or sent.
    for row in by_entity.values():
        moved = ("changed in Svenn", "in Tripletex", "sent to Svenn", "to Tripletex")
        assert [row[name] for name in moved] == [0, 0, 0, 0], row
    description = artifacts["realtime-sync-summary"].description
    assert "2 records changed, 2 sent (1 to Tripletex, 1 to Svenn)" in description
    assert summary["entities"] == rows
    pipeline.assert_clean()
