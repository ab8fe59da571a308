"""The intake's bearer gate: a caller without Svenn's backend token is refused before its body
is read, so an unauthenticated caller learns nothing about what a body should hold.

A pure ASGI middleware rather than a FastAPI dependency: FastAPI reads and parses the body before
it solves dependencies, so a wrong token with a malformed body would be answered 422.
Open paths carry their own proof instead of the token: the OpenAPI document, the tenant's Logg
page (a signed, expiring link) and webhook deliveries (an HMAC signature).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = re.compile(r"^/openapi\.json$|^/webhooks/|^/tenants/[^/]+/logg(/|$)")

UNAUTHENTICATED = {"code": "UNAUTHENTICATED", "message": "Send the intake's bearer token."}


def is_open(path: str) -> bool:
    """Whether ``path`` proves its caller otherwise than by the bearer token."""
    return OPEN_PATHS.search(path) is not None


def bearer_matches(headers: list[tuple[bytes, bytes]], expected: bytes) -> bool:
    """Whether the ``Authorization`` header holds ``Bearer <expected>`` (constant-time)."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.partition(b" ")
            return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), expected)
    return False


class BearerGate:
    """Refuses every HTTP request to a closed path without the bearer token, body unread."""

    def __init__(self, app: ASGIApp, token: bytes) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        if bearer_matches(scope.get("headers", []), self.token):
            await self.app(scope, receive, send)
            return
        body = json.dumps(UNAUTHENTICATED).encode()
        await send_json(send, 401, body, (b"www-authenticate", b"Bearer"))


async def send_json(send: Send, status: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
    """Answer a request at the ASGI level with a JSON ``body`` (the app never sees it)."""
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*start, *headers]})
    await send({"type": "http.response.body", "body": body})
