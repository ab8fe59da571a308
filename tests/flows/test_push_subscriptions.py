"""Subscriptions per tenant, against both sandboxes and real flows: an integration that becomes
active subscribes its Tripletex key to the nine events once (a rerun changes nothing), and the
deliveries of a real edit verify at our receiver; the watch re-creates a disabled or deleted
subscription and reports it; turning off deletes them and turning on again makes them again;
a key without permission, or no receiver URL, keeps the tenant on polling and says so."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import SecretStr

from cli.operate import decide
from config.settings import load_settings
from flows.watch import watch_integrations
from intake.keys import take_keys, turn_on_in_process
from sandboxes.live_edits import tripletex_edit, tripletex_records
from store.webhooks import HEALTHY, POLLING
from sync.webhook_events import PUSHED_EVENTS
from tasks.push import NOT_CONFIGURED, SUBSCRIBED_FIELDS, push_for_active
from tasks.tenant import tripletex_client
from tasks.tenant_control import turn_off
from tests.flows.conftest import run_activation
from tests.flows.push_support import (
    push_state,
    receiver_root,
    recorded,
    subscriptions,
    wait_until,
)

pytestmark = pytest.mark.scenario
__all__ = ["receiver_root"]

NO_EVENTS_TOKEN = "employee-token-without-event-rights"


def active(pair, store) -> None:
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")


def as_tripletex_shows(subs):
    return sorted((s["event"], s["status"], s["fields"], s["targetUrl"]) for s in subs)


def test_an_active_tenant_is_subscribed_once_and_a_real_edit_is_recorded(
    pipeline, receiver_root, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    subs = subscriptions(pair)
    url = f"{receiver_root}/webhooks/tripletex/{pair.tenant}"
    wanted = [(e, "ACTIVE", SUBSCRIBED_FIELDS[e.split(".")[0]], url) for e in PUSHED_EVENTS]
    assert as_tripletex_shows(subs) == sorted(wanted)
    assert push_state(store, pair.tenant)[0] == HEALTHY
    assert push_state(store, pair.tenant)[2] is None

    asyncio.run(push_for_active(load_settings(), store, pair.tenant))  # a rerun
    assert subscriptions(pair) == subs  # the same nine, none added or replaced

    customer = next(iter(tripletex_records(pair, "customer")))
    tripletex_edit(pair, "customer", customer, {"name": "Endret Via Webhook AS"})
    assert wait_until(lambda: ("customer", customer, "update") in recorded(store, pair.tenant))
    pipeline.assert_clean()  # the subscription calls fit the real spec


def _break_two(pair, subs) -> tuple[str, str]:
    """Tripletex disables one subscription (too many errors); someone deletes another."""

    async def run() -> None:
        async with tripletex_client(load_settings(), SecretStr(pair.employee_token)) as tx:
            broken = subs[0] | {"status": "DISABLED_TOO_MANY_ERRORS"}
            body = {k: broken[k] for k in ("id", "version", "event", "targetUrl", "status")}
            await tx.call("PUT", f"/event/subscription/{subs[0]['id']}", json=body)
            await tx.call("DELETE", f"/event/subscription/{subs[1]['id']}")

    asyncio.run(run())
    return subs[0]["event"], subs[1]["event"]


def test_the_watch_re_creates_a_disabled_or_deleted_subscription_and_reports_it(
    pipeline, receiver_root, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    disabled, deleted = _break_two(pair, subscriptions(pair))
    assert len([s for s in subscriptions(pair) if s["status"] == "ACTIVE"]) == 7

    report = watch_integrations(push_check_seconds=0)
    assert sorted(report["subscriptions_recreated"][pair.tenant]) == sorted([disabled, deleted])
    after = subscriptions(pair)
    assert sorted(s["event"] for s in after) == sorted(PUSHED_EVENTS)
    assert {s["status"] for s in after} == {"ACTIVE"}
    assert watch_integrations(push_check_seconds=0)["subscriptions_recreated"] == {}
    assert watch_integrations()["subscriptions_recreated"] == {}  # checked just now: not due


def test_turning_off_deletes_the_subscriptions_and_turning_on_again_makes_them_again(
    pipeline, receiver_root, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    assert len(subscriptions(pair)) == 9
    done = asyncio.run(turn_off(load_settings(), pair.tenant, "ola@kunde.no", "pause"))
    assert done.code == "TURNED_OFF"
    assert subscriptions(pair) == []
    assert push_state(store, pair.tenant)[0] == POLLING

    taken = asyncio.run(
        take_keys(pair.tenant, SecretStr(pair.employee_token), SecretStr(pair.svenn_api_key))
    )
    assert taken.status == "syncing"  # type: ignore[union-attr]
    turn_on_in_process(pair.tenant)
    assert sorted(s["event"] for s in subscriptions(pair)) == sorted(PUSHED_EVENTS)
    assert push_state(store, pair.tenant)[0] == HEALTHY


def test_a_key_without_permission_to_subscribe_keeps_polling_and_says_so(
    pipeline, receiver_root, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    areas = ["customer", "employee", "project", "activity", "timesheet"]  # no "event"
    httpx.post(
        f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/employee-tokens",
        json={"token": NO_EVENTS_TOKEN, "entitlements": areas},
        timeout=30,
    ).raise_for_status()
    run_activation(pair, token=NO_EVENTS_TOKEN)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    status, note, last_error = push_state(store, pair.tenant)
    assert status == POLLING and last_error is None
    assert note is not None and "no permission" in note and "polling every 5 s" in note
    assert NO_EVENTS_TOKEN not in note
    assert subscriptions(pair) == []


def test_without_a_receiver_url_nothing_is_subscribed_and_the_note_says_polling_alone(
    pipeline, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    assert subscriptions(pair) == []
    assert push_state(store, pair.tenant)[:2] == (POLLING, NOT_CONFIGURED)
    assert watch_integrations(push_check_seconds=0)["subscriptions_recreated"] == {}
    assert subscriptions(pair) == []
