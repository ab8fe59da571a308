"""The Svenn connector under injected faults: rate limits, 5xx, late answers, drops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from connectors.http import HttpPolicy, OutcomeUnknownError
from connectors.svenn.client import SvennClient
from sync.entities import Customer, Employee
from sync.records import Entity
from tests.test_svenn_connector import Sandbox, make_tenant, sandbox_url

__all__ = ["sandbox_url"]

# Short enough that a held answer (timeout_after, 3 s) times out, long enough that a page of
# 1,000 customers from the sandbox (a thread of a test process, on a loaded machine) does not;
# retries nearly instant.
IMPATIENT = HttpPolicy(timeout=1.0, connect_timeout=1.0, backoff_base=0.01, backoff_max=0.05)
HOLD_MS = 3000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[Sandbox]:
    customers = [{"id": f"cus-{i:04d}", "name": f"Kunde {i}"} for i in range(1, 1201)]
    box = make_tenant(sandbox_url, customers=customers)
    yield box
    httpx.delete(sandbox_url + "/_admin/faults")
    assert box.checker.checked > 0
    box.checker.assert_clean()


@pytest.fixture
async def svenn(sandbox: Sandbox) -> AsyncIterator[SvennClient]:
    async with sandbox.client(policy=IMPATIENT) as client:
        yield client


def with_ref(sandbox: Sandbox, resource: str, ref: str) -> list[dict[str, object]]:
    return [r for r in sandbox.state()[resource] if r["externalRef"] == ref]


@pytest.mark.anyio
async def test_rate_limited_pages_are_retried_until_complete(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("429", "/api/v1/customers", count=2)
    customers = await svenn.list(Entity.CUSTOMER)
    assert len(customers) == 1200
    assert svenn.api.counters.retries == 2
    assert svenn.api.counters.by_endpoint["GET /customers"] == 4


@pytest.mark.anyio
async def test_a_server_error_then_success_reads_normally(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("500", "/api/v1/changes")
    sandbox.fault("503", "/api/v1/customers")
    events = [e async for page in svenn.iter_changes(None) for e in page.events]
    customers = await svenn.list(Entity.CUSTOMER)
    assert len(events) == 1200 and len(customers) == 1200
    assert svenn.api.counters.retries == 2


@pytest.mark.anyio
async def test_a_dropped_connection_on_a_read_is_retried(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("drop", "/api/v1/customers")
    assert len(await svenn.list(Entity.CUSTOMER)) == 1200
    assert svenn.api.counters.retries == 1


@pytest.mark.anyio
async def test_a_create_whose_answer_is_late_is_not_created_twice(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("timeout_after", "/api/v1/customers", method="POST", latency_ms=HOLD_MS)
    created = await svenn.create(Customer(name="Sen Kunde AS"), "tx-customer-late")
    assert created.name == "Sen Kunde AS" and created.id is not None
    assert [r["id"] for r in with_ref(sandbox, "customers", "tx-customer-late")] == [created.id]
    assert len(sandbox.requests("POST", "/api/v1/customers")) == 1


@pytest.mark.anyio
async def test_a_create_on_a_dropped_connection_is_looked_up_then_sent_once(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("drop", "/api/v1/employees", method="POST")
    created = await svenn.create(Employee(first_name="Ola", last_name="Dropp"), "tx-employee-drop")
    assert [r["id"] for r in with_ref(sandbox, "employees", "tx-employee-drop")] == [created.id]
    assert len(sandbox.requests("POST", "/api/v1/employees")) == 2  # dropped, then sent


@pytest.mark.anyio
async def test_a_create_refused_with_a_server_error_is_sent_again(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("500", "/api/v1/customers", method="POST")
    created = await svenn.create(Customer(name="Ny AS"), "tx-customer-500")
    assert [r["id"] for r in with_ref(sandbox, "customers", "tx-customer-500")] == [created.id]


@pytest.mark.anyio
async def test_a_batch_whose_answer_is_late_is_resent_without_duplicates(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("timeout_after", "/api/v1/customers/batch", method="POST", latency_ms=HOLD_MS)
    records = [Customer(name=f"Batch {i} AS") for i in range(4)]
    refs = [f"tx-batch-{i}" for i in range(4)]
    outcomes = await svenn.create_many(Entity.CUSTOMER, records, refs)
    assert all(o.ok and o.already_existed for o in outcomes)
    for ref, outcome in zip(refs, outcomes, strict=True):
        assert outcome.record is not None
        assert [r["id"] for r in with_ref(sandbox, "customers", ref)] == [outcome.record.id]


@pytest.mark.anyio
async def test_a_late_create_without_a_key_is_reported_not_repeated(
    sandbox: Sandbox, svenn: SvennClient
) -> None:
    sandbox.fault("timeout_after", "/api/v1/customers", method="POST", latency_ms=HOLD_MS)
    with pytest.raises(OutcomeUnknownError):
        await svenn.create(Customer(name="Uten Nøkkel AS"))
    assert len(sandbox.requests("POST", "/api/v1/customers")) == 1
    outcomes = await svenn.create_many(Entity.CUSTOMER, [Customer(name="Uten Nøkkel 2 AS")])
    assert outcomes[0].ok  # the fault was used up: an ordinary batch goes through
