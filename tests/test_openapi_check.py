"""The spec checker itself must catch what it is there to catch (else every contract test is
hollow): unknown paths, undeclared query parameters, bodies of the wrong shape."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockResponse

from sandboxes.openapi_check import (
    SVENN_SPEC,
    TRIPLETEX_SPEC,
    OpenAPIChecker,
    _explain,
    _RequestValidator,
    _resolved,
    _ResponseValidator,
)

AUTH = {"Authorization": httpx.BasicAuth("0", "session-token")._auth_header}
LIST = {"fullResultSize": 1, "from": 0, "count": 1, "versionDigest": "x", "values": []}


@pytest.fixture(scope="module")
def tripletex() -> OpenAPIChecker:
    return OpenAPIChecker(TRIPLETEX_SPEC, server_prefix="/v2")


def check(checker: OpenAPIChecker, request: httpx.Request, response: httpx.Response) -> list[str]:
    checker.violations.clear()
    checker.check(request, response)
    return [v.problem for v in checker.violations]


def _verdict(validate: Any, *args: Any) -> str:
    """The verdict: "ok", or what openapi-core found wrong."""
    try:
        validate(*args)
        return "ok"
    except Exception as error:
        return _explain(error)


def test_a_conforming_exchange_passes(tripletex: OpenAPIChecker) -> None:
    request = httpx.Request(
        "GET", "http://sandbox/v2/customer", params={"fields": "id,name", "count": 10}, headers=AUTH
    )
    assert check(tripletex, request, httpx.Response(200, json=LIST, request=request)) == []


def test_an_undeclared_query_parameter_is_caught(tripletex: OpenAPIChecker) -> None:
    request = httpx.Request("GET", "http://sandbox/v2/customer", params={"nmae": "x"}, headers=AUTH)
    problems = check(tripletex, request, httpx.Response(200, json=LIST, request=request))
    assert problems == ["request: undeclared query parameter 'nmae'"]


def test_a_body_of_the_wrong_shape_is_caught(tripletex: OpenAPIChecker) -> None:
    request = httpx.Request("POST", "http://sandbox/v2/customer", json={"name": 5}, headers=AUTH)
    response = httpx.Response(201, json={"value": {"id": "not-a-number"}}, request=request)
    problems = check(tripletex, request, response)
    assert any(p.startswith("request:") and "is not of type 'string'" in p for p in problems)
    assert any(p.startswith("response:") and "is not of type 'integer'" in p for p in problems)


def test_an_unknown_path_is_caught(tripletex: OpenAPIChecker) -> None:
    request = httpx.Request("GET", "http://sandbox/v2/customers", headers=AUTH)
    problems = check(tripletex, request, httpx.Response(200, json=LIST, request=request))
    assert any("PathNotFound" in p for p in problems)


def test_the_svenn_contract_is_held_too() -> None:
    svenn = OpenAPIChecker(SVENN_SPEC, server_prefix="/api/v1")
    request = httpx.Request(
        "GET",
        "http://sandbox/api/v1/customers",
        params={"limit": 5000},
        headers={"Authorization": "Bearer k"},
    )
    problems = check(
        svenn, request, httpx.Response(200, json={"data": [], "next": None}, request=request)
    )
    assert problems and problems[0].startswith("request:")  # limit is at most 1000


def test_an_undeclared_method_is_caught(tripletex: OpenAPIChecker) -> None:
    request = httpx.Request("PATCH", "http://sandbox/v2/customer/7", headers=AUTH, json={})
    problems = check(tripletex, request, httpx.Response(200, json={}, request=request))
    assert any("OperationNotFound" in p for p in problems)


def test_a_cut_document_judges_a_request_as_the_whole_one_does(
    tripletex: OpenAPIChecker,
) -> None:
    """The checker hands openapi-core only the path templates that can match a request; for a
    spread of the spec's operations (a concrete path next to a templated one, parameters, path
    variables), the request is judged exactly as the whole document judges it."""
    whole = OpenAPI.from_dict(tripletex.spec, config=tripletex._config)
    operations = [
        (template, method)
        for template, item in tripletex.spec["paths"].items()
        for method in ("get", "post", "put", "delete")
        if method in item
    ]
    judged = 0
    for template, method in [*operations[::23], ("/customer/list", "post")]:
        url = "http://sandbox/v2" + re.sub(r"\{[^}]+\}", "7", template)
        request = httpx.Request(method.upper(), url, headers=AUTH)
        mock, _ = tripletex._mock_request(request)
        verdicts = [
            _verdict(api.validate_request, mock) for api in (whole, tripletex._api_for(mock))
        ]
        assert verdicts[0] == verdicts[1], (method, template)
        judged += 1
    assert judged > 20


def _query_values(
    checker: OpenAPIChecker, template: str, method: str, wrong: bool
) -> list[tuple[str, str]]:
    """Every other declared query parameter of the operation, with a value of its type (or
    of the wrong type where ``wrong``)."""
    item = checker.spec["paths"][template]
    declared = [
        _resolved(checker.spec, p)
        for p in [*item.get("parameters", []), *item[method].get("parameters", [])]
    ]
    values = []
    for param in declared[::2]:
        if param.get("in") != "query":
            continue
        kind = _resolved(checker.spec, param.get("schema", {})).get("type")
        good = {"integer": "1", "number": "1.5", "boolean": "true", "array": "1,2"}.get(kind, "a")
        values.append((param["name"], "not-a-number" if wrong and kind == "integer" else good))
    return values


def test_leaving_out_the_query_parameters_not_sent_judges_as_the_whole_document(
    tripletex: OpenAPIChecker,
) -> None:
    """The cut document also leaves out the query parameters a request does not send
    (unless required or defaulted): for requests sending half of an operation's parameters,
    with values of their types or of the wrong type, none at all, or an undeclared one, the
    verdict is the whole document's, and the cut did leave parameters out."""
    whole = OpenAPI.from_dict(tripletex.spec, config=tripletex._config)
    operations = [
        (template, method)
        for template, item in tripletex.spec["paths"].items()
        for method in ("get", "post", "put", "delete")
        if method in item and len(item[method].get("parameters", [])) >= 6
    ]
    judged = cut_some = failed = 0
    for template, method in operations[::9]:
        path = "http://sandbox/v2" + re.sub(r"\{[^}]+\}", "7", template)
        for query in (
            _query_values(tripletex, template, method, wrong=False),
            _query_values(tripletex, template, method, wrong=True),
            [],
            [("noSuchParameter", "1")],
        ):
            request = httpx.Request(method.upper(), path, params=tuple(query), headers=AUTH)
            mock, _ = tripletex._mock_request(request)
            verdicts = [
                _verdict(api.validate_request, mock) for api in (whole, tripletex._api_for(mock))
            ]
            assert verdicts[0] == verdicts[1], (method, template, query)
            failed += verdicts[0] != "ok"
            judged += 1
            operation = tripletex._cut_item(
                tripletex.spec["paths"][template], method, frozenset(n for n, _ in query)
            )[method]
            declared = tripletex.spec["paths"][template][method]["parameters"]
            cut_some += len(operation["parameters"]) < len(declared)
    assert judged > 40 and cut_some > 30 and failed > 5


