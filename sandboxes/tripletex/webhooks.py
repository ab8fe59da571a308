"""Event subscriptions of the Tripletex sandbox and the events its writes raise (see README)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .delivery import Delivery, DeliveryQueue, Target
from .errors import TripletexError, validation_error
from .fields import Renderer, parse_fields
from .state import ENTITIES, Company

STATUSES = (
    "ACTIVE",
    "DISABLED",
    "DISABLED_TOO_MANY_ERRORS",
    "DISABLED_RATE_LIMIT_EXCEEDED",
    "DISABLED_MISUSE",
)
VERBS = ("create", "update", "delete")
# Subjects the sandbox delivers; the other documented subjects may be subscribed to but never fire.
DELIVERED = ("customer", "project", "employee")
SUBJECTS = (*DELIVERED, "supplier", "contact", "order", "product", "voucher", "account")
EVENTS = frozenset(f"{s}.{v}" for s in SUBJECTS for v in VERBS)
WRITABLE = ("event", "targetUrl", "fields", "status", "authHeaderName", "authHeaderValue")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
UNKNOWN_EVENT = "Ugyldig hendelse. Se /event for gyldige hendelser."
BAD_URL = "Må være en absolutt URL som bruker HTTPS."


@dataclass
class Subscription:
    """One subscription: an event of one company sent to one URL, owned by an employee token."""

    id: int
    company_id: int
    token: str = field(repr=False)
    event: str
    target_url: str
    fields: str | None = None
    status: str = "ACTIVE"
    auth_header_name: str | None = None
    auth_header_value: str | None = field(default=None, repr=False)
    hmac_secret: str | None = field(default=None, repr=False)
    version: int = 0
    failures: int = 0  # consecutive failed attempts; reset by a delivered one

    def render(self, host: str) -> dict[str, Any]:
        """The API's view: write-only secrets never shown."""
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "url": f"{host}/v2/event/subscription/{self.id}",
            "event": self.event,
            "targetUrl": self.target_url,
            "status": self.status,
        }
        if self.fields is not None:
            out["fields"] = self.fields
        if self.auth_header_name is not None:
            out["authHeaderName"] = self.auth_header_name
        return out


def _check_url(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    ok = parts is not None and bool(parts.hostname) and parts.scheme == "https"
    if parts is not None and parts.scheme == "http" and parts.hostname in LOOPBACK:
        ok = True  # a sandbox-only allowance, so that local receivers can be tested
    if not ok:
        raise validation_error(("targetUrl", BAD_URL))
    return str(value)


def _check_fields(event: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TripletexError(422, 16000, validation=[("fields", "Ugyldig verdi.")])
    subject = event.split(".", 1)[0]
    if subject in DELIVERED:
        parse_fields(value, ENTITIES[subject][0])
    return value


def apply_body(sub: Subscription, body: Any, *, creating: bool) -> None:
    """Check a Subscription body and copy its writable fields onto ``sub`` (4xx if bad)."""
    if not isinstance(body, dict):
        raise TripletexError(422, 16000, developer_message="Expected a JSON object")
    for name in body:
        if name not in (*WRITABLE, "hmacSharedSecret", "id", "version", "url", "changes"):
            raise TripletexError(422, 16000, validation=[(name, "Feltet eksisterer ikke.")])
    event = body.get("event", None if creating else sub.event)
    if event not in EVENTS:
        raise validation_error(("event", UNKNOWN_EVENT))
    url = _check_url(body.get("targetUrl", None if creating else sub.target_url))
    status = body.get("status", sub.status)
    if status not in STATUSES:
        raise validation_error(("status", "Ugyldig verdi."))
    for name in ("authHeaderName", "authHeaderValue", "hmacSharedSecret"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise TripletexError(422, 16000, validation=[(name, "Ugyldig verdi.")])
    sub.fields = _check_fields(event, body.get("fields", None if creating else sub.fields))
    sub.event, sub.target_url = event, url
    if status == "ACTIVE" and sub.status != "ACTIVE":
        sub.failures = 0  # turned on again
    sub.status = status
    sub.auth_header_name = body.get("authHeaderName", sub.auth_header_name)
    sub.auth_header_value = body.get("authHeaderValue", sub.auth_header_value)
    sub.hmac_secret = body.get("hmacSharedSecret", sub.hmac_secret)


class WebhookHub:
    """Every subscription of a sandbox and the queue that delivers their events."""

    def __init__(self) -> None:
        self.subscriptions: dict[int, Subscription] = {}
        self.lock = threading.Lock()
        self.queue = DeliveryQueue(self._target, self._outcome)

    def owned(self, token: str) -> list[Subscription]:
        """The subscriptions an employee token made, oldest first."""
        return [s for s in self.subscriptions.values() if s.token == token]

    def remove(self, sub: Subscription) -> None:
        """Delete a subscription and what it still had to deliver."""
        self.subscriptions.pop(sub.id, None)
        self.queue.discard(sub.id)

    def notify(
        self, company: Company, entity: str, verb: str, rows: list[dict[str, Any]], host: str
    ) -> None:
        """Raise ``entity.verb`` for rows just written; every matching subscription gets one."""
        if entity not in DELIVERED:
            return
        event = f"{entity}.{verb}"
        with self.lock:
            listening = [
                s
                for s in self.subscriptions.values()
                if s.company_id == company.id and s.event == event and s.status == "ACTIVE"
            ]
        render = Renderer(company, host)
        for sub in listening:
            for row in rows:
                value = None
                if verb != "delete":
                    value = render.row(row, entity, parse_fields(sub.fields, ENTITIES[entity][0]))
                ident = row["id"]
                payload = {"subscriptionId": sub.id, "event": event, "id": ident, "value": value}
                self.queue.put(Delivery(sub.id, (sub.id, ident), payload))

    def _target(self, subscription_id: int) -> Target | None:
        sub = self.subscriptions.get(subscription_id)
        if sub is None or sub.status != "ACTIVE":
            return None
        auth = None
        if sub.auth_header_name and sub.auth_header_value is not None:
            auth = (sub.auth_header_name, sub.auth_header_value)
        return Target(sub.target_url, sub.hmac_secret, auth)

    def _outcome(self, subscription_id: int, delivered: bool) -> None:
        with self.lock:
            sub = self.subscriptions.get(subscription_id)
            if sub is None:
                return
            sub.failures = 0 if delivered else sub.failures + 1
            if sub.failures >= self.queue.knobs.disable_after_failures:
                sub.status = "DISABLED_TOO_MANY_ERRORS"
                self.queue.discard(sub.id)
