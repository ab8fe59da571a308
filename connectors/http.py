"""The single HTTP policy every connector uses: timeouts, retries, rate-limit pacing, errors.

``ApiClient`` sends over an ``aiohttp`` connection pool. A request goes out as a :class:`Sent`
(its query encoded as httpx encodes one, its JSON body as httpx writes it) and each answer
comes back as an :class:`Answer`: the part of ``httpx.Response`` the connectors and their error
factories read (``status_code``, ``headers``, ``content``, ``json()``, ``text``,
``reason_phrase``, ``request``). Event hooks, which tests install, still get ``httpx.Request``
and ``httpx.Response`` copies. aiohttp's C parser costs a tenth of httpcore's CPU per request,
and building httpx's types for each exchange another ≈40 µs (docs/DECISIONS.md, "Where the
plan's seconds go (issue 24)").

Idempotent requests are retried with jittered exponential backoff on 5xx, connection errors and
timeouts; a non-idempotent request that was sent but got no answer raises
:class:`OutcomeUnknownError` (the caller reconciles by lookup). 429 is retried for any method
after ``Retry-After``/``X-Rate-Limit-Reset`` or a backoff. When ``X-Rate-Limit-Remaining`` runs
low, requests are spread over the seconds left in the window. No other 4xx is retried. Secrets
never reach a message, repr or log line.
"""

from __future__ import annotations

import asyncio
import functools
import json as jsonlib
import logging
import os
import random
import re
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
import certifi
import httpx
from yarl import URL

from connectors.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    FieldError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    SecretRedactor,
    StaleVersionError,
    TransientError,
    ValidationFailedError,
    error_class_for_status,
)

__all__ = [
    "Answer",
    "ApiClient",
    "ApiError",
    "AsyncClosing",
    "AuthenticationError",
    "ConflictError",
    "Connector",
    "FieldError",
    "HttpPolicy",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitedError",
    "RequestCounters",
    "Sent",
    "SharedConnections",
    "StaleVersionError",
    "TransientError",
    "ValidationFailedError",
    "default_error_factory",
    "request_id_of",
]

logger = logging.getLogger("connectors.http")

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
# Errors raised before any byte of the request left: safe to retry for every method (no
# connection was made, or none was free in time).
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
# Everything else that ends an exchange without an answer (a dropped or reset connection, a
# timeout while waiting for the answer, a truncated body).
_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")
# A path httpx would leave as it is (nothing to percent-encode or normalise): sent as written.
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)*")
_JSON_TYPE = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Sent:
    """A request as it went out: an :class:`Answer`'s ``request``."""

    method: str
    url: str  # percent-encoded, query included
    headers: Mapping[str, str]
    content: bytes = b""


class Answer:
    """An answer read whole, with what the connectors read of ``httpx.Response``."""

    __slots__ = ("content", "headers", "request", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, request: Sent
    ) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive (aiohttp's own mapping)
        self.content = content
        self.request = request

    def __repr__(self) -> str:
        return f"<Answer [{self.status_code}]>"

    def json(self) -> Any:
        """The body as JSON (``ValueError`` when it is not), read as httpx's ``json()`` read
        it (orjson would read an integer past 64 bits as a float)."""
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        """The body as text, in the charset the answer names (UTF-8 when it names none)."""
        charset = None
        kind = self.headers.get("content-type") or ""
        for part in kind.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"') or None
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    @property
    def reason_phrase(self) -> str:
        """The status's standard phrase ("Not Found"), as httpx gives it; "" for one unknown."""
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""


@dataclass(frozen=True)
class HttpPolicy:
    """How patient and how polite a client is (seconds unless named otherwise)."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_retries: int = 5
    backoff_base: float = 0.25
    backoff_max: float = 20.0
    jitter: float = 0.5  # fraction of each backoff that is randomised away (0 = none)
    pace_threshold: int = 10  # start pacing when X-Rate-Limit-Remaining falls below this
    max_connections: int = 10

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based), jittered."""
        delay = min(self.backoff_max, self.backoff_base * (2**attempt))
        fraction: float = (rng or random).random()
        return float(delay * (1 - self.jitter * fraction))


@dataclass
class RequestCounters:
    """How many HTTP requests were sent (retries included), in total and per endpoint."""

    total: int = 0
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)

    def count(self, endpoint: str) -> None:
        """Record one request sent to ``endpoint``."""
        self.total += 1
        self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def reset(self) -> None:
        """Start counting from zero."""
        self.total = 0
        self.retries = 0
        self.by_endpoint = {}