def _hours(date: str, updated: str) -> dict[str, object]:
    return {
        "id": "h1",
        "version": 1,
        "createdAt": "2026-12-01T08:00:00Z",
        "updatedAt": updated,
        "employeeId": "e1",
        "date": date,
        "hours": 7.5,
        "status": "approved",
        "projectId": None,
        "activityId": None,
        "comment": None,
        "approvedBy": None,
        "approvedAt": None,
    }


def test_one_shared_format_checker_judges_as_openapi_cores_copies(
    tripletex: OpenAPIChecker,
) -> None:
    """The checker's validators share one format checker instead of openapi-core's deep copy
    per schema: requests and answers that break formats (int32, date, date-time) or not are
    judged as openapi-core's own validators judge them."""
    svenn = OpenAPIChecker(SVENN_SPEC, server_prefix="/api/v1")
    big = 2**31 + 5
    bearer = {"Authorization": "Bearer k"}
    exchanges = [
        (
            tripletex,
            "PUT",
            "http://sandbox/v2/customer/7",
            AUTH,
            {"id": 7, "version": big},
            {"value": {"id": 7, "version": 2}},
        ),
        (
            tripletex,
            "PUT",
            "http://sandbox/v2/customer/7",
            AUTH,
            {"id": 7, "version": 1},
            {"value": {"id": 7, "version": 2, "customerNumber": big}},
        ),
        (
            tripletex,
            "PUT",
            "http://sandbox/v2/customer/7",
            AUTH,
            {"id": 7, "version": 1},
            {"value": {"id": 7, "version": 2, "customerNumber": 10001}},
        ),
        (
            svenn,
            "GET",
            "http://sandbox/api/v1/hours?dateFrom=2026-13-45",
            bearer,
            None,
            {"data": [], "next": None},
        ),
        (
            svenn,
            "GET",
            "http://sandbox/api/v1/hours?dateFrom=2026-12-01",
            bearer,
            None,
            {"data": [_hours("2026-02-30", "2026-12-01T08:00:00Z")], "next": None},
        ),
        (
            svenn,
            "GET",
            "http://sandbox/api/v1/hours",
            bearer,
            None,
            {"data": [_hours("2026-12-01", "yesterday")], "next": None},
        ),
        (
            svenn,
            "GET",
            "http://sandbox/api/v1/hours",
            bearer,
            None,
            {"data": [_hours("2026-12-01", "2026-12-01T08:00:00Z")], "next": None},
        ),
    ]
    refused = 0
    for checker, method, url, headers, body, answer in exchanges:
        assert checker._config.request_validator_cls is _RequestValidator
        assert checker._config.response_validator_cls is _ResponseValidator
        own = Config(
            spec_validator_cls=None,
            extra_media_type_deserializers=checker._config.extra_media_type_deserializers,
        )
        request = httpx.Request(method, url, headers=headers, json=body)
        mock, _ = checker._mock_request(request)
        response = MockResponse(json.dumps(answer).encode(), content_type="application/json")
        verdicts = []
        for config in (own, checker._config):
            api = OpenAPI.from_dict(checker.spec, config=config)
            verdict = [
                _verdict(api.validate_request, mock),
                _verdict(api.validate_response, mock, response),
            ]
            verdicts.append(verdict)
        assert verdicts[0] == verdicts[1], (method, url)
        refused += verdicts[0] != ["ok", "ok"]
    assert refused == 5
