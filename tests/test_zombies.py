"""Killed runs are marked Crashed (Prefect heartbeats), not left Running forever."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import yaml
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.states import Paused, Running

from cli.zombies import (
    AUTOMATION_NAME,
    GRACE,
    HEARTBEAT_SECONDS,
    MESSAGE,
    crash_zombie_runs,
    ensure_zombie_automation,
    grace_for_settings,
)

ROOT = Path(__file__).resolve().parents[1]


@flow(name="zombie-candidate")
def candidate() -> None:
    """Never run: only its runs' states are set."""


def test_the_zombie_automation_is_created_once_with_a_heartbeat_trigger(prefect_harness) -> None:
    async def scenario() -> None:
        async with get_client() as client:
            assert await ensure_zombie_automation(client) is True
            assert await ensure_zombie_automation(client) is False
            [automation] = await client.read_automations_by_name(AUTOMATION_NAME)
            trigger = automation.trigger
            assert isinstance(trigger, EventTrigger)
            assert trigger.posture == Posture.Proactive
            assert trigger.within == GRACE
            assert "prefect.flow-run.heartbeat" in trigger.after
            assert automation.actions[0].type == "change-flow-run-state"

    asyncio.run(scenario())


def test_runs_with_no_sign_of_life_are_marked_crashed_and_live_ones_are_left(
    prefect_harness,
) -> None:
    async def scenario() -> None:
        async with get_client() as client:
            running = await client.create_flow_run(candidate, state=Running())
            paused = await client.create_flow_run(candidate, state=Paused())
            now = dt.datetime.now(dt.UTC)
            # Ours just showed life. (Runs other tests on this shared server killed long ago
            # are real zombies and are swept here too.)
            first = await crash_zombie_runs(client, grace=GRACE, now=now)
            assert {str(running.id), str(paused.id)}.isdisjoint(z.id for z in first)
            later = now + 2 * GRACE
            crashed = await crash_zombie_runs(client, grace=GRACE, now=later)
            ours = {z.id: z.flow_state for z in crashed}
            assert ours[str(running.id)] == "Running" and ours[str(paused.id)] == "Paused"
            for run_id in (running.id, paused.id):
                state = (await client.read_flow_run(run_id)).state
                assert state is not None and state.is_crashed() and state.message == MESSAGE

    asyncio.run(scenario())


def test_runs_beat_every_30_s_and_the_sweep_waits_three_beats(monkeypatch) -> None:
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    env = deployments["definitions"]["work_pool"]["job_variables"]["env"]
    assert env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == str(HEARTBEAT_SECONDS) == "30"
    # a sweeping CLI without the variable: Prefect's default (180 s) would make it 9 minutes
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    monkeypatch.delenv("PREFECT_RUNNER_HEARTBEAT_FREQUENCY", raising=False)
    assert grace_for_settings() == GRACE == dt.timedelta(seconds=90)
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    assert grace_for_settings() == dt.timedelta(seconds=180)
