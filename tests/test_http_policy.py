"""The shared HTTP policy over real HTTP against a tiny FastAPI app."""

from __future__ import annotations

import asyncio
import gzip
import logging
import ssl
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import certifi
import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from hypothesis import given
from hypothesis import strategies as st

from connectors.errors import ApiError
from connectors.http import (
    ApiClient,
    AuthenticationError,
    ConflictError,
    HttpPolicy,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitedError,
    SharedConnections,
    TransientError,
    ValidationFailedError,
    _certifi_context,
    env_proxy,
)
from sandboxes.runner import free_port, serve_in_thread

SECRET = "s3cr3t-employee-token-abc"
# Quick backoff; timeouts long enough for the test server (a thread of this process) to answer
# on a loaded machine: a late answer is no timeout these tests mean (those that time out set
# their own, short one against the slow endpoint).
FAST = HttpPolicy(timeout=30, connect_timeout=30, backoff_base=0.01, backoff_max=0.05)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app() -> FastAPI:
    app = FastAPI()
    hits: Counter[str] = Counter()
    app.state.hits = hits

    @app.api_route("/flaky/{failures}", methods=["GET", "POST"])
    async def flaky(failures: int, request: Request) -> Response:
        key = f"{request.method} flaky {request.query_params.get('key', '')}"
        hits[key] += 1
        if hits[key] <= failures:
            return JSONResponse({"message": "Intern feil"}, status_code=500)
        return JSONResponse({"ok": True, "attempts": hits[key]})

    @app.api_route("/limited", methods=["GET", "POST"])
    async def limited(request: Request) -> Response:
        hits["limited"] += 1
        if hits["limited"] == 1:
            headers = {}
            if request.query_params.get("retry_after"):
                headers["Retry-After"] = request.query_params["retry_after"]
            return JSONResponse({"message": "Too Many Requests"}, 429, headers=headers)
        return JSONResponse({"ok": True})

    @app.api_route("/always-limited", methods=["GET", "POST"])
    async def always_limited() -> Response:
        return JSONResponse({"message": "Too Many Requests"}, 429)

    @app.get("/paced")
    async def paced() -> Response:
        hits["paced"] += 1
        headers = {"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": "1"}
        return JSONResponse({"ok": True}, headers=headers)

    @app.api_route("/slow", methods=["GET", "POST"])
    async def slow(request: Request) -> Response:
        hits[f"{request.method} slow"] += 1
        await asyncio.sleep(2)
        return JSONResponse({"ok": True})

    @app.get("/body/{kind}")
    async def body(kind: str) -> Response:
        """Answers whose reading is not plain UTF-8 JSON."""
        kinds: dict[str, tuple[bytes, dict[str, str]]] = {
            "gzip": (
                gzip.compress('{"navn": "Bjørn", "n": 1.5}'.encode()),
                {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            ),
            "latin1": ("Bjørn".encode("latin-1"), {"Content-Type": "text/plain; charset=latin-1"}),
            "nan": (b'{"x": NaN, "y": Infinity}', {"Content-Type": "application/json"}),
            "bigint": (b'{"x": 123456789012345678901234567890}', {}),
            "empty": (b"", {"Content-Type": "application/json"}),
            "utf16": ('{"x": "ø"}'.encode("utf-16"), {"Content-Type": "application/json"}),
            "broken": (b'{"x": ', {"Content-Type": "application/json"}),
            "odd-status": (b"{}", {"X-Status": "299"}),
        }
        content, headers = kinds[kind]
        return Response(content, 299 if kind == "odd-status" else 200, headers=headers)

    @app.get("/peer")
    async def peer(request: Request) -> Response:
        client = request.client
        return JSONResponse({"port": client.port if client else None})

    @app.api_route("/status/{status}", methods=["GET", "POST", "PUT"])
    async def status(status: int, request: Request) -> Response:
        hits[f"status {status}"] += 1
        body = {
            "status": status,
            "code": 18000,
            "message": f"Validering feilet. Token {SECRET} er ugyldig.",
            "validationMessages": [
                {"field": "name", "message": "Feltet må fylles ut.", "path": "values[0].name"}
            ],
        }
        auth = request.headers.get("authorization")
        if auth:
            body["developerMessage"] = f"Header was {auth}"
        return JSONResponse(body, status, headers={"x-tlx-request-id": "req-42"})

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, FastAPI]]:
    app = make_app()
    with serve_in_thread(app) as url:
        yield url, app


