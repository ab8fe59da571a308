"""Fault injection and a request log shared by both sandboxes.

Faults are set at start (``--fault`` options) or at runtime through ``/_admin/faults``. Each
fault applies to requests whose method and path match, either to a ``count`` of requests or to
a ``rate`` (fraction) of them:

- ``latency``: sleep ``latency_ms`` before answering;
- ``429``: answer 429 (with no ``X-Rate-Limit-Reset``, as Tripletex does);
- ``500``/``503``: answer with that status;
- ``timeout``: hold the request for ``latency_ms`` (default 30 s), then answer 504;
- ``drop``: close the connection without an answer;
- ``timeout_after``: *perform* the request, then hold the answer (a write that may have
  happened: the client times out, yet the record exists).

The request log records what each sandbox received, so that tests can prove, for example,
that no write reached a system before approval.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from sandboxes import mutations

FaultKind = Literal["latency", "429", "500", "503", "timeout", "drop", "timeout_after"]
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultSpec(BaseModel):
    """One fault rule, as accepted by ``POST /_admin/faults``."""

    kind: FaultKind
    rate: float | None = Field(default=None, ge=0, le=1)
    count: int | None = Field(default=None, ge=0)
    method: str | None = None
    path_prefix: str | None = None
    latency_ms: int = Field(default=0, ge=0)


@dataclass
class _Fault:
    spec: FaultSpec
    remaining: int | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.spec.method and self.spec.method.upper() != method:
            return False
        return not (self.spec.path_prefix and not path.startswith(self.spec.path_prefix))

    def fires(self, rng: random.Random) -> bool:
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True
        rate = 1.0 if self.spec.rate is None else self.spec.rate
        return rng.random() < rate


@dataclass
class LoggedRequest:
    """One request as the sandbox received it (no headers: they carry secrets)."""

    method: str
    path: str
    query: str
    tenant: str | None
    status: int | None = None
    at: float = field(default_factory=time.time)  # arrival, seconds since the epoch


@dataclass
class FaultInjector:
    """Holds the active faults and the request log of one sandbox."""

    seed: int | None = None
    faults: list[_Fault] = field(default_factory=list)
    log: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=200_000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, spec: FaultSpec) -> None:
        """Activate a fault."""
        with self._lock:
            self.faults.append(_Fault(spec, spec.count))

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self.faults.clear()

    def pick(self, method: str, path: str) -> FaultSpec | None:
        """The fault (if any) that applies to this request; consumes one of its count."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path) and fault.fires(self._rng):
                    return fault.spec
        return None

    def writes(self) -> list[LoggedRequest]:
        """Every logged request that could have changed data."""
        return [r for r in self.log if r.method in WRITE_METHODS]


class _DropConnection(Exception):
    """Raised when the connection could not be aborted directly (uvicorn then closes it)."""


def install(app: FastAPI, injector: FaultInjector, tenant_of: Any) -> None:
    """Add the fault middleware, the request log and the ``/_admin/faults`` endpoints.

    ``tenant_of(request)`` names the tenant/company a request belongs to (or ``None``).
    The middleware is pure ASGI (not ``BaseHTTPMiddleware``), so that ``drop`` can close the
    connection without any answer and ``timeout_after`` can finish the write first.
    """
    app.add_middleware(FaultMiddleware, injector=injector, tenant_of=tenant_of)
    app.include_router(admin_router(injector))
    mutations.install(app)  # records served malformed on request (robustness tests)


class FaultMiddleware:
    """Logs each request and applies the first matching fault."""

    def __init__(self, app: Any, injector: FaultInjector, tenant_of: Any) -> None:
        self.app = app
        self.injector = injector
        self.tenant_of = tenant_of

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_admin"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path, method = scope["path"], scope["method"]
        entry = LoggedRequest(method, path, request.url.query, _tenant(self.tenant_of, request))
        self.injector.log.append(entry)
        fault = self.injector.pick(method, path)

        async def logging_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        if fault is None:
            await self.app(scope, receive, logging_send)
        elif fault.kind == "drop":
            await _drop(receive, send)
        elif fault.kind == "timeout_after":
            await self._delayed(scope, receive, logging_send, fault)
        else:
            early = await _apply_before(fault)
            if early is None:
                await self.app(scope, receive, logging_send)
            else:
                await early(scope, receive, logging_send)  # type: ignore[arg-type]

    async def _delayed(self, scope: Any, receive: Any, send: Any, fault: FaultSpec) -> None:
        """Run the request to completion (the write happens), then hold the answer."""
        held: list[dict[str, Any]] = []

        async def hold(message: dict[str, Any]) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep((fault.latency_ms or 30_000) / 1000)
        for message in held:
            await send(message)


def _tenant(tenant_of: Any, request: Request) -> str | None:
    try:
        tenant = tenant_of(request)
    except Exception:
        return None
    return None if tenant is None else str(tenant)


async def _drop(receive: Any, send: Any) -> None:
    """Close the connection without a byte of answer.

    uvicorn answers 500 to any exception raised before a response starts, so the transport
    is aborted directly (uvicorn's ``receive`` is a bound method of its request cycle, which
    holds the transport). Elsewhere: start a response and fail, which also cuts the connection.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0.01)  # let uvicorn see the disconnect, so it sends nothing
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise _DropConnection


async def _apply_before(fault: FaultSpec) -> Response | None:
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind == "429":
        return Response(
            content=b'{"status":429,"code":0,"message":"Too Many Requests"}',
            status_code=429,
            media_type="application/json",
        )
    if fault.kind in ("500", "503"):
        status = int(fault.kind)
        return Response(
            content=b'{"status":%d,"code":1000,"message":"Internal error (injected)"}' % status,
            status_code=status,
            media_type="application/json",
        )
    if fault.kind == "timeout":
        await asyncio.sleep((fault.latency_ms or 30_000) / 1000)
        return Response(status_code=504)
    return None


def admin_router(injector: FaultInjector) -> APIRouter:
    """``/_admin/faults`` (GET, POST, DELETE) and ``/_admin/requests`` (GET, DELETE)."""
    router = APIRouter(prefix="/_admin")

    @router.get("/faults")
    def list_faults() -> list[dict[str, Any]]:
        return [f.spec.model_dump() | {"remaining": f.remaining} for f in injector.faults]

    @router.post("/faults", status_code=201)
    def add_fault(spec: FaultSpec) -> dict[str, Any]:
        injector.add(spec)
        return spec.model_dump()

    @router.delete("/faults", status_code=204)
    def clear_faults() -> None:
        injector.clear()

    @router.get("/requests")
    def list_requests(writes_only: bool = False) -> list[dict[str, Any]]:
        rows = injector.writes() if writes_only else list(injector.log)
        return [asdict(r) for r in rows]

    @router.delete("/requests", status_code=204)
    def clear_requests() -> None:
        injector.log.clear()

    return router


def parse_fault_option(text: str) -> FaultSpec:
    """Parse ``--fault kind[:key=value,...]``, e.g. ``429:count=3,path_prefix=/v2/customer``."""
    kind, _, rest = text.partition(":")
    options: dict[str, Any] = {"kind": kind}
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        options[key.strip()] = value.strip()
    return FaultSpec.model_validate(options)