def request_id_of(response: Answer) -> str | None:
    """The server's id for this exchange (Tripletex: ``x-tlx-request-id``)."""
    headers = response.headers
    value: str | None = headers.get("x-tlx-request-id") or headers.get("x-request-id")
    return value


def default_error_factory(response: Answer) -> ApiError:
    """Turn a failed response into an :class:`ApiError` subclass, keeping the server's text."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    details = body if isinstance(body, dict) else {"body": response.text[:2000]}
    message = str(details.get("message") or details.get("detail") or response.reason_phrase)
    errors = details.get("validationMessages") or details.get("errors") or []
    field_errors = [
        FieldError(e.get("field"), str(e.get("message", "")), e.get("path"))
        for e in errors
        if isinstance(e, dict)
    ]
    cls = error_class_for_status(response.status_code)
    return cls(
        message,
        status=response.status_code,
        code=details.get("code"),
        request_id=request_id_of(response) or details.get("requestId"),
        details=details,
        field_errors=field_errors,
    )


def endpoint_name(method: str, path: str) -> str:
    """Counter name for a request: method and path with numeric ids as ``{id}``."""
    return f"{method.upper()} {_ID_SEGMENT.sub('/{id}', path.split('?')[0])}"


def _header_seconds(response: Answer, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Pacer:
    """Spreads requests out when the server says few remain in its rate window."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._next_slot = 0.0
        self._interval = 0.0

    async def wait_turn(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def observe(self, response: Answer) -> None:
        remaining = _header_seconds(response, "X-Rate-Limit-Remaining")
        reset = _header_seconds(response, "X-Rate-Limit-Reset")
        if remaining is None or reset is None or remaining >= self.threshold:
            self._interval = 0.0
            return
        self._interval = reset / (remaining + 1)
        self._next_slot = max(self._next_slot, time.monotonic() + self._interval)

    def block_for(self, seconds: float) -> None:
        self._next_slot = max(self._next_slot, time.monotonic() + seconds)


class AsyncClosing:
    """``async with`` support for anything with an ``aclose`` coroutine."""

    async def aclose(self) -> None:
        """Release the resources (overridden)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class Connector(AsyncClosing):
    """Base of each system's client: it owns one :class:`ApiClient` and closes it."""

    api: ApiClient

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api!r})"

    async def aclose(self) -> None:
        """Close the connections."""
        await self.api.aclose()


KEEPALIVE_SECONDS = 4.0  # below common server keep-alive (5 s): no stale sockets


class SharedConnections(AsyncClosing):
    """One keep-alive connection pool that many clients send over.

    A realtime window keeps two clients per tenant; with a pool each, every tick of a
    10,000-tenant fleet opened (and left in TIME_WAIT) two connections per tenant, because a
    connection idle for one tick interval has expired. Shared, the fleet's requests go over at
    most ``max_connections`` sockets per host that stay busy. Credentials travel in each
    request's headers (no cookies are kept), so a connection carries any tenant's request.
    """

    def __init__(self, max_connections: int = 100) -> None:
        self.max_connections = max_connections
        self._connector: aiohttp.TCPConnector | None = None

    def connector(self) -> aiohttp.TCPConnector:
        """The pool (made in the event loop that first uses it)."""
        if self._connector is None or self._connector.closed:
            self._connector = _connector(self.max_connections)
        return self._connector

    async def aclose(self) -> None:
        """Close every connection."""
        if self._connector is not None:
            await self._connector.close()
            self._connector = None


def _connector(limit: int) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(
        limit=limit, keepalive_timeout=KEEPALIVE_SECONDS, ssl=_certifi_context()
    )


