"""The Svenn change feed through the connector: drain, replay after a crash, expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from connectors.svenn.changes import ChangeEvent
from connectors.svenn.client import SvennClient
from connectors.svenn.errors import CursorExpiredError
from sync.records import Entity
from tests.test_svenn_connector import Sandbox, make_tenant, sandbox_url

__all__ = ["sandbox_url"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def world() -> dict[str, list[dict[str, Any]]]:
    employees = [{"id": "emp-1", "firstName": "Kari", "lastName": "Nordmann"}]
    customers = [{"id": f"cus-{i:04d}", "name": f"Kunde {i}"} for i in range(1, 2501)]
    return {"employees": employees, "customers": customers}


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[Sandbox]:
    box = make_tenant(sandbox_url, **world())
    yield box
    assert box.checker.checked > 0
    box.checker.assert_clean()


@pytest.fixture
async def svenn(sandbox: Sandbox) -> AsyncIterator[SvennClient]:
    async with sandbox.client() as client:
        yield client


async def drain(svenn: SvennClient, cursor: str | None) -> tuple[list[ChangeEvent], str]:
    events: list[ChangeEvent] = []
    async for page in svenn.iter_changes(cursor):
        events += page.events
        cursor = page.next_cursor
    assert cursor is not None
    return events, cursor


@pytest.mark.anyio
async def test_drain_reads_every_event_in_order_in_full_pages(svenn: SvennClient) -> None:
    events, _ = await drain(svenn, None)
    assert [e.sequence for e in events] == list(range(1, 2502))
    assert events[0].entity is Entity.EMPLOYEE and events[1].entity is Entity.CUSTOMER
    assert {e.operation for e in events} == {"create"}
    assert svenn.api.counters.by_endpoint == {"GET /changes": 3}


@pytest.mark.anyio
async def test_replay_after_a_crash_returns_the_same_events_again(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    first = await svenn.read_changes(None)
    committed = first.next_cursor  # page 1 applied and its cursor stored
    second = await svenn.read_changes(committed)  # page 2 read, then the process dies
    sandbox.edit("customer", "cus-0001", "update", name="Omdøpt AS")
    replayed, _ = await drain(svenn, committed)
    assert replayed[: len(second.events)] == second.events
    assert replayed[-1].id == "cus-0001" and replayed[-1].operation == "update"
    assert replayed[-1].version == 2
    assert [e.sequence for e in replayed] == list(range(1001, 2503))


@pytest.mark.anyio
async def test_latest_cursor_skips_history_and_sees_only_new_changes(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    head = await svenn.latest_cursor()
    quiet = await svenn.read_changes(head)
    assert quiet.events == [] and not quiet.has_more and quiet.next_cursor == head
    sandbox.edit("customer", "cus-0002", "deactivate")
    sandbox.edit("customer", "cus-0003", "delete")
    page = await svenn.read_changes(head)
    assert [(e.id, e.operation) for e in page.events] == [
        ("cus-0002", "update"),
        ("cus-0003", "delete"),
    ]
    assert page.ids_by_entity() == {Entity.CUSTOMER: ["cus-0002", "cus-0003"]}
    records = await svenn.get_many(Entity.CUSTOMER, ["cus-0002", "cus-0003"])
    assert [(r.id, getattr(r, "is_active", None)) for r in records] == [("cus-0002", False)]


@pytest.mark.anyio
async def test_expired_cursor_raises_cursor_expired_and_latest_resumes(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    old = (await svenn.read_changes(None, limit=10)).next_cursor
    sandbox.admin("POST", f"/tenants/{sandbox.tenant_id}/feed/compact?keep=5")
    with pytest.raises(CursorExpiredError) as caught:
        await svenn.read_changes(old)
    assert caught.value.status == 410 and caught.value.details.get("resync") is True
    with pytest.raises(CursorExpiredError):
        await svenn.read_changes("not-a-cursor.12")
    resumed = await svenn.read_changes(await svenn.latest_cursor())
    assert resumed.events == []
