"""Flow runs whose process died are marked Crashed, not left "Running" (or "Paused") forever.

Prefect's own mechanism: each flow run emits a heartbeat event every
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (we use :data:`HEARTBEAT_SECONDS`), and an
automation with a proactive trigger sets a run Crashed when its heartbeats stop (Prefect's
"detect zombie flows" guide). Proactive triggers run only in a real Prefect server, so:

- :func:`ensure_zombie_automation` creates that automation on a server
  (``svenn-sync prefect setup``; idempotent);
- :func:`crash_zombie_runs` applies the same rule once, on demand: the CLI runs it each time
  it starts its temporary server, so runs of a CLI that was killed are marked Crashed by the
  next one (``svenn-sync prefect sweep`` does it by hand).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from prefect.automations import Automation
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventOrder,
    EventResourceFilter,
)
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification
from prefect.states import Crashed

HEARTBEAT_SECONDS = 30  # Prefect's minimum; set as PREFECT_FLOWS_HEARTBEAT_FREQUENCY
GRACE = dt.timedelta(seconds=3 * HEARTBEAT_SECONDS)  # three missed heartbeats: it is gone
AUTOMATION_NAME = "svenn-sync: crash zombie flow runs"
HEARTBEAT_EVENT = "prefect.flow-run.heartbeat"
MESSAGE = "Marked crashed: the run's process stopped sending heartbeats (it was killed or lost)."


def zombie_automation(grace: dt.timedelta = GRACE) -> Automation:
    """The automation from Prefect's zombie-flow guide: no heartbeat within ``grace`` → Crashed."""
    return Automation(
        name=AUTOMATION_NAME,
        description="Flow runs that stop sending heartbeats are marked Crashed.",
        trigger=EventTrigger(
            after={HEARTBEAT_EVENT},
            expect={
                HEARTBEAT_EVENT,
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=grace,
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=MESSAGE)],
    )


async def ensure_zombie_automation(client: PrefectClient) -> bool:
    """Create the automation unless one with its name exists; True when created."""
    if await client.read_automations_by_name(AUTOMATION_NAME):
        return False
    await zombie_automation().acreate()
    return True


@dataclass(frozen=True)
class Zombie:
    """A run marked Crashed by :func:`crash_zombie_runs`."""

    id: str
    name: str
    flow_state: str


async def _last_sign_of_life(client: PrefectClient, run: FlowRun, since: dt.datetime) -> bool:
    """True when the run sent a heartbeat or changed state since ``since``."""
    if run.state is not None and run.state.timestamp and run.state.timestamp >= since:
        return True
    page = await client.read_events(
        EventFilter(
            event=EventNameFilter(name=[HEARTBEAT_EVENT]),
            resource=EventResourceFilter(id=[f"prefect.flow-run.{run.id}"]),
            occurred=EventOccurredFilter(since=since),
            order=EventOrder.DESC,
        ),
        limit=1,
    )
    return bool(page.events)


def grace_for_settings() -> dt.timedelta:
    """Three heartbeats at the frequency our runs use: ``HEARTBEAT_SECONDS`` (prefect.yaml and
    ``svenn-sync worker`` set it), or PREFECT_FLOWS_HEARTBEAT_FREQUENCY when this process has it
    set explicitly (never less than :data:`GRACE`). Prefect's own default (180 s) is not what
    our runs use, so it is not taken: it made the sweep wait 9 minutes."""
    value = os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "").strip()
    frequency = int(value) if value.isdigit() else HEARTBEAT_SECONDS
    return max(GRACE, dt.timedelta(seconds=3 * frequency))


async def crash_zombie_runs(
    client: PrefectClient, *, grace: dt.timedelta | None = None, now: dt.datetime | None = None
) -> list[Zombie]:
    """Mark Crashed every Running or Paused run with no sign of life within ``grace``
    (default: :func:`grace_for_settings`)."""
    since = (now or dt.datetime.now(dt.UTC)) - (grace or grace_for_settings())
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PAUSED])
            )
        )
    )
    crashed: list[Zombie] = []
    for run in runs:
        if await _last_sign_of_life(client, run, since):
            continue
        was = (run.state.name if run.state else None) or "?"
        await client.set_flow_run_state(run.id, Crashed(message=MESSAGE), force=True)
        crashed.append(Zombie(str(run.id), run.name, was))
    return crashed
