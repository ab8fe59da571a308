"""A ceiling on request bodies: a body over the limit is answered 413 in one sentence, from its
``Content-Length`` before a byte of it is read, or, for a body sent without a length (chunked),
as soon as what arrived passes the limit. Nothing is parsed or stored either way.

Pure ASGI, behind the bearer gate (an unauthenticated caller gets 401 whatever it sends).
"""

from __future__ import annotations

import json

from intake.auth import ASGIApp, Message, Receive, Scope, Send, send_json

MAX_BODY_BYTES = 64 * 1024


def too_large_body(limit: int) -> bytes:
    """The 413 answer's body."""
    return json.dumps(
        {
            "code": "BODY_TOO_LARGE",
            "message": f"The body is larger than {limit // 1024} KiB; send a smaller one.",
        }
    ).encode()


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """Refuses bodies over ``limit`` bytes with 413 before they are read (or as they arrive)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        received = 0
        exceeded = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:  # what follows is not read: the app sees an ended, empty body
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def answered(message: Message) -> None:
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start":  # the app's answer is replaced
                await self._refuse(send)

        await self.app(scope, counted, answered)

    async def _refuse(self, send: Send) -> None:
        await send_json(send, 413, too_large_body(self.limit), (b"connection", b"close"))
