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

from sandboxes.fuzzing import ALLOWLIST, SVENN_SPEC, TRIPLETEX_SPEC, Target, fuzz, served_operations
from sandboxes.routes import path_shape
from sandboxes.runner import serve_in_thread
from sandboxes.svenn.app import create_app as svenn_app
from sandboxes.svenn.seed import example_seed
from sandboxes.tripletex.app import create_app as tripletex_app
from tests.tripletex_sandbox_support import open_session, seed

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
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