@pytest.fixture
def hits(server: tuple[str, FastAPI]) -> Counter[str]:
    counter: Counter[str] = server[1].state.hits
    counter.clear()
    return counter


def client(url: str, **kwargs: Any) -> ApiClient:
    kwargs.setdefault("policy", FAST)
    return ApiClient(url, **kwargs)


@pytest.mark.anyio
async def test_get_is_retried_after_500_until_it_succeeds(server, hits) -> None:
    async with client(server[0]) as api:
        response = await api.request("GET", "/flaky/2")
    assert response.json() == {"ok": True, "attempts": 3}
    assert api.counters.total == 3
    assert api.counters.retries == 2
    assert api.counters.by_endpoint == {"GET /flaky/{id}": 3}


@pytest.mark.anyio
async def test_post_is_not_retried_after_500_and_its_outcome_is_unknown(server, hits) -> None:
    async with client(server[0]) as api:
        with pytest.raises(OutcomeUnknownError) as caught:
            await api.request("POST", "/flaky/1", json={})
    assert hits["POST flaky "] == 1
    assert caught.value.status == 500
    assert caught.value.retryable


@pytest.mark.anyio
async def test_get_gives_up_after_max_retries(server, hits) -> None:
    policy = HttpPolicy(backoff_base=0.01, backoff_max=0.02, max_retries=2)
    async with client(server[0], policy=policy) as api:
        with pytest.raises(TransientError):
            await api.request("GET", "/flaky/10", params={"key": "giveup"})
    assert hits["GET flaky giveup"] == 3


@pytest.mark.anyio
async def test_429_without_reset_header_is_retried_with_backoff_even_for_post(server, hits) -> None:
    async with client(server[0]) as api:
        response = await api.request("POST", "/limited", json={}, endpoint="limited")
    assert response.status_code == 200
    assert api.counters.by_endpoint == {"limited": 2}


@pytest.mark.anyio
async def test_429_waits_for_retry_after(server, hits) -> None:
    policy = HttpPolicy(backoff_base=0.01, backoff_max=5)
    started = time.monotonic()
    async with client(server[0], policy=policy) as api:
        await api.request("GET", "/limited", params={"retry_after": "0.6"})
    assert time.monotonic() - started >= 0.55


@pytest.mark.anyio
async def test_persistent_429_raises_rate_limited(server, hits) -> None:
    async with client(server[0], policy=HttpPolicy(backoff_base=0.01, max_retries=2)) as api:
        with pytest.raises(RateLimitedError) as caught:
            await api.request("POST", "/always-limited", json={})
    assert caught.value.retryable
    assert api.counters.total == 3


@pytest.mark.anyio
async def test_low_remaining_spreads_requests_over_the_reset_window(server, hits) -> None:
    policy = HttpPolicy(pace_threshold=5)
    started = time.monotonic()
    async with client(server[0], policy=policy) as api:
        for _ in range(3):
            await api.request("GET", "/paced")
    # remaining 1, reset 1 s → one request every 0.5 s after the first answer
    assert time.monotonic() - started >= 0.9


@pytest.mark.anyio
async def test_post_timeout_raises_outcome_unknown_without_resending(server, hits) -> None:
    policy = HttpPolicy(timeout=0.5, backoff_base=0.01, backoff_max=0.05)
    async with client(server[0], policy=policy) as api:
        with pytest.raises(OutcomeUnknownError) as caught:
            await api.request("POST", "/slow", json={"name": "x"})
    assert hits["POST slow"] == 1
    assert caught.value.retryable


@pytest.mark.anyio
async def test_get_timeout_is_retried_then_transient(server, hits) -> None:
    policy = HttpPolicy(timeout=0.2, backoff_base=0.01, max_retries=1)
    async with client(server[0], policy=policy) as api:
        with pytest.raises(TransientError):
            await api.request("GET", "/slow")
    assert hits["GET slow"] == 2


