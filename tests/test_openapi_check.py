"""The spec checker itself must catch what it is there to catch (else every contract test is
hollow): unknown paths, undeclared query parameters, bodies of the wrong shape."""

from __future__ import annotations

import re

import httpx
import pytest
from openapi_core import OpenAPI

from sandboxes.openapi_check import SVENN_SPEC, TRIPLETEX_SPEC, OpenAPIChecker, _explain, _resolved

AUTH = {"Authorization": httpx.BasicAuth("0", "session-token")._auth_header}
LIST = {"fullResultSize": 1, "from": 0, "count": 1, "versionDigest": "x", "values": []}


@pytest.fixture(scope="module")
def tripletex() -> OpenAPIChecker:
    return OpenAPIChecker(TRIPLETEX_SPEC, server_prefix="/v2")


def check(checker: OpenAPIChecker, request: httpx.Request, response: httpx.Response) -> list[str]:
    checker.violations.clear()
    checker.check(request, response)
    return [v.problem for v in checker.violations]


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
        verdicts = []
        for api in (whole, tripletex._api_for(mock)):
            try:
                api.validate_request(mock)
                verdicts.append("ok")
            except Exception as error:
                verdicts.append(_explain(error))
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
            cut = tripletex._api_for(mock)
            verdicts = []
            for api in (whole, cut):
                try:
                    api.validate_request(mock)
                    verdicts.append("ok")
                except Exception as error:
                    verdicts.append(_explain(error))
            assert verdicts[0] == verdicts[1], (method, template, query)
            failed += verdicts[0] != "ok"
            judged += 1
            operation = tripletex._cut_item(
                tripletex.spec["paths"][template], method, frozenset(n for n, _ in query)
            )[method]
            declared = tripletex.spec["paths"][template][method]["parameters"]
            cut_some += len(operation["parameters"]) < len(declared)
    assert judged > 40 and cut_some > 30 and failed > 5
