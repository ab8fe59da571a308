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
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

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
    """Raised to make uvicorn close the connection without a response."""


def install(app: FastAPI, injector: FaultInjector, tenant_of: Any) -> None:
    """Add the fault middleware, the request log and the ``/_admin/faults`` endpoints.

    ``tenant_of(request)`` names the tenant/company a request belongs to (or ``None``).
    """

    async def middleware(request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path.startswith("/_admin"):
            return await call_next(request)
        entry = LoggedRequest(request.method, path, request.url.query, tenant_of(request))
        injector.log.append(entry)
        fault = injector.pick(request.method, path)
        if fault is not None and fault.kind != "timeout_after":
            early = await _apply_before(fault)
            if early is not None:
                entry.status = early.status_code
                return early
        response = await call_next(request)
        entry.status = response.status_code
        if fault is not None and fault.kind == "timeout_after":
            await asyncio.sleep((fault.latency_ms or 30_000) / 1000)
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=middleware)
    app.include_router(admin_router(injector))


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
        return Response(
            content=b'{"status":500,"code":1000,"message":"Internal error (injected)"}',
            status_code=int(fault.kind),
            media_type="application/json",
        )
    if fault.kind == "timeout":
        await asyncio.sleep((fault.latency_ms or 30_000) / 1000)
        return Response(status_code=504)
    if fault.kind == "drop":
        raise _DropConnection
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
