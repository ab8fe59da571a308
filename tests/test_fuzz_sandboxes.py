"""schemathesis against both sandboxes: the real Tripletex spec, and our Svenn contract.

Each operation the sandbox serves gets ``FUZZ_EXAMPLES`` generated requests (valid and
invalid; default small so that CI stays quick, ``make fuzz`` raises it), with a fixed seed.
Checks: no 5xx, a status the spec declares, a body that fits the declared schema. The real
spec's known gaps are in ``sandboxes/fuzz_allowlist.json``, one reason per entry.
"""

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from sandboxes.fuzzing import (
    ALLOWLIST,
    SVENN_SPEC,
    TRIPLETEX_SPEC,
    Finding,
    Target,
    fuzz,
    served_operations,
)
from sandboxes.routes import path_shape
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app as svenn_app
from sandboxes.svenn.seed import example_seed
from sandboxes.tripletex.app import create_app as tripletex_app
from tests.flows.conftest import sandboxes, sync_env, world_size
from tests.tripletex_sandbox_support import open_session, seed

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
__all__ = ["sandboxes", "sync_env", "world_size"]  # fixtures the intake's fuzz test uses
KINDS = {
    "add_error_responses",
    "drop_mistyped_defaults",
    "drop_schema_readonly",
    "drop_204_content",
    "references_as_ids",
    "skip_operations",
    "note",
}


def _spec_operations(spec_path, prefix: str = "") -> set[tuple[str, str]]:
    spec = json.loads(spec_path.read_text())
    found = set()
    for path, item in spec["paths"].items():
        found |= {(method.upper(), path_shape(path)) for method in item if method != "parameters"}
    return found


def test_allowlist_entries_each_have_a_reason_and_a_known_kind() -> None:
    entries = json.loads(ALLOWLIST.read_text())["entries"]
    assert len({e["id"] for e in entries}) == len(entries)
    for entry in entries:
        assert entry["kind"] in KINDS and entry["spec"] in ("tripletex", "svenn")
        assert len(entry["reason"]) > 40, entry["id"]


@pytest.mark.parametrize(
    ("app", "prefix", "spec"),
    [(tripletex_app, "/v2", TRIPLETEX_SPEC), (svenn_app, "/api/v1", SVENN_SPEC)],
)
def test_every_served_operation_is_in_its_spec(app, prefix, spec) -> None:
    served = served_operations(app(), prefix)
    assert len(served) > 20
    assert served <= _spec_operations(spec) | {("GET", "/openapi.json")}


@pytest.mark.scenario
def test_tripletex_sandbox_holds_to_the_real_spec_under_fuzzing() -> None:
    app = tripletex_app(seed(), rate_limit=0)
    company = app.state.sandbox.companies[1001]
    known = [next(iter(company.table(e))) for e in ("customer", "employee", "project")]
    started = time.monotonic()
    with serve_in_thread(app) as url:
        auth = "Basic " + base64.b64encode(f"0:{open_session(url)}".encode()).decode()
        served = served_operations(app, "/v2")
        target = Target("tripletex", TRIPLETEX_SPEC, url + "/v2", {"Authorization": auth}, served)
        target.known_ids = known
        findings, sent = fuzz(target, max_examples=EXAMPLES)
    elapsed = time.monotonic() - started
    print(f"tripletex: {sent} requests, {len(served)} operations, {elapsed:.1f} s")
    assert not findings, "\n".join(str(f) for f in findings)
    assert sent >= len(served) - 3  # every operation fuzzed (less the allow-listed skips)


@pytest.mark.scenario
def test_svenn_sandbox_holds_to_our_contract_under_fuzzing() -> None:
    app = svenn_app(example_seed())
    started = time.monotonic()
    with serve_in_thread(app) as url:
        served = served_operations(app, "/api/v1")
        target = Target(
            "svenn", SVENN_SPEC, url + "/api/v1", {"Authorization": "Bearer svenn-acme-key"}, served
        )
        target.known_ids = ["cus-1", "emp-1", "prj-1"]
        findings, sent = fuzz(target, max_examples=EXAMPLES)
    elapsed = time.monotonic() - started
    print(f"svenn: {sent} requests, {len(served)} operations, {elapsed:.1f} s")
    assert not findings, "\n".join(str(f) for f in findings)
    assert sent >= len(served)


INTAKE_TOKEN = "intake-bearer-for-fuzzing"


@pytest.mark.scenario
def test_the_key_intake_holds_to_its_own_openapi_document_under_fuzzing(
    sync_env, state_store, monkeypatch
) -> None:
    from config.settings import load_settings
    from intake.app import create_app as intake_app

    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    load_settings.cache_clear()
    app = intake_app(run_on="process")
    spec = app.openapi()
    served = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert {("POST", "/tenants/{tenant}/deactivation"), ("PUT", "/tenants/{tenant}/keys")} <= served
    findings: list[Finding] = []
    sent = 0
    with serve_in_thread(app) as url:
        # with the token, and without it (every answer then a 401, documented too)
        for headers in ({"Authorization": f"Bearer {INTAKE_TOKEN}"}, {}):
            target = Target("intake", None, url, headers, served, spec=spec)
            found, count = fuzz(target, max_examples=max(EXAMPLES, 10))
            findings, sent = findings + found, sent + count
    print(f"intake: {sent} requests, {len(served)} operations")
    assert not findings, "\n".join(str(f) for f in findings)
    assert sent >= 2 * len(served)
