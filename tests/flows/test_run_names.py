"""Flow runs are named after whom they serve, so ops find them in the UI's run list."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from flows.export_hours import export_hours
from flows.reconcile import reconcile

pytestmark = pytest.mark.scenario


async def _name_of(state: Any) -> str:
    async with get_client() as client:
        return (await client.read_flow_run(state.state_details.flow_run_id)).name


def test_runs_are_named_after_their_tenant_or_shard(pipeline, sandboxes, state_store) -> None:
    async def names() -> list[str]:
        over_all = await export_hours(return_state=True)
        one_shard = await reconcile(shard=1, shards=2, return_state=True)
        return [await _name_of(over_all), await _name_of(one_shard)]

    every_tenant, shard = asyncio.run(names())
    assert re.fullmatch(r"export-hours-all-tenants-\d{8}-\d{6}", every_tenant), every_tenant
    assert re.fullmatch(r"reconcile-shard-1-of-2-\d{8}-\d{6}", shard), shard
