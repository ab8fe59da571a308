"""One realtime window at a time after a pile-up: a late window gives way to a newer one.

Windows hand over by design (the last ticks on until the next has ticked once). But when no
worker ran for a while (stopped, restarted, deploying), the windows scheduled meanwhile are all
due at once, and a restarted worker starts two of them side by side (the deployment's limit is
2): two live windows, one of them pointless. So a window, as it starts,
looks for a newer window of its deployment that is already due (scheduled later than it, and
not later than now) and not over; if there is one, it ends at once as Completed with one
sentence and leaves the ticking to that one. The newest due window never gives way, so the
tenants are always ticked.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

NOT_OVER = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]


async def newer_window_due(run_id: str) -> str | None:
    """The name of a newer window of this run's deployment that is due and not over, if any
    (None for a run outside a deployment)."""
    async with get_client() as client:
        run = await client.read_flow_run(UUID(run_id))
        if run.deployment_id is None or run.expected_start_time is None:
            return None
        mine = (run.expected_start_time, str(run.id))
        others = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(not_any_=[run.id]),
                deployment_id=FlowRunFilterDeploymentId(any_=[run.deployment_id]),
                expected_start_time=FlowRunFilterExpectedStartTime(
                    after_=run.expected_start_time, before_=dt.datetime.now(dt.UTC)
                ),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=NOT_OVER)),
            )
        )
    newer = [
        o for o in others if o.expected_start_time and (o.expected_start_time, str(o.id)) > mine
    ]
    return newer[0].name if newer else None
