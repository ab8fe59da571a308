"""Ops are told: the flows emit one Prefect event per occurrence of what needs a person.

Real flows (test harness) against both sandboxes; the events are caught by Prefect's own
asserting events client in place of the server's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator

import httpx
import pytest
from prefect.events.clients import AssertingEventsClient
from prefect.events.schemas.events import Event
from prefect.events.worker import EventsWorker

from cli.operate import decide
from flows.realtime_sync import realtime_sync
from flows.watch import watch_integrations
from intake.keys import Accepted
from store.failures import Failure, record_failures
from store.integrations import get_integration
from tests.flows.conftest import run_activation, take_keys
from tests.flows.test_activation_faults import inject, quick_retries  # noqa: F401

pytestmark = pytest.mark.scenario

Caught = Callable[[], list[Event]]


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Caught]:
    """Our events (``svenn-sync.*``) emitted so far, in order."""
    worker = EventsWorker.instance(AssertingEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_: worker)

    def caught() -> list[Event]:
        worker.wait_until_empty()  # (drain would stop the worker for the runs still to come)
        client = worker._client
        assert isinstance(client, AssertingEventsClient)
        return [e for e in client.events if e.event.startswith("svenn-sync.")]

    yield caught
    worker.drain()


def named(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.event == f"svenn-sync.{kind}"]


def assert_no_key(events: list[Event], *keys: str) -> None:
    text = "\n".join(e.model_dump_json() for e in events)
    for key in keys:
        assert key not in text


def test_an_activation_asks_ops_for_a_review_once_with_both_accounts_and_the_run(
    pipeline, sandboxes, state_store, alerts
):
    pair = sandboxes
    run_activation(pair)

    [review] = named(alerts(), "review-requested")
    assert review.resource.id == f"svenn-sync.tenant.{pair.tenant}"
    assert review.resource.name == pair.tenant
    payload = review.payload
    with state_store.sessions() as session:
        integration = get_integration(session, pair.tenant)
        assert integration is not None
        company, svenn = integration.tripletex_company_name, integration.svenn_tenant_name
    assert company and svenn
    assert company in payload["tripletex_company"] and svenn in payload["svenn_tenant"]
    run_id = payload["flow_run_id"]
    assert run_id in payload["link"]
    assert f"prefect.flow-run.{run_id}" in [r.id for r in review.related]
    assert company in payload["message"] and run_id in payload["message"]
    assert_no_key(alerts(), pair.employee_token, pair.svenn_api_key)


def test_a_preview_that_cannot_be_built_tells_ops_the_integration_failed(
    pipeline,
    sandboxes,
    state_store,
    alerts,
    quick_retries,  # noqa: F811
):
    pair = sandboxes
    assert isinstance(take_keys(pair), Accepted)
    inject(pair.tripletex_root, kind="500", path_prefix="/v2/customer", method="GET")
    from flows.activate import activate

    asyncio.run(activate(pair.tenant, approval_timeout_seconds=0, return_state=True))

    events = alerts()
    assert named(events, "review-requested") == []  # nothing to review without a plan
    [failed] = named(events, "integration-failed")
    assert failed.payload["reason"].startswith("The plan preview could not be built")
    assert failed.payload["message"] == f"{pair.tenant}: {failed.payload['reason']}"
    assert_no_key(events, pair.employee_token, pair.svenn_api_key)


def test_a_revoked_key_is_told_once_and_a_healthy_tick_tells_nothing(
    pipeline, sandboxes, state_store, alerts
):
    pair = sandboxes
    run_activation(pair)
    decide(state_store, pair.tenant, "approve", "kari@ops", "ok")
    before = len(alerts())

    asyncio.run(realtime_sync(max_ticks=2, poll_seconds=0.1))
    assert len(alerts()) == before  # healthy ticks: nobody is told anything

    httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/revoke-key").raise_for_status()
    asyncio.run(realtime_sync(max_ticks=3, poll_seconds=0.1))
    asyncio.run(realtime_sync(max_ticks=2, poll_seconds=0.1))

    [failed] = named(alerts(), "integration-failed")  # five failed ticks, one alert
    assert "Svenn refused the stored key (HTTP 401)" in failed.payload["message"]
    assert failed.resource.id == f"svenn-sync.tenant.{pair.tenant}"
    assert_no_key(alerts(), pair.employee_token, pair.svenn_api_key)


def _set_ticks(state_store, tenant: str, ok_at: dt.datetime) -> None:
    with state_store.sessions.begin() as session:
        integration = get_integration(session, tenant)
        assert integration is not None
        integration.realtime_ok_at = ok_at


def test_the_watch_tells_ops_once_of_an_integration_without_a_good_tick_for_too_long(
    pipeline, sandboxes, state_store, alerts
):
    pair = sandboxes
    run_activation(pair)
    decide(state_store, pair.tenant, "approve", "kari@ops", "ok")
    now = dt.datetime.now(dt.UTC)
    _set_ticks(state_store, pair.tenant, now - dt.timedelta(seconds=60))  # within 900 s

    assert watch_integrations()["lagging"] == []
    _set_ticks(state_store, pair.tenant, now - dt.timedelta(minutes=20))
    assert watch_integrations()["lagging"] == [pair.tenant]
    assert watch_integrations()["lagging"] == []  # the same lag: told already

    [lagging] = named(alerts(), "integration-lagging")
    assert "no successful sync for 20 minutes" in lagging.payload["message"]
    _set_ticks(state_store, pair.tenant, now - dt.timedelta(minutes=16))  # a later lag
    assert watch_integrations()["lagging"] == [pair.tenant]


def _hours_row(tenant: str, svenn_id: str, reason: str) -> Failure:
    return Failure(
        tenant=tenant,
        entity="hours",
        direction="svenn_to_tripletex",
        reason_code=reason,
        message_en="held",
        message_no="holdt tilbake",
        svenn_id=svenn_id,
        tripletex_id=None,
    )


def _age(state_store, days: float) -> None:
    from sqlalchemy import update

    from store.models import FailedRecord

    with state_store.sessions.begin() as session:
        then = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        session.execute(update(FailedRecord).values(first_seen=then))


def test_the_watch_tells_ops_of_approved_hours_held_back_for_more_than_a_day(
    pipeline, sandboxes, state_store, alerts
):
    tenant = sandboxes.tenant
    with state_store.sessions.begin() as session:
        record_failures(
            session,
            [
                _hours_row(tenant, "h-1", "HOURS_LOCKED"),
                _hours_row(tenant, "h-2", "HOURS_ZERO"),  # never exported: not held
            ],
        )
    assert watch_integrations()["hours_held"] == []  # held for less than a day
    _age(state_store, 2)
    assert watch_integrations()["hours_held"] == [tenant]
    assert watch_integrations()["hours_held"] == []  # told already

    [held] = named(alerts(), "hours-held")
    assert held.payload["rows"] == 1 and held.payload["reasons"] == ["HOURS_LOCKED"]
    assert "1 approved hour(s) held back" in held.payload["message"]

    with state_store.sessions.begin() as session:
        record_failures(session, [_hours_row(tenant, "h-3", "HOURS_LOCKED")])
    _age(state_store, 2)
    assert watch_integrations()["hours_held"] == [tenant]  # more hours passed the day since
