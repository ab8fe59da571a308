"""The webhook receiver over real HTTP: a delivery signed with the tenant's secret is recorded
once (tenant, entity, id, kind: never its values); every other delivery is refused in one
sentence with nothing stored. Deliveries are signed with the Tripletex sandbox's own signer."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from config.settings import load_settings
from intake.answers import ANY_ROUTE
from intake.app import create_app
from intake.body_limit import MAX_BODY_BYTES
from sandboxes.runner import serve_in_thread
from sandboxes.tripletex.delivery import encode, signature
from store.integrations import ensure_integration
from store.models import Integration, IntegrationStatus, WebhookEvent
from store.state import StateStore
from store.webhooks import ensure_webhook_secret
from tests.conftest import TEST_KEY
from tests.flows.test_tenancy import one_sentence

TENANT = "t-hook"


@dataclass
class Receiver:
    url: str
    secret: str

    def deliver(
        self,
        payload: object,
        *,
        tenant: str = TENANT,
        secret: str | None = None,
        key: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST one delivery, signed as Tripletex signs (``headers`` replaces the signed ones)."""
        body = raw if raw is not None else encode(payload)  # type: ignore[arg-type]
        key = key or str(uuid.uuid4())
        signed = {
            "content-type": "application/json",
            "idempotency-key": key,
            "x-request-signature": signature(secret or self.secret, key, body),
        }
        return httpx.post(
            f"{self.url}/webhooks/tripletex/{tenant}",
            content=body,
            headers=signed if headers is None else headers,
            timeout=30,
        )


def update(record_id: int = 12, event: str = "customer.update") -> dict[str, object]:
    return {"subscriptionId": 3, "event": event, "id": record_id, "value": {"name": "Evil"}}


def with_tenant(store: StateStore, tenant: str, status: IntegrationStatus) -> str:
    with store.sessions.begin() as session:
        ensure_integration(session, tenant).status = status.value
        return ensure_webhook_secret(session, store.cipher, tenant).get_secret_value()


def events(store: StateStore) -> list[tuple[str, str, str, str]]:
    with store.sessions() as session:
        rows = session.scalars(select(WebhookEvent).order_by(WebhookEvent.id))
        return [(r.tenant, r.entity, r.record_id, r.kind) for r in rows]


