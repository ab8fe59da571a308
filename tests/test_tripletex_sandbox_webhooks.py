"""The Tripletex sandbox's event subscriptions and webhook deliveries, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.tripletex_sandbox_support import (  # noqa: F401 - checker is a fixture
    TOKEN_B,
    checker,
    open_session,
    sandbox,
)
from tests.webhook_receiver import Receiver, receiver

SECRET = "hemmelig-delt-nokkel"
COMPANY = 1001


@pytest.fixture
def world(checker: Any) -> Iterator[tuple[str, httpx.Client, Receiver]]:  # noqa: F811
    """A seeded sandbox (its /v2 exchanges checked against the spec) and a local receiver."""
    with sandbox(checker) as (base, _, client), receiver() as got:
        yield base, client, got


def subscribe(client: httpx.Client, event: str, url: str, **extra: Any) -> dict[str, Any]:
    """POST /event/subscription; returns the created subscription."""
    body = {"event": event, "targetUrl": url, "hmacSharedSecret": SECRET, **extra}
    response = client.post("/event/subscription", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json()["value"])


def knobs(base: str, **values: Any) -> None:
    """Set the sandbox's delivery knobs."""
    response = httpx.put(f"{base}/_admin/webhooks", json=values)
    assert response.status_code == 200, response.text


def edit(base: str, entity: str, **body: Any) -> dict[str, Any]:
    """A UI-style edit in the sandbox (create, update or delete)."""
    response = httpx.post(
        f"{base}/_admin/companies/{COMPANY}/edit", json={"entity": entity, **body}
    )
    assert response.status_code in (200, 201, 204), response.text
    return dict(response.json()["value"]) if response.status_code != 204 else {}


def signed_correctly(item: Any) -> bool:
    """Recompute x-request-signature from the raw delivery."""
    message = item.headers["idempotency-key"].encode() + b"&" + item.raw
    digest = hmac.new(SECRET.encode(), message, hashlib.sha512).digest()
    return hmac.compare_digest(
        base64.b64encode(digest).decode(), item.headers["x-request-signature"]
    )


def subscription_status(client: httpx.Client, ident: int, wanted: str) -> str:
    """Poll the subscription until its status is ``wanted`` (failure deadline 20 s)."""
    deadline = time.monotonic() + 20
    status = ""
    while time.monotonic() < deadline:
        status = client.get(f"/event/subscription/{ident}").json()["value"]["status"]
        if status == wanted:
            break
        time.sleep(0.05)
    return status


