"""The tenant's switches over real HTTP, against both sandboxes and real flows: turning off
erases the keys and every scheduled path leaves the tenant alone; turning on again with the
same accounts reconciles what changed meanwhile (nothing twice) and needs no new review; a new
Tripletex key of the same company replaces a revoked one and the next good tick clears the
error."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import select

from cli.operate import decide
from flows.export_hours import export_hours
from flows.realtime_sync import realtime_sync
from flows.reconcile import reconcile
from flows.retry_failed import retry_failed
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from store.integrations import get_integration, history
from store.links import links_for
from store.models import Cursor
from sync.records import Entity
from tests.flows.conftest import OTHER_COMPANY_TOKEN, run_activation, writes
from tests.flows.test_intake_http import INTAKE_TOKEN, intake_url, keys, post
from tests.flows.test_tenancy import one_sentence, rows

pytestmark = pytest.mark.scenario
__all__ = ["intake_url"]  # the fixture, shared with the intake's own tests

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
NEW_TOKEN = "new-employee-token-same-company"


def turn_off(url: str, tenant: str, by: str = "ola@kunde.no", reason: str = "pause"):
    body = {"by": by, "reason": reason}
    return httpx.post(f"{url}/tenants/{tenant}/deactivation", json=body, headers=AUTH, timeout=60)


def put_key(url: str, tenant: str, token: str):
    body = {"tripletexEmployeeToken": token, "by": "ola@kunde.no"}
    return httpx.put(f"{url}/tenants/{tenant}/keys", json=body, headers=AUTH, timeout=60)


def active(pair, store) -> None:
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")


def links_and_cursors(store, tenant):
    with store.sessions() as session:
        links = sorted(
            (e.value, lk.svenn_id, lk.tripletex_id)
            for e in Entity
            if e is not Entity.HOURS
            for lk in links_for(session, tenant, e.value)
        )
        cursors = session.scalars(select(Cursor).where(Cursor.tenant == tenant)).all()
        return links, sorted((c.system, c.entity, c.value) for c in cursors)


def events(store, tenant):
    with store.sessions() as session:
        return history(session, tenant)


def status(store, tenant) -> str:
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        assert integration is not None
        return integration.status


def forget_requests(pair) -> None:
    for root in (pair.tripletex_root, pair.svenn_root):
        httpx.delete(f"{root}/_admin/requests").raise_for_status()


def test_turning_off_erases_the_keys_keeps_the_state_and_every_path_skips_the_tenant(
    pipeline, intake_url, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    before = links_and_cursors(store, pair.tenant)
    assert before[0]

    answer = turn_off(intake_url, pair.tenant, reason="vi bytter regnskapsbyrå")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == "TURNED_OFF" and body["status"] == "disabled" and body["keysErased"]
    assert "erased" in body["message"] and one_sentence(body["message"])
    state, _, _, token, svenn_key = rows(store)[pair.tenant]
    assert (state, token, svenn_key) == ("disabled", None, None)
    assert links_and_cursors(store, pair.tenant) == before
    last = events(store, pair.tenant)[-1]
    assert (last.to_status, last.actor, last.reason) == (
        "disabled",
        "ola@kunde.no",
        "vi bytter regnskapsbyrå",
    )
    again = turn_off(intake_url, pair.tenant)  # twice is once
    assert again.status_code == 200 and again.json()["code"] == "ALREADY_OFF"

    customer = next(iter(svenn_records(pair, "customer")))
    svenn_edit(pair, "customer", customer, {"name": "Endret Mens Av AS"})
    forget_requests(pair)
    assert asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))["ticks"] == 1
    assert pair.tenant not in asyncio.run(export_hours())
    assert pair.tenant not in asyncio.run(retry_failed())
    assert pair.tenant not in asyncio.run(reconcile())
    # asked for by name, each says why it does nothing
    assert "turned off" in asyncio.run(export_hours(pair.tenant))[pair.tenant]["skipped"]
    assert "turned off" in asyncio.run(reconcile(pair.tenant))[pair.tenant]["error"]
    retried = asyncio.run(retry_failed(pair.tenant, return_state=True))
    assert "turned off" in str(retried.message)
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []
    assert links_and_cursors(store, pair.tenant) == before


def test_turning_on_again_reconciles_edits_from_both_sides_once_without_a_review(
    pipeline, intake_url, sandboxes, state_store
):
    pair, store = sandboxes, state_store
    active(pair, store)
    assert turn_off(intake_url, pair.tenant).status_code == 200
    with store.sessions() as session:
        linked = links_for(session, pair.tenant, Entity.CUSTOMER.value)
    (sv_a, tx_a), (sv_b, tx_b) = [(lk.svenn_id, lk.tripletex_id) for lk in linked[:2]]
    svenn_edit(pair, "customer", sv_a, {"phone": "+4791234567"})
    tripletex_edit(pair, "customer", tx_b, {"name": "Nytt Navn Mens Av AS"})
    new = svenn_edit(pair, "customer", None, {"name": "Helt Ny Kunde Mens Av AS"})
    customers_before = len(tripletex_records(pair, "customer"))

    answer = post(intake_url, pair.tenant, keys(pair) | {"by": "ola@kunde.no"})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["code"], body["status"]) == ("TURNING_ON", "syncing")
    assert pair.employee_token not in answer.text and pair.svenn_api_key not in answer.text
    deadline = time.monotonic() + 180
    while status(store, pair.tenant) == "syncing" and time.monotonic() < deadline:
        time.sleep(0.5)  # the turn-on run reconciles in the background
    assert status(store, pair.tenant) == "active"
    statuses = [e.to_status for e in events(store, pair.tenant)]
    assert statuses[-3:] == ["disabled", "syncing", "active"]  # no second review

    sv, tx = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    assert tx[tx_a]["phoneNumber"] == "+4791234567"
    assert sv[sv_b]["name"] == "Nytt Navn Mens Av AS"
    named = [c for c in tx.values() if c["name"] == "Helt Ny Kunde Mens Av AS"]
    assert len(named) == 1 and len(tx) == customers_before + 1
    with store.sessions() as session:
        assert new and new["id"] in {
            lk.svenn_id for lk in links_for(session, pair.tenant, "customer")
        }
    forget_requests(pair)
    asyncio.run(realtime_sync(max_ticks=2, poll_seconds=0.1))  # what the feeds still hold
    assert writes(pair.tripletex_root) == [] and writes(pair.svenn_root) == []


def test_turning_on_again_with_another_company_is_refused_and_nothing_changes(
    pipeline, intake_url, sandboxes, state_store, second_accounts
):
    pair, store = sandboxes, state_store
    active(pair, store)
    assert turn_off(intake_url, pair.tenant).status_code == 200
    before = rows(store)
    answer = post(intake_url, pair.tenant, keys(pair, token=OTHER_COMPANY_TOKEN))
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["code"] == "NOT_THE_SAME_ACCOUNTS" and one_sentence(body["message"])
    assert OTHER_COMPANY_TOKEN not in answer.text
    assert rows(store) == before


def test_a_new_key_of_the_same_company_replaces_a_revoked_one_and_the_next_tick_heals(
    pipeline, intake_url, sandboxes, state_store, second_accounts
):
    pair, store = sandboxes, state_store
    active(pair, store)
    admin = f"{pair.tripletex_root}/_admin"
    revoked = httpx.post(f"{admin}/employee-tokens/revoke", json={"token": pair.employee_token})
    assert revoked.json() == {"revoked": True}
    summary = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))
    assert pair.tenant in summary["tenants_failed"]
    with store.sessions() as session:
        assert get_integration(session, pair.tenant).last_error  # type: ignore[union-attr]

    before = rows(store)
    foreign = put_key(intake_url, pair.tenant, OTHER_COMPANY_TOKEN)
    assert foreign.status_code == 409 and foreign.json()["code"] == "OTHER_COMPANY"
    assert one_sentence(foreign.json()["message"]) and OTHER_COMPANY_TOKEN not in foreign.text
    assert rows(store) == before

    token = {"token": NEW_TOKEN, "entitlements": ["ALL"]}
    httpx.post(f"{admin}/companies/{pair.company_id}/employee-tokens", json=token)
    answer = put_key(intake_url, pair.tenant, NEW_TOKEN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == "KEY_REPLACED" and NEW_TOKEN not in answer.text
    stored = rows(store)[pair.tenant][3]
    assert stored not in (None, before[pair.tenant][3]) and NEW_TOKEN not in stored
    assert store.cipher.decrypt(stored).get_secret_value() == NEW_TOKEN
    assert events(store, pair.tenant)[-1].actor == "ola@kunde.no"

    summary = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))
    assert not summary["tenants_failed"]
    with store.sessions() as session:
        integration = get_integration(session, pair.tenant)
        assert integration is not None and integration.last_error is None
        assert integration.status == "active"


def test_turning_off_in_review_withdraws_the_request_and_a_running_initial_sync_is_waited_for(
    intake_url, sandboxes, state_store
):
    import datetime as dt

    from store.integrations import transition
    from store.leases import INITIAL_SYNC, acquire_lease
    from store.models import IntegrationStatus as S
    from tests.flows.conftest import take_keys

    pair, store = sandboxes, state_store
    take_keys(pair)  # in review
    withdrawn = turn_off(intake_url, pair.tenant)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "off"
    assert rows(store)[pair.tenant][0::3] == ("off", None)

    take_keys(pair)
    with store.sessions.begin() as session:  # approved; its initial sync is running
        transition(session, pair.tenant, S.APPROVED, actor="kari@ops")
        acquire_lease(session, pair.tenant, INITIAL_SYNC, "run-1", ttl=dt.timedelta(hours=1))
    before = rows(store)
    busy = turn_off(intake_url, pair.tenant)
    assert busy.status_code == 409 and busy.json()["code"] == "INITIAL_SYNC_RUNNING"
    assert one_sentence(busy.json()["message"]) and rows(store) == before
