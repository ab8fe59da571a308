"""`svenn-sync prefect setup`'s alert automations against a Prefect server (the test harness's):
one per event, through the named notification block, idempotent; an unknown block is one
sentence."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.events.actions import SendNotification

from cli.alerts import AlertBlockError, automation_name, ensure_alert_automations
from tasks.alerts import AlertKind


def _ours(automations):
    return sorted(
        (a for a in automations if a.name.startswith("svenn-sync: notify ")), key=lambda a: a.name
    )


async def _setup_twice(block: str):
    async with get_client() as client:
        first = await ensure_alert_automations(client, block)
        second = await ensure_alert_automations(client, block)
        return first, second, _ours(await client.read_automations())


def test_one_automation_per_event_through_the_block_and_a_rerun_duplicates_nothing(
    prefect_harness,
):
    name = f"ops-{uuid.uuid4().hex[:8]}"
    block_id = CustomWebhookNotificationBlock(name="ops", url="http://127.0.0.1:9/hook").save(name)
    first, second, automations = asyncio.run(_setup_twice(name))

    assert {s.done for s in second} == {"updated"} and len(second) == len(AlertKind)
    assert [a.name for a in automations] == sorted(automation_name(k) for k in AlertKind)
    for automation in automations:
        [action] = automation.actions
        assert isinstance(action, SendNotification) and action.block_document_id == block_id
        assert action.body == "{{ event.payload.message }}"
        assert automation.trigger.expect == {f"svenn-sync.{automation.name.split()[-1]}"}
    assert len(first) == len(AlertKind)


def test_a_block_that_is_not_there_or_cannot_notify_is_one_sentence(prefect_harness):
    secret = f"not-a-notifier-{uuid.uuid4().hex[:8]}"
    Secret(value="x").save(secret)

    async def setup(block: str) -> None:
        async with get_client() as client:
            await ensure_alert_automations(client, block)

    for block in ("nobody-made-this", secret, f"slack-webhook/{secret}"):
        with pytest.raises(AlertBlockError) as refused:
            asyncio.run(setup(block))
        message = str(refused.value)
        assert message.startswith(f"SVENN_SYNC_ALERT_BLOCK is {block!r}, but the Prefect server")
        assert "\n" not in message
