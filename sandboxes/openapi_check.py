"""Hold HTTP traffic to an OpenAPI document, with openapi-core doing the validation.

Used by the test suite: an httpx event hook records every request a connector sends and every
response a sandbox returns, and each is validated against the spec (the real Tripletex spec,
or our Svenn contract). Beyond what openapi-core checks, undeclared query parameters are
refused, because a typo in a parameter name is silently ignored by real servers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.parsers import PathParser
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.validators import V30RequestValidator
from openapi_core.validation.response.validators import V30ResponseValidator
from openapi_core.validation.schemas.factories import SchemaValidatorsFactory
from werkzeug.datastructures import ImmutableMultiDict

REPO = Path(__file__).resolve().parent.parent
TRIPLETEX_SPEC = REPO / "sandboxes" / "tripletex" / "spec" / "openapi.json"
SVENN_SPEC = REPO / "connectors" / "svenn" / "openapi.json"


class _OneFormatChecker(SchemaValidatorsFactory):
    """openapi-core's schema validators, sharing one format checker instead of a deep copy of it
    for every schema validated (a third of a check's CPU). The copy is there for format
    validators added to it, from the configuration; the checker configures none, and jsonschema
    only reads a format checker, so the one checker judges exactly as each copy would."""

    def get_format_checker(
        self, format_validators: Any = None, extra_format_validators: Any = None
    ) -> Any:
        if format_validators is None and extra_format_validators is None:
            return self.format_checker
        return super().get_format_checker(format_validators, extra_format_validators)


def _one_format_checker(factory: SchemaValidatorsFactory) -> _OneFormatChecker:
    return _OneFormatChecker(factory.schema_validator_cls, factory.format_checker)


class _RequestValidator(V30RequestValidator):
    schema_validators_factory = _one_format_checker(V30RequestValidator.schema_validators_factory)


class _ResponseValidator(V30ResponseValidator):
    schema_validators_factory = _one_format_checker(V30ResponseValidator.schema_validators_factory)


@dataclass
class SpecViolation:
    """One request or response that does not conform to the spec."""

    method: str
    path: str
    status: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.method} {self.path}" + (f" -> {self.status}" if self.status else "")
        return f"{where}: {self.problem}"


@dataclass
class OpenAPIChecker:
    """Validates httpx requests/responses against one OpenAPI document.

    ``server_prefix`` is the path prefix of the spec's server URL (``/v2`` for Tripletex), so
    that requests against a sandbox on any host and port map onto the spec's paths.
    """

    spec_path: Path
    server_prefix: str = ""
    ignore_path_prefixes: tuple[str, ...] = ("/_admin",)
    violations: list[SpecViolation] = field(default_factory=list)
    checked: int = 0

    @cached_property
    def spec(self) -> dict[str, Any]:
        spec = dict(json.loads(self.spec_path.read_text()))
        _strip_media_type_parameters(spec)
        _relax_tripletex_quirks(spec)
        return spec

    @cached_property
    def _config(self) -> Config:
        # The real Tripletex spec has defaults of the wrong type ("0" for integers), which a
        # strict spec validation refuses; the request/response validation itself is unaffected.
        # openapi-core has no deserializer for RFC 9457 problem documents (Svenn's errors).
        problem_json: dict[str, Callable[[bytes], Any]] = {
            "application/problem+json": lambda data: json.loads(data)
        }
        validators: dict[str, Any] = {}
        if str(self.spec.get("openapi", "")).startswith("3.0"):
            validators = {
                "request_validator_cls": _RequestValidator,
                "response_validator_cls": _ResponseValidator,
            }
        return Config(
            spec_validator_cls=None, extra_media_type_deserializers=problem_json, **validators
        )

    @cached_property
    def _templates(self) -> list[tuple[str, PathParser]]:
        return [(t, PathParser(t, post_expression="$")) for t in self.spec.get("paths", {})]

    @cached_property
    def _apis(self) -> dict[tuple[Any, ...], OpenAPI]:
        return {}

    def _api_for(self, mock: MockRequest) -> OpenAPI:
        """The document cut to what can judge this request, as openapi-core would judge it
        with the whole one: the path templates that can match it, in the order the whole one
        lists them (instead of walking all of the Tripletex spec's ~550 paths twice per
        exchange), and, of the query parameters, those it sends or that openapi-core reads
        when absent (required, or with a default it validates). openapi-core skips every
        other absent parameter without a word, but reads its definition first: Tripletex's
        list operations declare 14-21, most of a request's check. Cut documents are kept per
        candidate set, method and query names."""
        url = urljoin(mock.host_url, mock.path)
        candidates = tuple(
            template
            for template, parser in self._templates
            if url.endswith(template) or parser.search(url) is not None
        )
        method = mock.method.lower()
        sent = frozenset((mock.args or {}).keys())
        key = (candidates, method, sent)
        api = self._apis.get(key)
        if api is None:
            paths = self.spec.get("paths", {})
            cut = self.spec | {
                "paths": {t: self._cut_item(paths[t], method, sent) for t in candidates}
            }
            api = self._apis[key] = OpenAPI.from_dict(cut, config=self._config)
        return api

    def _cut_item(self, item: dict[str, Any], method: str, sent: frozenset[str]) -> dict[str, Any]:
        """The path item with the query parameters of ``method`` (and of the path) that
        openapi-core would skip for this request left out."""

        def kept(params: list[Any]) -> list[Any]:
            return [p for p in params if not _skipped_when_absent(_resolved(self.spec, p), sent)]

        cut = dict(item)
        if isinstance(item.get("parameters"), list):
            cut["parameters"] = kept(item["parameters"])
        operation = item.get(method)
        if isinstance(operation, dict) and isinstance(operation.get("parameters"), list):
            cut[method] = operation | {"parameters": kept(operation["parameters"])}
        return cut

    def _mock_request(self, request: httpx.Request) -> tuple[MockRequest, str]:
        url = urlsplit(str(request.url))
        path = unquote(url.path)  # httpx sends ">whoAmI" as "%3EwhoAmI"
        if self.server_prefix and path.startswith(self.server_prefix):
            path = path[len(self.server_prefix) :]
        server = self.spec.get("servers", [{"url": ""}])[0]["url"].rstrip("/")
        host = f"{urlsplit(server).scheme or 'http'}://{urlsplit(server).netloc or 'localhost'}"
        server_path = urlsplit(server).path
        args = ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k: v for k, v in request.headers.items()}
        body = request.content or None
        content_type = request.headers.get("content-type", "application/json").split(";")[0]
        mock = MockRequest(
            host,
            request.method.lower(),
            server_path + path,
            args=args,
            headers=headers,
            data=body,
            content_type=content_type,
        )
        return mock, path

    def _undeclared_query(self, request: httpx.Request, path: str) -> list[str]:
        # Called only for requests openapi-core accepted, so the path is known to the spec.
        names = {k for k, _ in parse_qsl(urlsplit(str(request.url)).query)}
        if not names:
            return []
        declared: set[str] = set()
        for template, item in self.spec.get("paths", {}).items():
            if _template_matches(template, path):
                declared |= _param_names(item.get("parameters", []), self.spec)
                op = item.get(request.method.lower(), {})
                declared |= _param_names(op.get("parameters", []), self.spec)
        return sorted(names - declared)

    def check(self, request: httpx.Request, response: httpx.Response | None = None) -> None:
        """Validate one exchange; violations are collected in :attr:`violations`."""
        url_path = urlsplit(str(request.url)).path
        if any(url_path.startswith(p) for p in self.ignore_path_prefixes):
            return
        mock, path = self._mock_request(request)
        self.checked += 1
        status = response.status_code if response is not None else None
        problems: list[str] = []
        api = self._api_for(mock)
        try:
            api.validate_request(mock)
        except Exception as error:
            problems.append(f"request: {_explain(error)}")
        if not problems:
            problems += [
                f"request: undeclared query parameter {n!r}"
                for n in self._undeclared_query(request, path)
            ]
        if response is not None and not _declared(self.spec, path, request.method, response):
            problems += _error_envelope_problems(response)
        elif response is not None and response.status_code != 304:
            content_type = response.headers.get("content-type", "application/json").split(";")[0]
            mock_response = MockResponse(
                response.content,
                status_code=response.status_code,
                headers=dict(response.headers),
                content_type=content_type,
            )
            try:
                api.validate_response(mock, mock_response)
            except Exception as error:
                problems.append(f"response: {_explain(error)}")
        for problem in problems:
            self.violations.append(SpecViolation(request.method, url_path, status, problem))

    async def async_hook(self, response: httpx.Response) -> None:
        """httpx ``event_hooks={"response": [...]}`` hook for an AsyncClient."""
        await response.aread()
        self.check(response.request, response)

    def sync_hook(self, response: httpx.Response) -> None:
        """httpx ``event_hooks={"response": [...]}`` hook for a Client."""
        response.read()
        self.check(response.request, response)

    def assert_clean(self) -> None:
        """Fail with every violation listed, if there were any."""
        if self.violations:
            lines = "\n".join(str(v) for v in self.violations[:50])
            raise AssertionError(f"{len(self.violations)} spec violation(s):\n{lines}")


def _strip_media_type_parameters(node: Any) -> None:
    """Tripletex declares ``application/json; charset=utf-8``; match on the bare type."""
    if isinstance(node, dict):
        content = node.get("content")
        if isinstance(content, dict):
            node["content"] = {k.split(";")[0].strip(): v for k, v in content.items()}
        for value in node.values():
            _strip_media_type_parameters(value)
    elif isinstance(node, list):
        for value in node:
            _strip_media_type_parameters(value)


def _relax_tripletex_quirks(spec: dict[str, Any]) -> None:
    """Tripletex's spec has defaults of the wrong type ("0" for integer query parameters, which
    openapi-core then applies and refuses) and marks whole schemas readOnly (TimesheetEntry,
    Company, Currency), which would refuse every POST /timesheet/entry body. Drop both."""
    for item in spec.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                schema = param.get("schema", {}) if isinstance(param, dict) else {}
                default = schema.get("default")
                numeric = schema.get("type") in ("integer", "number", "boolean")
                if numeric and isinstance(default, str):
                    del schema["default"]
    for schema in spec.get("components", {}).get("schemas", {}).values():
        schema.pop("readOnly", None)


def _declared(spec: dict[str, Any], path: str, method: str, response: httpx.Response) -> bool:
    """Whether the spec declares this response's status (Tripletex declares only successes);
    a 204 with an empty body counts as not declared (the spec gives 204s a JSON content)."""
    if response.status_code == 204 and not response.content:
        return False
    for template, item in spec.get("paths", {}).items():
        if _template_matches(template, path):
            op = item.get(method.lower(), {})
            responses = op.get("responses", {})
            if str(response.status_code) in responses or "default" in responses:
                return True
    return response.status_code < 400


def _error_envelope_problems(response: httpx.Response) -> list[str]:
    """An undeclared error status must still carry an error body with status/code/message."""
    if response.status_code < 400 or response.status_code == 204:
        return []
    try:
        body = response.json()
    except ValueError:
        return [] if not response.content else ["response: error body is not JSON"]
    if not isinstance(body, dict):
        return ["response: error body is not a JSON object"]
    if "status" in body and body["status"] != response.status_code:
        return [f"response: error body status {body['status']} != {response.status_code}"]
    return []


def _template_matches(template: str, path: str) -> bool:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    if len(t_parts) != len(p_parts):
        return False
    return all(t.startswith("{") or t == p for t, p in zip(t_parts, p_parts, strict=True))


def _skipped_when_absent(param: Any, sent: frozenset[str]) -> bool:
    """Whether openapi-core reads nothing of this parameter but its definition when the request
    leaves it out: a query parameter not sent, not required, without a default, whose value
    would be under its own name (a plain or array schema in the form style; an object's
    properties or a deepObject's keys are sent under other names, so those are kept)."""
    if not isinstance(param, dict) or param.get("in") != "query" or param.get("required"):
        return False
    schema = param.get("schema")
    if not isinstance(schema, dict) or "default" in schema or "$ref" in schema:
        return False
    plain = schema.get("type") in ("string", "integer", "number", "boolean", "array")
    return plain and param.get("style", "form") == "form" and param.get("name") not in sent


def _resolved(spec: dict[str, Any], node: Any) -> Any:
    """``node``, or what its local ``$ref`` points to in ``spec``."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _param_names(params: list[dict[str, Any]], spec: dict[str, Any]) -> set[str]:
    return {
        p["name"] for p in (_resolved(spec, param) for param in params) if p.get("in") == "query"
    }


def _explain(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(str(d.message) for d in details[:5])
        cause = cause.__cause__
    return "; ".join(parts)
