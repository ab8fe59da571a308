"""One Prefect automation per alert event, sending through the notification block ops name.

``svenn-sync prefect setup`` calls :func:`ensure_alert_automations`: for each
:class:`~tasks.alerts.AlertKind` an automation named ``svenn-sync: notify <kind>`` reacts to
every ``svenn-sync.<kind>`` event with Prefect's own *send notification* action, through the
notification block named by ``SVENN_SYNC_ALERT_BLOCK`` (Slack webhook, e-mail, Microsoft Teams,
custom webhook: any Prefect block that can notify). Rerunning it updates the automations in
place (a changed block or text), never adds a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

from tasks.alerts import NAMESPACE, AlertKind

SUBJECTS = {
    AlertKind.REVIEW_REQUESTED: "Svenn ↔ Tripletex: {{ event.payload.tenant }} asks to be "
    "turned on (review)",
    AlertKind.INTEGRATION_FAILED: "Svenn ↔ Tripletex: {{ event.payload.tenant }} failed",
    AlertKind.INTEGRATION_LAGGING: "Svenn ↔ Tripletex: {{ event.payload.tenant }} is lagging",
    AlertKind.HOURS_HELD: "Svenn ↔ Tripletex: {{ event.payload.tenant }} has hours held back",
    AlertKind.SUBSCRIPTION_RECREATED: "Svenn ↔ Tripletex: {{ event.payload.tenant }}'s "
    "webhooks were re-created",
}
BODY = "{{ event.payload.message }}"


class AlertBlockError(LookupError):
    """``SVENN_SYNC_ALERT_BLOCK`` names no notification block on the server (one sentence)."""


def automation_name(kind: AlertKind) -> str:
    """The automation's name (what makes setup idempotent)."""
    return f"{NAMESPACE}: notify {kind.value}"


def alert_automation(kind: AlertKind, block_id: UUID) -> AutomationCore:
    """Every ``kind`` event about any tenant → a notification through the block."""
    return AutomationCore(
        name=automation_name(kind),
        description=f"Tells ops through the notification block when {kind.event} is emitted.",
        trigger=EventTrigger(
            expect={kind.event},
            match=ResourceSpecification({"prefect.resource.id": f"{NAMESPACE}.tenant.*"}),
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[SendNotification(block_document_id=block_id, subject=SUBJECTS[kind], body=BODY)],
    )


async def find_notification_block(client: PrefectClient, name: str) -> UUID:
    """The id of the notification block ``name`` (``type-slug/name`` or a name used once)."""
    slug, _, plain = name.rpartition("/")
    found = [
        document
        for document in await client.read_block_documents(include_secrets=False)
        if document.name == plain
        and (not slug or (document.block_type and document.block_type.slug == slug))
        and document.block_schema
        and "notify" in document.block_schema.capabilities
    ]
    if len(found) != 1:
        what = "no notification block" if not found else "more than one notification block"
        raise AlertBlockError(
            f"SVENN_SYNC_ALERT_BLOCK is {name!r}, but the Prefect server has {what} of that "
            "name; create one (Blocks: Slack Webhook, Email, Microsoft Teams Webhook or Custom "
            "Webhook) or name it as type/name (e.g. slack-webhook/ops), then run setup again."
        )
    return found[0].id


@dataclass(frozen=True)
class SetUp:
    """What setup did with one automation."""

    name: str
    done: str  # "created" | "updated"


async def ensure_alert_automations(client: PrefectClient, block_name: str) -> list[SetUp]:
    """Create or update one automation per alert kind (a duplicate left by hand is removed)."""
    block_id = await find_notification_block(client, block_name)
    results = []
    for kind in AlertKind:
        wanted = alert_automation(kind, block_id)
        existing = await client.read_automations_by_name(wanted.name)
        if not existing:
            await client.create_automation(wanted)
            results.append(SetUp(wanted.name, "created"))
            continue
        first, *extra = sorted(existing, key=lambda automation: str(automation.id))
        await client.update_automation(first.id, wanted)
        for duplicate in extra:
            await client.delete_automation(duplicate.id)
        results.append(SetUp(wanted.name, "updated"))
    return results
