"""The webhook receiver: Tripletex tells us a customer, project or employee changed.

``POST /webhooks/tripletex/{tenant}`` is open to callers without the bearer token (see
:mod:`intake.auth`); its proof is the HMAC signature Tripletex sends with each delivery
(FACTS.md §5): ``x-request-signature`` = base64(HmacSHA512(secret, idempotency-key + "&" +
body)), with the tenant's own secret. The signature is checked, in constant time, before the
body is parsed; a tenant without a secret (unknown, or never subscribed) is refused the same way,
so the route tells an unsigned caller nothing about which tenants exist.

A verified delivery is recorded (tenant, entity, id, kind: never the payload's values) and
answered at once; the realtime tick reads the named record again. The answers are in
:mod:`intake.answers`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from intake.answers import Tenant, answer, responses
from store.models import IntegrationStatus as S
from store.token_cipher import TokenCipherError
from store.webhooks import delivery_gate, record_delivery
from sync.webhook_events import NotADelivery, parse_delivery, usable_idempotency_key
from tasks.tenant import state_store

SIGNATURE_HEADER = "x-request-signature"
IDEMPOTENCY_HEADER = "idempotency-key"
# A secret no tenant has: an unknown tenant's delivery costs the same HMAC as a known one's.
_NO_SECRET = b"\x00" * 43
# The statuses in which changes are synced (approved by a person and not turned off).
TAKING = frozenset({S.APPROVED.value, S.SYNCING.value, S.ACTIVE.value, S.FAILED.value})


def expected_signature(secret: bytes, idempotency_key: bytes, body: bytes) -> bytes:
    """base64(HmacSHA512(secret, idempotency-key + "&" + body)), as Tripletex signs."""
    digest = hmac.new(secret, idempotency_key + b"&" + body, hashlib.sha512).digest()
    return base64.b64encode(digest)


def signature_verifies(secret: bytes | None, key: str, body: bytes, given: str) -> bool:
    """Whether ``given`` is the delivery's signature under ``secret`` (constant-time)."""
    expected = expected_signature(secret or _NO_SECRET, key.encode("latin-1"), body)
    matches = hmac.compare_digest(expected, given.strip().encode("latin-1"))
    return matches and secret is not None


def _unsigned() -> JSONResponse:
    return answer(
        401,
        "SIGNATURE_INVALID",
        "The delivery is not signed with this tenant's webhook secret; nothing was recorded.",
    )


def take_delivery(
    settings: Settings, tenant: str, key: str | None, given: str | None, body: bytes
) -> JSONResponse:
    """Verify, then record one delivery (blocking: runs in the thread pool)."""
    if not key or not given:
        return answer(
            401,
            "SIGNATURE_MISSING",
            "Send the idempotency-key and x-request-signature headers; nothing was recorded.",
        )
    store = state_store(settings)
    with store.sessions() as session:
        gate = delivery_gate(session, tenant)
    secret: bytes | None = None
    if gate is not None and gate.secret_encrypted:
        try:
            secret = store.cipher.decrypt(gate.secret_encrypted).get_secret_value().encode()
        except TokenCipherError:
            secret = None
    if not signature_verifies(secret, key, body, given) or gate is None:
        return _unsigned()
    if gate.status not in TAKING:
        return answer(
            410,
            "INTEGRATION_NOT_ON",
            f"The integration {tenant} is {gate.status}: deliveries are not taken; nothing "
            "was recorded.",
        )
    if not usable_idempotency_key(key):
        return answer(422, "MALFORMED_REQUEST", "The idempotency-key header is too long.")
    try:
        event = parse_delivery(body)
    except NotADelivery as refusal:
        return answer(422, "MALFORMED_REQUEST", str(refusal))
    with store.sessions.begin() as session:
        new = record_delivery(session, tenant, key, event.entity, event.record_id, event.kind)
    if not new:
        return answer(200, "ALREADY_RECORDED", "This delivery was recorded before; nothing new.")
    return answer(
        202, "RECORDED", f"Recorded: {event.entity.value} {event.record_id} ({event.kind.value})."
    )


def webhook_router(settings: Settings) -> APIRouter:
    """The receiver's route, for ``settings``' store."""
    router = APIRouter()

    @router.post(
        "/webhooks/tripletex/{tenant}",
        status_code=202,
        responses=responses(200, 202, 410),
        summary="A Tripletex webhook delivery (signed with the tenant's secret)",
    )
    async def tripletex_delivery(tenant: Tenant, request: Request) -> JSONResponse:
        """Recorded (202) or recorded before (200); the realtime tick reads the record again.
        A missing or wrong signature, or a tenant without a webhook secret, is 401; an
        integration that is not on is 410 (Tripletex may stop sending)."""
        body = await request.body()
        headers = request.headers
        return await run_in_threadpool(
            take_delivery,
            settings,
            tenant,
            headers.get(IDEMPOTENCY_HEADER),
            headers.get(SIGNATURE_HEADER),
            body,
        )

    return router
