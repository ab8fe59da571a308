"""The screenshots in docs/screenshots/ show today's build: the rehearsal of `make screenshots`
(activate, approve, reconcile after two edits, a realtime window after two more) runs here in
process against the same seeded sandboxes, and each artifact's text must equal the NAME.txt
that `make screenshots` wrote next to its PNG."""

from __future__ import annotations

import asyncio
import difflib
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from cli.operate import decide
from flows.realtime_sync import realtime_sync
from flows.reconcile import reconcile
from scripts.artifact_text import DECISION, REALTIME_PARAMETERS, SHOWN, artifact_text, text_path
from scripts.screenshots import plant_drift
from store.links import links_for
from sync.records import Entity
from tests.flows.conftest import run_activation

pytestmark = pytest.mark.scenario


def latest(key: str) -> dict[str, Any]:
    """The newest artifact ``key`` as the Prefect API returns it."""

    async def read() -> dict[str, Any]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
        assert found, f"no artifact {key!r} was published"
        return found[0].model_dump(mode="json")

    return asyncio.run(read())


def test_the_committed_screenshot_texts_are_what_the_rehearsal_publishes_today(
    pipeline, sandboxes, state_store, tmp_path
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    decide(store, pair.tenant, DECISION["decision"], DECISION["approver"], DECISION["reason"])
    with store.sessions() as session:
        links = links_for(session, pair.tenant, Entity.CUSTOMER.value)
    plant_drift(pair, links)
    asyncio.run(reconcile(pair.tenant))
    plant_drift(pair, links[2:])
    asyncio.run(realtime_sync(**REALTIME_PARAMETERS))

    stale = []
    for name, key in SHOWN.items():
        today = artifact_text(latest(key.format(tenant=pair.tenant)))
        (tmp_path / f"{name}.txt").write_text(today, encoding="utf-8")
        committed = text_path(name)
        before = committed.read_text(encoding="utf-8") if committed.exists() else ""
        if today != before:
            diff = difflib.unified_diff(
                before.splitlines(), today.splitlines(), f"committed {name}.txt", "today", n=1
            )
            stale.append("\n".join(diff))
    assert not stale, (
        "docs/screenshots/ shows an older build; `make screenshots` takes them again (today's "
        f"texts are in {tmp_path}):\n" + "\n\n".join(stale)
    )