@pytest.mark.anyio
async def test_refused_connection_is_retried_even_for_post() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    policy = HttpPolicy(backoff_base=0.01, max_retries=2)
    async with ApiClient(url, policy=policy) as api:
        with pytest.raises(TransientError):
            await api.request("POST", "/anything", json={})
    assert api.counters.total == 3


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, ValidationFailedError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (412, PreconditionFailedError),
        (422, ValidationFailedError),
    ],
)
@pytest.mark.anyio
async def test_4xx_maps_to_typed_error_and_is_never_retried(
    server, hits, status: int, error_type: type[Exception]
) -> None:
    async with client(server[0]) as api:
        with pytest.raises(error_type) as caught:
            await api.request("PUT", f"/status/{status}", json={})
    assert hits[f"status {status}"] == 1
    error = caught.value
    assert isinstance(error, ApiError)
    assert error.status == status
    assert error.code == 18000
    assert error.request_id == "req-42"
    assert not error.retryable


@pytest.mark.anyio
async def test_error_keeps_norwegian_text_and_field_errors(server, hits) -> None:
    async with client(server[0]) as api:
        with pytest.raises(ValidationFailedError) as caught:
            await api.request("POST", "/status/422", json={})
    error = caught.value
    assert "Validering feilet." in error.message
    assert error.field_errors[0].field == "name"
    assert error.field_errors[0].message == "Feltet må fylles ut."
    assert error.field_errors[0].path == "values[0].name"


@pytest.mark.anyio
async def test_secrets_and_auth_header_never_appear_in_errors_or_logs(
    server, hits, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="connectors.http")
    header = httpx.BasicAuth("0", "session-token-xyz-789")._auth_header

    def auth(path: str) -> str:
        return header

    async with client(server[0], secrets=[SECRET], auth=auth) as api:
        with pytest.raises(ValidationFailedError) as caught:
            await api.request("POST", "/status/422", params={"t": SECRET}, json={})
        await api.request("GET", "/flaky/1", params={"key": SECRET})
    error = caught.value
    texts = [str(error), repr(error), error.message, str(error.details), caplog.text]
    for text in texts:
        assert SECRET not in text
        assert "session-token-xyz-789" not in text
        assert "MDpzZXNzaW9u" not in text  # base64 of "0:session..."
    assert "***" in error.message
    assert "WARNING" in caplog.text  # the 500 retry was logged


@pytest.mark.anyio
async def test_response_event_hooks_see_every_attempt(server, hits) -> None:
    seen: list[int] = []

    async def hook(response: httpx.Response) -> None:
        seen.append(response.status_code)

    async with client(server[0], event_hooks={"response": [hook]}) as api:
        await api.request("GET", "/flaky/1", params={"key": "hook"})
    assert seen == [500, 200]


BODIES = ["gzip", "latin1", "nan", "bigint", "empty", "utf16", "broken", "odd-status"]


@pytest.mark.anyio
async def test_an_answer_reads_as_httpx_reads_the_same_response(server) -> None:
    """The connectors read an :class:`~connectors.http.Answer` where they read httpx's response:
    its JSON, text, reason phrase and headers are what httpx makes of the same bytes (gzip,
    another charset, NaN, integers past 64 bits, UTF-16, an empty or broken body); a response
    hook still gets an httpx response, decoded."""
    hooked: list[httpx.Response] = []

    async def hook(response: httpx.Response) -> None:
        hooked.append(response)

    def read(response: Any) -> tuple[Any, ...]:
        try:
            body = response.json()
        except ValueError:
            body = ValueError
        return (
            response.status_code,
            body,
            response.text,
            response.reason_phrase,
            response.headers.get("content-type"),
            response.headers.get("CONTENT-TYPE"),
        )

    async with (
        client(server[0], event_hooks={"response": [hook]}) as api,
        httpx.AsyncClient(base_url=server[0]) as plain,
    ):
        for kind in BODIES:
            ours = await api.request("GET", f"/body/{kind}")
            theirs = await plain.get(f"/body/{kind}")
            assert read(ours) == read(theirs), kind
            assert read(hooked[-1]) == read(theirs), kind
            assert ours.request.url == str(theirs.request.url)
    assert read(hooked[0])[1] == {"navn": "Bjørn", "n": 1.5}


def test_backoff_grows_and_is_capped() -> None:
    policy = HttpPolicy(backoff_base=0.25, backoff_max=20, jitter=0)
    assert [policy.backoff(n) for n in range(4)] == [0.25, 0.5, 1.0, 2.0]
    assert policy.backoff(20) == 20
    jittered = HttpPolicy(jitter=0.5).backoff(2)
    assert 0.5 <= jittered <= 1.0


