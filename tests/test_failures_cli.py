"""`svenn-sync failures` as a subprocess on a seeded store: refusals of bad options, CSV/JSON,
paging hints that work as printed, and `explain` naming both sides and the rule; and the
failed-record rows the UI's tables show carry the Norwegian message and the target's error."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from store.failures import Failure, record_failures
from store.integrations import ensure_integration
from store.links import NewLink, save_links

ROOT = Path(__file__).resolve().parents[1]
TRIPLETEX_ERROR = {
    "status": 422,
    "code": 18000,
    "message": "Validering feilet.",
    "request_id": "req-1",
    "field_errors": [{"field": "name", "message": "Feltet må fylles ut.", "path": None}],
}


def _cli(database, *args: str) -> subprocess.CompletedProcess[str]:
    url, schema = database
    env = dict(os.environ, SVENN_SYNC_DATABASE_URL=url)
    if schema:
        env["SVENN_SYNC_DATABASE_SCHEMA"] = schema
    return subprocess.run(
        [sys.executable, "-m", "cli", "failures", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def seeded(state_store, database):
    rows = [
        Failure(
            tenant="t-acme",
            entity="customer",
            direction="svenn_to_tripletex",
            reason_code="TARGET_REJECTED",
            message_en=f"Tripletex rejected the record: name: Feltet må fylles ut. ({n})",
            message_no=f"Tripletex avviste oppføringen: name: Feltet må fylles ut. ({n})",
            svenn_id=f"cus_{n}",
            target_error=TRIPLETEX_ERROR,
            payload={"name": f"Bygg {n} AS", "organization_number": "123456785"},
        )
        for n in range(7)
    ]
    rows.append(
        Failure(
            tenant="t-acme",
            entity="project",
            direction="tripletex_to_svenn",
            reason_code="PROJECT_NO_START_DATE",
            message_en="Project 'Tak' has no start date; projects without a start date are "
            "not synced.",
            message_no="Prosjektet «Tak» mangler startdato.",
            tripletex_id="901",
            target_error={"all_codes": ["PROJECT_NO_START_DATE"]},
            payload={"name": "Tak", "number": "P-9"},
        )
    )
    with state_store.sessions.begin() as session:
        ensure_integration(session, "t-acme")
        record_failures(session, rows)
        save_links(
            session,
            "t-acme",
            [NewLink("customer", "cus_0", "77", base_snapshot={"name": "Bygg 0 AS"})],
        )
    return database


def test_unknown_tenant_entity_and_reason_are_refused_clearly(seeded):
    unknown = _cli(seeded, "list", "t-nobody")
    assert unknown.returncode == 1
    assert "no tenant 't-nobody'" in unknown.stderr and "Traceback" not in unknown.stderr
    plural = _cli(seeded, "list", "t-acme", "--entity", "projects")
    assert plural.returncode == 2 and "'projects' is not one of" in plural.stderr
    reason = _cli(seeded, "list", "t-acme", "--reason", "NOPE")
    assert reason.returncode == 2 and "'NOPE' is not a reason code" in reason.stderr
    fmt = _cli(seeded, "list", "t-acme", "--format", "xml")
    assert fmt.returncode == 2 and "Traceback" not in fmt.stderr
    missing = _cli(seeded, "explain", "t-acme", "999999")
    assert missing.returncode == 1 and "has no failed record 999999" in missing.stderr


def test_csv_and_json_carry_every_column(seeded):
    as_json = json.loads(_cli(seeded, "list", "t-acme", "--format", "json").stdout)
    assert len(as_json) == 8
    first = as_json[0]
    assert first["message_no"].startswith("Tripletex avviste")
    assert first["target_error"]["field_errors"][0]["message"] == "Feltet må fylles ut."
    as_csv = list(
        csv.DictReader(io.StringIO(_cli(seeded, "list", "t-acme", "--format", "csv").stdout))
    )
    assert len(as_csv) == 8
    assert json.loads(as_csv[0]["target_error"])["code"] == 18000
    only = json.loads(
        _cli(seeded, "list", "t-acme", "--format", "json", "--entity", "project").stdout
    )
    assert [r["reason_code"] for r in only] == ["PROJECT_NO_START_DATE"]


def test_table_pages_fit_80_columns_and_the_page_hint_works_as_printed(seeded):
    first = _cli(seeded, "list", "t-acme", "--limit", "3")
    assert first.returncode == 0, first.stderr
    assert "open rows 1–3 of 8" in first.stdout
    assert max(len(line) for line in first.stdout.splitlines() if ": " not in line) <= 80
    hint = re.search(r"^next page: \S*svenn-sync (.+)$", first.stdout, re.M)
    assert hint, first.stdout
    following = _cli(seeded, *hint.group(1).split()[1:])  # the words after "failures"
    assert "open rows 4–6 of 8" in following.stdout


def test_explain_names_both_sides_the_rule_and_what_to_do(seeded):
    listed = json.loads(_cli(seeded, "list", "t-acme", "--format", "json").stdout)
    linked = next(r for r in listed if r["svenn_id"] == "cus_0")
    story = _cli(seeded, "explain", "t-acme", str(linked["id"])).stdout
    assert "Rule: TARGET_REJECTED" in story
    assert "no: Tripletex avviste" in story
    assert "HTTP 422 Validering feilet." in story and "name: Feltet må fylles ut." in story
    assert "Svenn (where it comes from): svenn cus_0" in story and "name: Bygg 0 AS" in story
    assert "Tripletex: linked to tripletex 77" in story
    assert f"failures retry t-acme --id {linked['id']}" in story
    project = next(r for r in listed if r["entity"] == "project")
    story = _cli(seeded, "explain", "t-acme", str(project["id"])).stdout
    assert "Rule: PROJECT_NO_START_DATE" in story
    assert "Tripletex (where it comes from): tripletex 901" in story
    assert "Svenn: no linked record" in story
    assert "Rules the record breaks: PROJECT_NO_START_DATE" in story