@pytest.fixture
def receiver(
    state_store: StateStore, database: tuple[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Receiver]:
    url, schema = database
    monkeypatch.setenv("SVENN_SYNC_DATABASE_URL", url)
    if schema:
        monkeypatch.setenv("SVENN_SYNC_DATABASE_SCHEMA", schema)
    monkeypatch.setenv("SVENN_SYNC_ENCRYPTION_KEY", TEST_KEY)
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", "intake-bearer-for-webhook-tests")
    load_settings.cache_clear()
    secret = with_tenant(state_store, TENANT, IntegrationStatus.ACTIVE)
    with serve_in_thread(create_app(run_on="process")) as root:
        yield Receiver(root, secret)
    load_settings.cache_clear()


def test_a_signed_delivery_is_recorded_without_its_values(receiver, state_store):
    answer = receiver.deliver(update())
    assert answer.status_code == 202, answer.text
    assert answer.json()["code"] == "RECORDED" and one_sentence(answer.json()["message"])
    assert events(state_store) == [(TENANT, "customer", "12", "update")]
    delete = receiver.deliver({"subscriptionId": 4, "event": "project.delete", "id": 7})
    assert delete.status_code == 202
    assert events(state_store)[-1] == (TENANT, "project", "7", "delete")


def test_the_secret_is_stored_encrypted(receiver, state_store):
    with state_store.sessions() as session:
        stored = session.scalars(select(Integration.webhook_secret_encrypted)).one()
    assert stored and receiver.secret not in stored
    assert state_store.cipher.decrypt(stored) == SecretStr(receiver.secret)
    with state_store.sessions.begin() as session:  # asked again: the same secret, not a new one
        assert ensure_webhook_secret(session, state_store.cipher, TENANT) == SecretStr(
            receiver.secret
        )


def refused_unsigned(answer: httpx.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["code"] in {"SIGNATURE_INVALID", "SIGNATURE_MISSING"}
    assert one_sentence(answer.json()["message"])


def test_a_wrong_secret_is_refused_and_nothing_recorded(receiver, state_store):
    refused_unsigned(receiver.deliver(update(), secret="not-the-tenants-secret"))
    assert events(state_store) == []


def test_an_altered_body_is_refused_and_nothing_recorded(receiver, state_store):
    key, body = "delivery-1", encode(update())
    headers = {
        "content-type": "application/json",
        "idempotency-key": key,
        "x-request-signature": signature(receiver.secret, key, body),
    }
    altered = body.replace(b'"id":12', b'"id":13')
    refused_unsigned(receiver.deliver(None, raw=altered, headers=headers))
    assert events(state_store) == []


def test_an_altered_idempotency_key_is_refused_and_nothing_recorded(receiver, state_store):
    body = encode(update())
    headers = {
        "content-type": "application/json",
        "idempotency-key": "delivery-2",
        "x-request-signature": signature(receiver.secret, "delivery-1", body),
    }
    refused_unsigned(receiver.deliver(None, raw=body, headers=headers))
    assert events(state_store) == []


@pytest.mark.parametrize("missing", ["x-request-signature", "idempotency-key"])
def test_a_missing_header_is_refused_and_nothing_recorded(receiver, state_store, missing):
    body = encode(update())
    headers = {
        "content-type": "application/json",
        "idempotency-key": "delivery-1",
        "x-request-signature": signature(receiver.secret, "delivery-1", body),
    }
    del headers[missing]
    answer = receiver.deliver(None, raw=body, headers=headers)
    refused_unsigned(answer)
    assert answer.json()["code"] == "SIGNATURE_MISSING"
    assert events(state_store) == []


def test_a_replayed_delivery_is_recorded_once(receiver, state_store):
    first = receiver.deliver(update(), key="delivery-1")
    again = receiver.deliver(update(), key="delivery-1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["code"] == "ALREADY_RECORDED"
    assert events(state_store) == [(TENANT, "customer", "12", "update")]
    assert receiver.deliver(update(), key="delivery-2").status_code == 202  # a new delivery
    assert len(events(state_store)) == 2


def test_an_unknown_tenant_is_answered_like_a_wrong_signature(receiver, state_store):
    unknown = receiver.deliver(update(), tenant="t-nobody")
    wrong = receiver.deliver(update(), secret="not-the-tenants-secret")
    refused_unsigned(unknown)
    assert unknown.json() == wrong.json()
    assert events(state_store) == []


@pytest.mark.parametrize(
    "status", [IntegrationStatus.DISABLED, IntegrationStatus.REVIEW, IntegrationStatus.REJECTED]
)
def test_an_integration_that_is_not_on_is_refused_and_nothing_recorded(
    receiver, state_store, status
):
    secret = with_tenant(state_store, "t-off", status)
    answer = receiver.deliver(update(), tenant="t-off", secret=secret)
    assert answer.status_code == 410, answer.text
    assert answer.json()["code"] == "INTEGRATION_NOT_ON" and one_sentence(answer.json()["message"])
    assert events(state_store) == []


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"event": "customer.update", ', "The body is not valid JSON."),
        (b"[1, 2]", "Send a JSON object with event and id."),
        (encode(update(event="invoice.charged")), "The event is not one of"),
        (encode(update(event=["customer.update"])), "The event is not one of"),  # type: ignore[arg-type]
        (json.dumps({"event": "customer.update", "id": "12"}).encode(), "The id is not"),
        (json.dumps({"event": "customer.update", "id": True}).encode(), "The id is not"),
        (json.dumps({"event": "customer.update", "id": -3}).encode(), "The id is not"),
    ],
)
def test_a_signed_body_that_is_not_a_delivery_gets_one_sentence(receiver, state_store, raw, says):
    answer = receiver.deliver(None, raw=raw)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "MALFORMED_REQUEST" and body["message"].startswith(says)
    assert one_sentence(body["message"]) and "Evil" not in answer.text
    assert events(state_store) == []


def test_a_huge_body_is_refused_before_it_is_read_and_the_next_delivery_taken(
    receiver, state_store
):
    huge = encode({**update(), "value": {"name": "x" * (MAX_BODY_BYTES + 1)}})
    answer = receiver.deliver(None, raw=huge)
    assert answer.status_code == 413 and answer.json()["code"] == "BODY_TOO_LARGE"
    assert events(state_store) == []
    assert receiver.deliver(update(record_id=5)).status_code == 202
    assert events(state_store) == [(TENANT, "customer", "5", "update")]


def test_an_idempotency_key_too_long_to_store_gets_one_sentence(receiver, state_store):
    answer = receiver.deliver(update(), key="k" * 101)
    assert answer.status_code == 422 and one_sentence(answer.json()["message"])
    assert events(state_store) == []


def test_the_openapi_document_lists_every_answer_of_the_receiver(receiver):
    spec = httpx.get(f"{receiver.url}/openapi.json", timeout=30).json()
    operation = spec["paths"]["/webhooks/tripletex/{tenant}"]["post"]
    assert {int(s) for s in operation["responses"]} == {200, 202, 410, *ANY_ROUTE}
    assert "which tenants exist" in operation["responses"]["401"]["description"]