@pytest.mark.anyio
async def test_clients_on_shared_connections_send_over_one_kept_connection(server) -> None:
    """A realtime window's clients (one per tenant and system) share one pool: two tenants'
    requests in turn go over the same connection, which outlives each client."""
    shared = SharedConnections()
    try:
        ports = []
        for tenant in ("a", "b", "c"):
            async with client(server[0], connections=shared, headers={"X-Tenant": tenant}) as api:
                ports.append((await api.request("GET", "/peer")).json()["port"])
        assert len(set(ports)) == 1, ports
    finally:
        await shared.aclose()
    ports = []
    for _ in range(2):
        async with client(server[0]) as api:
            ports.append((await api.request("GET", "/peer")).json()["port"])
    assert len(set(ports)) == 2, "a client of its own keeps its own connections"


VALUES = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=5), min_size=1, max_size=3),
)


PATHS = st.one_of(
    st.sampled_from(
        [
            *("/customer", "/token/session/>whoAmI", "/changes", "/customer/12", "", "/"),
            *("/a.b", "/customer//1", "/x/../y", "/./z", "/æ", "/a b", "/a%2Fb", "/v?x=1", "/a#b"),
        ]
    ),
    st.lists(st.text(max_size=6), max_size=3).map(lambda parts: "".join("/" + p for p in parts)),
)


@given(
    base=st.sampled_from(["http://127.0.0.1:1/v2", "http://LOCALHOST:80", "https://h.no/api/v1/"]),
    path=PATHS,
    params=st.dictionaries(st.text(min_size=1, max_size=8), VALUES, max_size=4),
)
def test_a_request_url_is_what_httpx_makes_of_the_same_parameters(
    base: str, path: str, params: dict[str, Any]
) -> None:
    """The request URL is built once per path and query (a quiet tick asks the same ones every
    time), a plain path without a query is appended to the base as written; either way it is
    httpx's own encoding of them, lists and flags included."""
    api = ApiClient(base, policy=FAST)
    try:
        expected = httpx.Request("GET", base.rstrip("/") + path, params=params).url
    except httpx.InvalidURL:  # a control character: refused as before
        with pytest.raises(httpx.InvalidURL):
            api._build("GET", path, params, None, None)
        return
    assert api._build("GET", path, params, None, None).url == str(expected)


@given(body=st.recursive(VALUES, lambda inner: st.dictionaries(st.text(max_size=5), inner)))
def test_a_json_body_is_the_bytes_httpx_sends(body: Any) -> None:
    """A JSON body goes out as httpx wrote it, with its content type (``None``: no body)."""
    api = ApiClient("http://127.0.0.1:1/v2", policy=FAST)
    sent = api._build("PUT", "/customer/1", None, body, None)
    expected = httpx.Request("PUT", "http://127.0.0.1:1/v2/customer/1", json=body)
    assert sent.content == expected.content
    assert sent.headers.get("Content-Type") == expected.headers.get("content-type")


@pytest.mark.anyio
async def test_a_proxy_named_by_the_environment_carries_the_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY/HTTP_PROXY and NO_PROXY are honoured, as httpx honoured them: the request
    goes to the proxy in absolute form, unless the host is exempt."""
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0])
        body = b'{"ok": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    async with server, ApiClient("http://tripletex.example/v2", policy=FAST) as api:
        assert (await api.request("GET", "/customer", params={"count": 1})).json() == {"ok": True}
    assert seen == [b"GET http://tripletex.example/v2/customer?count=1 HTTP/1.1"]
    monkeypatch.setenv("NO_PROXY", "tripletex.example")
    assert env_proxy("http://tripletex.example/v2") is None
    monkeypatch.delenv("HTTP_PROXY")
    monkeypatch.delenv("NO_PROXY")
    assert env_proxy("http://tripletex.example/v2") is None


def test_tls_is_verified_against_certifi_unless_the_environment_names_a_bundle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx verified against certifi's bundle; so does the aiohttp pool (a slim image may have
    no system bundle), and SSL_CERT_FILE still takes its place."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    _certifi_context.cache_clear()
    try:
        context = _certifi_context()
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert context.cert_store_stats()["x509_ca"] > 100
        monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
        _certifi_context.cache_clear()
        assert _certifi_context().cert_store_stats()["x509_ca"] > 100
    finally:
        _certifi_context.cache_clear()
