"""Drive schemathesis against a sandbox: the real Tripletex spec, or our Svenn contract.

The spec is read as published, then the known gaps in ``fuzz_allowlist.json`` (one file, a
reason per entry) are applied to the copy the fuzzer reads. Only the operations the sandbox
serves are fuzzed. Each operation gets a bounded number of generated requests, valid and
invalid ones, with a fixed seed; every response is checked for: no 5xx, a status the spec
declares, and a body that fits the declared schema.

Our own key intake is fuzzed the same way, from the OpenAPI document it publishes.

Used by ``tests/test_fuzz_sandboxes.py`` (a scenario test, so CI runs it) and ``make fuzz``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from sandboxes.openapi_check import SVENN_SPEC, TRIPLETEX_SPEC
from sandboxes.routes import app_routes, path_shape

ALLOWLIST = Path(__file__).with_name("fuzz_allowlist.json")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
SEED = 20261128
METHODS = ("get", "put", "post", "patch", "delete")


@dataclass
class Target:
    """One service to fuzz (a sandbox, or our own key intake): its spec, where it runs and how
    to authenticate."""

    name: str  # "tripletex" | "svenn", as in the allow-list's "spec"; "intake"
    spec_path: Path | None
    base_url: str  # the sandbox URL plus the spec's server path (/v2, /api/v1)
    headers: dict[str, str]
    served: set[tuple[str, str]]  # (METHOD, spec path) the sandbox has a route for
    known_ids: list[Any] = field(default_factory=list)  # ids that exist, for {id} paths
    # A service that publishes its own document (FastAPI's app.openapi()) is fuzzed from it
    # as it is: no allow-list, every operation.
    spec: dict[str, Any] | None = None


@dataclass
class Finding:
    """An operation whose generated requests broke a check."""

    operation: str
    problem: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}"


def allowlist() -> list[dict[str, Any]]:
    """The allow-list entries (each has an ``id``, a ``kind`` and a ``reason``)."""
    entries: list[dict[str, Any]] = json.loads(ALLOWLIST.read_text())["entries"]
    return entries


def served_operations(app: Any, prefix: str) -> set[tuple[str, str]]:
    """(METHOD, spec path) for every route of ``app`` under ``prefix`` (e.g. ``/v2``)."""
    found: set[tuple[str, str]] = set()
    for path, methods, _ in app_routes(app):
        if path.startswith(prefix + "/"):
            found |= {(m, path_shape(path[len(prefix) :])) for m in methods if m != "HEAD"}
    return found


def fuzz_spec(target_name: str, spec_path: Path, served: set[tuple[str, str]]) -> dict[str, Any]:
    """The spec as the fuzzer reads it: allow-list applied, only served operations kept."""
    spec: dict[str, Any] = json.loads(spec_path.read_text())
    entries = [e for e in allowlist() if e["spec"] == target_name]
    skipped = {op for e in entries if e["kind"] == "skip_operations" for op in e["operations"]}
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():

        def wanted(key: str, path: str = path) -> bool:
            operation = (key.upper(), path_shape(path))
            return operation in served and f"{key.upper()} {path}" not in skipped

        kept = {key: value for key, value in item.items() if key not in METHODS or wanted(key)}
        if any(key in METHODS for key in kept):
            paths[path] = kept
    spec["paths"] = paths
    for entry in entries:
        _PATCHES.get(entry["kind"], _no_patch)(spec, entry)
    _keep_reachable_schemas(spec)
    return spec


def _keep_reachable_schemas(spec: dict[str, Any]) -> None:
    """Drop the component schemas no kept operation reaches (most of Tripletex's 2,176)."""
    schemas = spec.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    pending = list(_refs(spec["paths"]))
    while pending:
        name = pending.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            pending.extend(_refs(schemas[name]))
    spec["components"]["schemas"] = {k: v for k, v in schemas.items() if k in reached}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _operations(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in spec["paths"].values():
        for key, op in item.items():
            if key in METHODS:
                yield op


def _add_error_responses(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in entry.get("nullable", []):  # "Schema.property"
        model, prop = name.split(".")
        schemas[model]["properties"][prop]["nullable"] = True
    ref = {"$ref": f"#/components/schemas/{entry['schema']}"}
    for op in _operations(spec):
        for status in entry["statuses"]:
            op["responses"].setdefault(
                str(status),
                {"description": entry["id"], "content": {"application/json": {"schema": ref}}},
            )


def _drop_mistyped_defaults(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    for item in spec["paths"].values():
        for key, op in item.items():
            for param in op.get("parameters", []) if key in METHODS else []:
                schema = param.get("schema", {})
                typed = schema.get("type") in ("integer", "number", "boolean")
                if typed and isinstance(schema.get("default"), str):
                    del schema["default"]


def _drop_schema_readonly(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    for schema in spec.get("components", {}).get("schemas", {}).values():
        schema.pop("readOnly", None)


def _drop_204_content(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    for op in _operations(spec):
        op.get("responses", {}).get("204", {}).pop("content", None)


def _references_as_ids(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    stub = {"type": "object", "properties": {"id": {"type": "integer", "format": "int64"}}}
    wrappers = tuple(entry["wrappers"])
    for name, schema in spec["components"]["schemas"].items():
        if name.startswith(wrappers):
            continue
        for prop, value in schema.get("properties", {}).items():
            items = value.get("items", {}) if value.get("type") == "array" else None
            target = items if items is not None else value
            ref = target.get("$ref", "").rsplit("/", 1)[-1]
            if ref and ref not in entry["keep"]:
                replacement = dict(stub)
                if items is not None:
                    value["items"] = replacement
                else:
                    schema["properties"][prop] = replacement


def _no_patch(spec: dict[str, Any], entry: dict[str, Any]) -> None:
    return None


_PATCHES = {
    "add_error_responses": _add_error_responses,
    "drop_mistyped_defaults": _drop_mistyped_defaults,
    "drop_schema_readonly": _drop_schema_readonly,
    "drop_204_content": _drop_204_content,
    "references_as_ids": _references_as_ids,
}


def fuzz(target: Target, *, max_examples: int, seed: int = SEED) -> tuple[list[Finding], int]:
    """Fuzz every served operation; returns what broke a check and how many requests were sent."""
    if target.spec is not None:
        spec = target.spec
    else:
        assert target.spec_path is not None, "a target needs a spec or a spec path"
        spec = fuzz_spec(target.name, target.spec_path, target.served)
    schema = schemathesis.openapi.from_dict(spec)
    findings: list[Finding] = []
    sent = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):  # the spec copy itself is broken: report, do not skip
            findings.append(Finding("spec", str(result.err())))
            continue
        operation = result.ok()
        failure, count = _fuzz_operation(operation, target, max_examples, seed)
        sent += count
        if failure is not None:
            findings.append(Finding(operation.label, failure))
    return findings, sent


def _fuzz_operation(
    operation: Any, target: Target, max_examples: int, seed: int
) -> tuple[str | None, int]:
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    if "{id}" in operation.path and target.known_ids:
        strategies += [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=p)
            for p in ({"id": ident} for ident in target.known_ids)
        ]
    sent = 0

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(
            base_url=target.base_url, headers=target.headers, checks=CHECKS, timeout=30
        )

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return None, sent
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # schemathesis raises a FailureGroup: report it
        return _first_lines(str(error)), sent
    return None, sent


def _first_lines(text: str, limit: int = 25) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n    ".join(lines[:limit])


TARGET_SPECS = {"tripletex": TRIPLETEX_SPEC, "svenn": SVENN_SPEC}
