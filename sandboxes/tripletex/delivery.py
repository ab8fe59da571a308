"""Webhook deliveries of the Tripletex sandbox: a background sender with retries and faults.

Writes only enqueue (``DeliveryQueue.put``); one daemon thread per sandbox POSTs the payloads,
so a slow or dead receiver never slows down the API call that caused the event. The thread
starts on the first delivery and ends when it has been idle for a while.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, Field

IDLE_SECONDS = 5.0
LOG_SIZE = 10_000


class DeliveryKnobs(BaseModel):
    """Delivery policy and fault knobs, as set through ``PUT /_admin/webhooks``."""

    drop_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    delay_ms: int = Field(default=0, ge=0, le=600_000)
    reorder_window_ms: int = Field(default=0, ge=0, le=600_000)
    skip_versions: bool = False
    max_attempts: int = Field(default=5, ge=1, le=100)
    retry_base_ms: int = Field(default=1000, ge=0, le=600_000)
    disable_after_failures: int = Field(default=10, ge=1, le=10_000)
    timeout_ms: int = Field(default=5000, ge=1, le=600_000)
    seed: int | None = None


@dataclass
class Delivery:
    """One event for one subscription: the body is fixed, retries reuse the idempotency key."""

    subscription_id: int
    key: tuple[int, int]  # (subscription id, object id): what ``skip_versions`` coalesces on
    payload: dict[str, Any]
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempt: int = 0


@dataclass
class Target:
    """Where and how to deliver for one subscription (the secrets never leave this object)."""

    url: str
    hmac_secret: str | None = field(default=None, repr=False)
    auth_header: tuple[str, str] | None = field(default=None, repr=False)


def signature(secret: str, idempotency_key: str, body: bytes) -> str:
    """``x-request-signature``: base64(HmacSHA512(secret, idempotency-key + "&" + body))."""
    message = idempotency_key.encode() + b"&" + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha512).digest()).decode()


def encode(payload: dict[str, Any]) -> bytes:
    """The delivery body, as compact JSON."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class DeliveryQueue:
    """Deliveries waiting for their time; one sender thread works through them."""

    def __init__(
        self,
        target_of: Callable[[int], Target | None],
        on_outcome: Callable[[int, bool], None],
    ) -> None:
        self.knobs = DeliveryKnobs()
        self._target_of = target_of
        self._on_outcome = on_outcome  # (subscription id, delivered) after every attempt
        self._heap: list[tuple[float, int, int, Delivery]] = []
        self._pending: dict[tuple[int, int], Delivery] = {}
        self._seq = 0
        self._window_end = 0.0
        self._rng = random.Random()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)

    def configure(self, knobs: DeliveryKnobs) -> None:
        """Replace the knobs (a seed makes drop/duplicate choices repeatable)."""
        with self._cond:
            self.knobs = knobs
            self._rng = random.Random(knobs.seed)

    def put(self, delivery: Delivery) -> None:
        """Schedule a new event (coalesced into a pending one under ``skip_versions``)."""
        with self._cond:
            knobs = self.knobs
            pending = self._pending.get(delivery.key)
            if knobs.skip_versions and pending is not None:
                pending.payload = delivery.payload  # latest state only; older version skipped
                self._record(delivery, "skipped")
                return
            if self._rng.random() < knobs.drop_rate:
                self._record(delivery, "dropped")
                return
            copies = 2 if self._rng.random() < knobs.duplicate_rate else 1
            self._pending[delivery.key] = delivery
            due = time.monotonic() + knobs.delay_ms / 1000
            if knobs.reorder_window_ms:
                if self._window_end < time.monotonic():
                    self._window_end = due + knobs.reorder_window_ms / 1000
                due = max(due, self._window_end)
            for _ in range(copies):
                self._push(due, delivery, reverse=bool(knobs.reorder_window_ms))
            self._start()

    def discard(self, subscription_id: int) -> None:
        """Forget every waiting delivery of a subscription (deleted or disabled)."""
        with self._cond:
            self._heap = [e for e in self._heap if e[3].subscription_id != subscription_id]
            heapq.heapify(self._heap)
            self._pending = {
                k: d for k, d in self._pending.items() if d.subscription_id != subscription_id
            }

    def waiting(self) -> int:
        """How many deliveries (retries included) are scheduled."""
        with self._cond:
            return len(self._heap)

    def _push(self, due: float, delivery: Delivery, *, reverse: bool = False) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, -self._seq if reverse else self._seq, self._seq, delivery))
        self._cond.notify()

    def _record(self, delivery: Delivery, outcome: str, status: int | None = None) -> None:
        self.log.append(
            {
                "subscriptionId": delivery.subscription_id,
                "event": delivery.payload.get("event"),
                "id": delivery.payload.get("id"),
                "idempotencyKey": delivery.idempotency_key,
                "attempt": delivery.attempt,
                "outcome": outcome,
                "status": status,
            }
        )

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="tripletex-webhooks", daemon=True
            )
            self._thread.start()

    def _next(self) -> Delivery | None:
        """The next due delivery; None once idle for ``IDLE_SECONDS``."""
        with self._cond:
            idle_since = time.monotonic()
            while True:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    delivery = heapq.heappop(self._heap)[3]
                    if self._pending.get(delivery.key) is delivery:
                        del self._pending[delivery.key]
                    return delivery
                if not self._heap and now - idle_since > IDLE_SECONDS:
                    self._thread = None
                    return None
                wait = self._heap[0][0] - now if self._heap else IDLE_SECONDS
                self._cond.wait(timeout=max(wait, 0.001))

    def _run(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while (delivery := self._next()) is not None:
                self._send(client, delivery)

    def _send(self, client: httpx.Client, delivery: Delivery) -> None:
        target = self._target_of(delivery.subscription_id)
        if target is None:  # deleted or disabled meanwhile
            return
        delivery.attempt += 1
        body = encode(delivery.payload)
        headers = {"content-type": "application/json", "idempotency-key": delivery.idempotency_key}
        if target.hmac_secret:
            headers["x-request-signature"] = signature(
                target.hmac_secret, delivery.idempotency_key, body
            )
        if target.auth_header:
            headers[target.auth_header[0]] = target.auth_header[1]
        status: int | None = None
        try:
            response = client.post(
                target.url, content=body, headers=headers, timeout=self.knobs.timeout_ms / 1000
            )
            status = response.status_code
        except httpx.HTTPError:
            pass
        delivered = status is not None and 200 <= status < 300
        with self._cond:
            self._record(delivery, "delivered" if delivered else "failed", status)
            knobs = self.knobs
            if not delivered and delivery.attempt < knobs.max_attempts:
                backoff = knobs.retry_base_ms / 1000 * 2 ** (delivery.attempt - 1)
                self._push(time.monotonic() + backoff, delivery)
        self._on_outcome(delivery.subscription_id, delivered)