@functools.cache
def _certifi_context() -> ssl.SSLContext:
    """TLS verified against certifi's CA bundle, as httpx did (a slim image may have no system
    bundle; ``SSL_CERT_FILE``/``SSL_CERT_DIR``, which httpx also honoured, take its place)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


def env_proxy(base_url: str) -> str | None:
    """The proxy the environment names for ``base_url`` (``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY``, ``NO_PROXY``), which httpx honoured; looked up once per client, not per
    request."""
    url = URL(base_url)
    proxies = urllib.request.getproxies()
    if not proxies or url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    return proxies.get(url.scheme) or proxies.get("all")


@functools.lru_cache(maxsize=16_384)
def _url(address: str, query: tuple[tuple[str, Any], ...]) -> str:
    """``address`` with ``query`` as httpx encodes it, built once: a quiet tick asks the same
    few URLs every time (the same poll per entity, the same feed cursor), and parsing and
    encoding one is most of what building a request costs."""
    return str(httpx.URL(address, params=dict(query) if query else None))


@functools.lru_cache(maxsize=16_384)
def _wire_url(url: str) -> URL:
    """The same URL for aiohttp, taken as encoded (it is percent-encoded already)."""
    return URL(url, encoded=True)


def _plain_base(base_url: str) -> str | None:
    """``base_url`` as httpx writes it, when a plain path appended to it is what httpx would
    make of the two (``None``: every URL of this client goes through httpx)."""
    probe = str(httpx.URL(base_url + "/_"))
    return probe[:-2] if probe.endswith("/_") and "?" not in probe else None


Authorizer = Callable[[str], str | None]
"""The ``Authorization`` header value for a request to this path (``None``: send none)."""
Hook = Callable[..., Awaitable[Any]]


class ApiClient(AsyncClosing):
    """An async HTTP client that applies :class:`HttpPolicy` to every request.

    ``event_hooks`` as httpx's: ``{"request": [...], "response": [...]}``, coroutines called
    with each attempt's request as an ``httpx.Request`` before it is sent and its answer as an
    ``httpx.Response`` (body read) before the policy looks at it. They are copies, made only
    when there are hooks.
    """

    def __init__(
        self,
        base_url: str,
        *,
        policy: HttpPolicy | None = None,
        auth: Authorizer | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        event_hooks: Mapping[str, list[Hook]] | None = None,
        error_factory: Callable[[Answer], ApiError] | None = None,
        system: str = "http",
        connections: SharedConnections | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._plain_base = _plain_base(self.base_url)
        self._shared = connections
        self._proxy = env_proxy(self.base_url)
        self.policy = policy or HttpPolicy()
        self.system = system
        self.counters = RequestCounters()
        self._redact = SecretRedactor()
        for secret in secrets:
            self.add_secret(secret)
        self._error_factory = error_factory or default_error_factory
        self._pacer = _Pacer(self.policy.pace_threshold)
        self._rng = random.Random()
        self._auth = auth
        # What httpx asked for (aiohttp decodes it): aiohttp would add "br" with brotli installed.
        self._headers = {"Accept-Encoding": "gzip, deflate"} | dict(headers or {})
        hooks = event_hooks or {}
        self._request_hooks = list(hooks.get("request", ()))
        self._response_hooks = list(hooks.get("response", ()))
        self._session: aiohttp.ClientSession | None = None  # made in the loop that uses it

    def __repr__(self) -> str:
        return f"ApiClient(system={self.system!r}, base_url={self.base_url!r})"

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            policy = self.policy
            shared = self._shared
            self._session = aiohttp.ClientSession(
                connector=shared.connector() if shared else _connector(policy.max_connections),
                connector_owner=shared is None,
                # httpx's meaning: a connection within `timeout` (the pool's wait), the socket
                # connected within `connect_timeout`, and no more than `timeout` between reads.
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=policy.timeout,
                    sock_connect=policy.connect_timeout,
                    sock_read=policy.timeout,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            # aiohttp resends an idempotent request once, unseen, when a connection drops; the
            # policy alone retries, so that every request sent is counted and logged (it has
            # no public switch: tests/test_svenn_connector_faults.py holds this).
            self._session._retry_connection = False
        return self._session

    def add_secret(self, value: str | None) -> None:
        """Register a value that must never appear in a message or log line."""
        self._redact.add(value)

    def redact(self, text: str) -> str:
        """``text`` with every registered secret removed."""
        return self._redact(text)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> Sent:
        """The request as httpx would encode it (query, JSON body, headers)."""
        merged = self._headers | dict(headers or {}) if headers else self._headers
        if self._auth is not None:
            value = self._auth(path)
            if value is not None:
                merged = merged | {"Authorization": value}
        address = self.base_url + path
        if params:
            query = tuple(params.items())
            try:
                url = _url(address, query)
            except TypeError:  # a list among the values: not a cache key
                url = _url.__wrapped__(address, query)
        elif self._plain_base is not None and _PLAIN_PATH.fullmatch(path):
            url = self._plain_base + path  # one URL per record: parsing each was ≈15 µs
        else:
            url = _url(address, ())
        if json is None:
            return Sent(method, url, merged)
        body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return Sent(method, url, merged | _JSON_TYPE, body.encode())

    async def _send(self, request: Sent) -> Answer:
        """One exchange over the pool; the answer read whole."""
        copy = _httpx_request(request) if self._request_hooks or self._response_hooks else None
        for hook in self._request_hooks:
            await hook(copy)
        async with self._pool().request(
            request.method,
            _wire_url(request.url),
            headers=request.headers,
            data=request.content or None,
            allow_redirects=False,
            proxy=self._proxy,
        ) as answer:
            response = Answer(answer.status, answer.headers, await answer.read(), request)
        for hook in self._response_hooks:
            await hook(_httpx_response(response, copy))
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        endpoint: str | None = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """Send one logical request (retrying as the policy allows); raise ApiError on failure."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        name = endpoint or endpoint_name(method, path)
        attempt = 0
        while True:
            await self._pacer.wait_turn()
            self.counters.count(name)
            started = time.monotonic()
            request = self._build(method, path, params, json, headers)
            try:
                response = await self._send(request)
            except _TRANSPORT_ERRORS as exc:
                error = self._transport_error(exc, method, path, safe)
                if isinstance(error, OutcomeUnknownError) or attempt >= self.policy.max_retries:
                    raise error from None
                delay = self.policy.backoff(attempt, self._rng)
            else:
                self._remember_auth(response)
                self._pacer.observe(response)
                self._log_response(name, response, started)
                if response.status_code < 400:
                    return response
                error = self._error_for(response, method, path)
                if response.status_code >= 500 and not safe:
                    # The server may have applied the write before failing: the caller looks
                    # it up before sending again (never blindly repeated).
                    raise self._outcome_unknown(error) from None
                retry_in = self._retry_delay(response, attempt, safe)
                if retry_in is None:
                    raise error
                delay = retry_in
            attempt += 1
            self.counters.retries += 1
            logger.warning(
                "%s %s: %s; retry %d/%d in %.2fs",
                self.system,
                name,
                error,
                attempt,
                self.policy.max_retries,
                delay,
            )
            await asyncio.sleep(delay)

    def _retry_delay(self, response: Answer, attempt: int, safe: bool) -> float | None:
        if attempt >= self.policy.max_retries:
            return None
        status = response.status_code
        if status == 429:
            wait = _header_seconds(response, "Retry-After")
            if wait is None:
                wait = _header_seconds(response, "X-Rate-Limit-Reset")
            if wait is None:
                wait = self.policy.backoff(attempt, self._rng)
            wait = min(wait, self.policy.backoff_max)
            self._pacer.block_for(wait)
            return wait
        if status >= 500 and safe:
            return self.policy.backoff(attempt, self._rng)
        return None

    def _error_for(self, response: Answer, method: str, path: str) -> ApiError:
        error = self._error_factory(response)
        error.method, error.path = method, path
        if error.request_id is None:
            error.request_id = request_id_of(response)
        error.redact(self._redact)
        return error

    @staticmethod
    def _outcome_unknown(error: ApiError) -> OutcomeUnknownError:
        return OutcomeUnknownError(
            f"a non-idempotent request failed with HTTP {error.status}; it may have been "
            f"applied ({error.message})",
            status=error.status,
            code=error.code,
            request_id=error.request_id,
            details=error.details,
            field_errors=error.field_errors,
            method=error.method,
            path=error.path,
        )

    def _transport_error(self, exc: Exception, method: str, path: str, safe: bool) -> ApiError:
        kind = type(exc).__name__
        text = self._redact(f"{kind}: {exc}" if str(exc) else kind)
        if safe or isinstance(exc, _NOT_SENT):
            return TransientError(text, method=method, path=path)
        return OutcomeUnknownError(
            f"no answer to a non-idempotent request ({text}); it may have been applied",
            method=method,
            path=path,
        )

    def _remember_auth(self, response: Answer) -> None:
        for name, value in response.request.headers.items():
            if value and name.lower() == "authorization":
                self._redact.add(value)
                self._redact.add(value.partition(" ")[2])

    def _log_response(self, name: str, response: Answer, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.0f ms (%s)",
                self.system,
                self._redact(f"{name} {urlsplit(response.request.url).query}".strip()),
                response.status_code,
                (time.monotonic() - started) * 1000,
                request_id_of(response) or "-",
            )


def _httpx_request(request: Sent) -> httpx.Request:
    """The request as an ``httpx.Request``, for an event hook."""
    return httpx.Request(
        request.method, request.url, headers=request.headers, content=request.content
    )


def _httpx_response(answer: Answer, request: httpx.Request | None) -> httpx.Response:
    """The answer as an ``httpx.Response`` (body read, already decoded), for an event hook;
    ``request`` is the copy the request hooks saw, if one was made."""
    headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-encoding"]
    return httpx.Response(
        answer.status_code,
        headers=headers,
        content=answer.content,
        request=request or _httpx_request(answer.request),
    )
