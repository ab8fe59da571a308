"""Pure ASGI middleware: request id, Basic-auth sessions, entitlements and rate limits."""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import TripletexError, forbidden, unauthorized
from .state import Sandbox, Session

OPEN_PATHS = ("/v2/token/session/:create",)
AREA_OF_PREFIX = {
    "customer": "customer",
    "employee": "employee",
    "department": "employee",
    "project": "project",
    "activity": "activity",
    "timesheet": "timesheet",
    "event": "event",
}
INVALID_USERNAME = (
    "Authorization header has invalid username: {}. Should be a customer id or 0 for default. "
    "The expected format is base64encoded(<<companyId>>:<<sessionToken>>)"
)


@dataclass
class RateLimiter:
    """A fixed window per employee token (``limit`` <= 0 means no limit)."""

    limit: int
    window: float
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def hit(self, key: str) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Count one request; returns (allowed, headers to send)."""
        if self.limit <= 0:
            return True, []
        now = time.monotonic()
        start, used = self.windows.get(key, (now, 0))
        if now - start >= self.window:
            start, used = now, 0
        used += 1
        self.windows[key] = (start, used)
        allowed = used <= self.limit
        headers = [
            (b"x-rate-limit-limit", str(self.limit).encode()),
            (b"x-rate-limit-remaining", str(max(0, self.limit - used)).encode()),
        ]
        if allowed:  # Tripletex leaves the reset header off its 429s (FACTS §4)
            reset = max(0, math.ceil(self.window - (now - start)))
            headers.append((b"x-rate-limit-reset", str(reset).encode()))
        return allowed, headers


def basic_credentials(headers: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic`` header, if present."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, sep, password = decoded.partition(":")
            return (user, password) if sep else None
    return None


def session_of(sandbox: Sandbox, headers: list[tuple[bytes, bytes]]) -> Session:
    """The live session a request authenticates with, or a 401 TripletexError."""
    credentials = basic_credentials(headers)
    if credentials is None:
        raise unauthorized("No valid Authorization header (Basic auth with the session token)")
    user, token = credentials
    session = sandbox.session(token)
    if session is None:
        raise unauthorized("Invalid or expired session token")
    if user not in ("", "0") and user != str(session.employee_token.company_id):
        raise unauthorized(INVALID_USERNAME.format(user))
    return session


class TripletexEdge:
    """Adds ``x-tlx-request-id`` and rate-limit headers; refuses unauthenticated calls."""

    def __init__(self, app: Any, sandbox: Sandbox, limiter: RateLimiter) -> None:
        self.app = app
        self.sandbox = sandbox
        self.limiter = limiter

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        extra = [(b"x-tlx-request-id", request_id.encode())]
        try:
            extra += self._admit(scope, state)
        except TripletexError as error:
            await _send_error(send, error, request_id, extra + error.headers)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _admit(self, scope: dict[str, Any], state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
        path = scope["path"]
        if path.startswith(OPEN_PATHS):
            return []
        session = session_of(self.sandbox, scope["headers"])
        token = session.employee_token
        state["session"] = session
        allowed, headers = self.limiter.hit(token.token)
        if not allowed:
            error = TripletexError(
                429, 0, message="Too Many Requests", developer_message="Rate limit exceeded"
            )
            error.headers = headers
            raise error
        area = AREA_OF_PREFIX.get(path[len("/v2/") :].split("/", 1)[0])
        if area is not None and not token.allows(area):
            error = forbidden()
            error.headers = headers
            raise error
        return headers


async def _send_error(
    send: Any, error: TripletexError, request_id: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(error.body(request_id)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