def test_subscription_crud_and_list_follow_the_spec(world: Any) -> None:
    _, client, got = world
    made = subscribe(client, "customer.update", got.url, fields="id,version,name")
    assert made["status"] == "ACTIVE" and made["version"] == 0
    assert "hmacSharedSecret" not in made and "authHeaderValue" not in made
    ident = made["id"]
    assert client.get(f"/event/subscription/{ident}").json()["value"]["event"] == "customer.update"
    listed = client.get("/event/subscription").json()
    assert [s["id"] for s in listed["values"]] == [ident] and listed["fullResultSize"] == 1
    changed = client.put(f"/event/subscription/{ident}", json={"version": 0, "fields": "id"})
    assert changed.status_code == 200 and changed.json()["value"]["fields"] == "id"
    stale = client.put(f"/event/subscription/{ident}", json={"version": 0, "fields": "*"})
    assert stale.status_code == 409
    batch = [{"event": f"project.{v}", "targetUrl": got.url} for v in ("create", "delete")]
    many = client.post("/event/subscription/list", json=batch)
    assert many.status_code == 201 and many.json()["count"] == 2
    ids = [s["id"] for s in many.json()["values"]]
    renamed = client.put(
        "/event/subscription/list", json=[{"id": i, "status": "DISABLED"} for i in ids]
    )
    assert [s["status"] for s in renamed.json()["values"]] == ["DISABLED", "DISABLED"]
    gone = client.delete("/event/subscription/list", params={"ids": ",".join(map(str, ids))})
    assert gone.status_code == 204
    assert client.delete(f"/event/subscription/{ident}").status_code == 204
    assert client.get(f"/event/subscription/{ident}").status_code == 404
    assert client.get("/event/subscription").json()["values"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"event": "timesheet.create", "targetUrl": "https://x.example/hook"},
        {"event": "customer.create", "targetUrl": "http://x.example/hook"},
        {"event": "customer.create"},
        {"event": "customer.create", "targetUrl": "https://x.example/h", "fields": "nope"},
        {"event": "customer.create", "targetUrl": "https://x.example/h", "colour": "red"},
    ],
)
def test_bad_subscription_is_refused_with_a_4xx(world: Any, body: Any) -> None:
    _, client, _ = world
    response = client.post("/event/subscription", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert client.get("/event/subscription").json()["values"] == []


def test_a_body_that_is_not_an_object_is_refused_with_a_4xx() -> None:
    with sandbox() as (_, _, client):  # unchecked: the request itself breaks the spec
        response = client.post("/event/subscription", json=["not", "an", "object"])
        assert response.status_code == 422
        assert client.get("/event/subscription").json()["values"] == []


def test_a_token_sees_only_its_own_subscriptions(world: Any) -> None:
    base, client, got = world
    made = subscribe(client, "customer.create", got.url)
    company = {"name": "Firma C AS", "employeeTokens": [{"token": "token-c"}]}
    assert httpx.post(f"{base}/_admin/companies", json=company).status_code == 201
    other = httpx.Client(base_url=f"{base}/v2", auth=("0", open_session(base, "token-c")))
    with other:
        assert other.get(f"/event/subscription/{made['id']}").status_code == 404
        assert other.get("/event/subscription").json()["values"] == []


ENTITY_WRITES = {
    "customer": ({"name": "Ny Kunde AS"}, {"name": "Ny Kunde Endret AS"}),
    "project": (
        {
            "name": "Garasje",
            "number": "P-77",
            "startDate": "2024-02-01",
            "projectManager": {"id": 11},
        },
        {"name": "Garasje og carport"},
    ),
    "employee": (
        {"firstName": "Siri", "lastName": "Maler", "userType": "NO_ACCESS"},
        {"lastName": "Malersen"},
    ),
}


@pytest.mark.parametrize("entity", sorted(ENTITY_WRITES))
def test_create_update_delete_are_delivered_signed(world: Any, entity: str) -> None:
    base, client, got = world
    subs = {
        v: subscribe(client, f"{entity}.{v}", got.url)["id"] for v in ("create", "update", "delete")
    }
    create, update = ENTITY_WRITES[entity]
    made = edit(base, entity, changes=create)
    edit(base, entity, id=made["id"], changes=update)
    edit(base, entity, id=made["id"], delete=True)
    received = got.wait_for(3)
    bodies = sorted(
        (r.body for r in received),
        key=lambda b: ["create", "update", "delete"].index(b["event"].split(".")[1]),
    )
    assert [b["event"] for b in bodies] == [f"{entity}.{v}" for v in ("create", "update", "delete")]
    assert [b["subscriptionId"] for b in bodies] == [subs["create"], subs["update"], subs["delete"]]
    assert {b["id"] for b in bodies} == {made["id"]}
    assert bodies[0]["value"]["version"] == 0 and bodies[1]["value"]["version"] == 1
    assert bodies[2]["value"] is None
    assert all(signed_correctly(r) for r in received)
    assert len({r.headers["idempotency-key"] for r in received}) == 3


def test_api_writes_are_delivered_with_the_subscribed_fields(world: Any) -> None:
    _, client, got = world
    subscribe(client, "customer.create", got.url, fields="id,version,name")
    subscribe(client, "customer.update", got.url, fields="id,version,name")
    made = client.post("/customer", json={"name": "API Kunde AS"}).json()["value"]
    client.put(f"/customer/{made['id']}", json={"version": 0, "name": "API Kunde 2 AS"})
    bodies = [r.body for r in got.wait_for(2)]
    assert {b["event"] for b in bodies} == {"customer.create", "customer.update"}
    assert all(set(b["value"]) == {"id", "version", "name"} for b in bodies)
    assert {b["value"]["name"] for b in bodies} == {"API Kunde AS", "API Kunde 2 AS"}


def test_a_wrong_secret_gives_a_signature_that_does_not_verify(world: Any) -> None:
    base, client, got = world
    client.post(
        "/event/subscription",
        json={"event": "customer.create", "targetUrl": got.url, "hmacSharedSecret": "annen"},
    )
    edit(base, "customer", changes={"name": "Feil Nokkel AS"})
    assert not signed_correctly(got.wait_for(1)[0])


def test_the_write_does_not_wait_for_the_receiver(world: Any) -> None:
    _, client, got = world
    subscribe(client, "customer.create", got.url)
    got.gate.clear()  # the receiver holds every delivery until released
    response = client.post("/customer", json={"name": "Treg Mottaker AS"})
    assert response.status_code == 201
    deadline = time.monotonic() + 20
    while got.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert got.in_flight == 1 and got.got == []  # the answer came while delivery was held
    got.gate.set()
    assert got.wait_for(1)[0].body["id"] == response.json()["value"]["id"]


def test_failed_deliveries_are_retried_then_the_subscription_is_disabled(world: Any) -> None:
    base, client, got = world
    knobs(base, max_attempts=3, retry_base_ms=20, disable_after_failures=3)
    got.answer = lambda _: 500
    ident = subscribe(client, "customer.create", got.url)["id"]
    edit(base, "customer", changes={"name": "Nede AS"})
    assert (
        subscription_status(client, ident, "DISABLED_TOO_MANY_ERRORS") == "DISABLED_TOO_MANY_ERRORS"
    )
    received = got.wait_for(3)
    assert len({r.headers["idempotency-key"] for r in received}) == 1  # the same delivery, retried
    got.answer = lambda _: 200
    edit(base, "customer", changes={"name": "Etter Stengt AS"})
    subscribe(client, "customer.create", got.url)  # a fresh subscription proves the next event
    edit(base, "customer", changes={"name": "Ny Abonnent AS"})
    got.wait_for(4)
    assert [r.body["value"]["name"] for r in got.got[3:]] == ["Ny Abonnent AS"]


def test_a_delivery_that_fails_once_is_retried_and_delivered(world: Any) -> None:
    base, client, got = world
    knobs(base, retry_base_ms=20)
    answers = iter([503, 200])
    got.answer = lambda _: next(answers)
    ident = subscribe(client, "customer.create", got.url)["id"]
    edit(base, "customer", changes={"name": "Blafrer AS"})
    first, second = got.wait_for(2)
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert client.get(f"/event/subscription/{ident}").json()["value"]["status"] == "ACTIVE"


def test_drop_knob_loses_deliveries(world: Any) -> None:
    base, client, got = world
    subscribe(client, "customer.create", got.url)
    knobs(base, drop_rate=1.0)
    edit(base, "customer", changes={"name": "Borte AS"})
    knobs(base)
    edit(base, "customer", changes={"name": "Fram AS"})
    got.wait_for(1)
    log = httpx.get(f"{base}/_admin/webhooks/deliveries").json()
    assert [r.body["value"]["name"] for r in got.got] == ["Fram AS"]
    assert [e["outcome"] for e in log] == ["dropped", "delivered"]


def test_duplicate_knob_sends_the_same_delivery_twice(world: Any) -> None:
    base, client, got = world
    subscribe(client, "customer.create", got.url)
    knobs(base, duplicate_rate=1.0)
    edit(base, "customer", changes={"name": "Dobbel AS"})
    first, second = got.wait_for(2)
    assert first.raw == second.raw
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_delay_knob_holds_deliveries(world: Any) -> None:
    base, client, got = world
    subscribe(client, "customer.create", got.url)
    knobs(base, delay_ms=600_000)
    edit(base, "customer", changes={"name": "Senere AS"})
    state = httpx.get(f"{base}/_admin/webhooks").json()
    assert state["waiting"] == 1 and got.got == []


def test_reorder_knob_sends_a_window_of_events_newest_first(world: Any) -> None:
    base, client, got = world
    subscribe(client, "customer.create", got.url)
    knobs(base, reorder_window_ms=8000)
    names = ["Forst AS", "Andre AS", "Tredje AS"]
    for name in names:
        edit(base, "customer", changes={"name": name})
    received = got.wait_for(3)
    assert [r.body["value"]["name"] for r in received] == names[::-1]


def test_skip_versions_knob_sends_only_the_latest_state(world: Any) -> None:
    base, client, got = world
    subscribe(client, "customer.update", got.url)
    knobs(base, skip_versions=True, delay_ms=8000)
    for name in ("V1 AS", "V2 AS", "V3 AS"):
        edit(base, "customer", id=21, changes={"name": name})
    (only,) = got.wait_for(1)
    assert only.body["value"]["name"] == "V3 AS" and only.body["value"]["version"] == 3
    log = httpx.get(f"{base}/_admin/webhooks/deliveries").json()
    assert [e["outcome"] for e in log] == ["skipped", "skipped", "delivered"]


def test_bad_knobs_are_refused_with_a_4xx(world: Any) -> None:
    base, _, _ = world
    response = httpx.put(f"{base}/_admin/webhooks", json={"drop_rate": 2})
    assert response.status_code == 422
    assert httpx.get(f"{base}/_admin/webhooks").json()["knobs"]["drop_rate"] == 0


def test_secrets_are_sent_but_never_shown(world: Any) -> None:
    base, client, got = world
    made = subscribe(
        client,
        "customer.create",
        got.url,
        authHeaderName="X-Callback-Auth",
        authHeaderValue="callback-passord",
    )
    assert made["authHeaderName"] == "X-Callback-Auth"
    edit(base, "customer", changes={"name": "Hemmelig AS"})
    (delivered,) = got.wait_for(1)
    assert delivered.headers["x-callback-auth"] == "callback-passord"
    assert signed_correctly(delivered)
    shown = [
        client.get(f"/event/subscription/{made['id']}").text,
        client.get("/event/subscription").text,
        httpx.get(f"{base}/_admin/webhooks").text,
        httpx.get(f"{base}/_admin/webhooks/deliveries").text,
        delivered.raw.decode(),
    ]
    assert not any(SECRET in text or "callback-passord" in text for text in shown)


def test_a_token_without_the_event_entitlement_cannot_subscribe(world: Any) -> None:
    base, _, _ = world  # company B's token has only the "customer" entitlement
    with httpx.Client(base_url=f"{base}/v2", auth=("0", open_session(base, TOKEN_B))) as other:
        refused = other.post(
            "/event/subscription",
            json={"event": "customer.create", "targetUrl": "https://x.example/hook"},
        )
        assert refused.status_code == 403 and refused.json()["code"] == 9000
        assert other.get("/customer").status_code == 200  # polling still works
