"""`svenn-sync integrations list|show` on a seeded store: one readable row per tenant at 80
columns (as many headers as values, no cell cut below its first word), every field as JSON/CSV,
and `show` for everything about one integration."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.integrations import ensure_integration, transition
from store.models import IntegrationStatus as S

ROOT = Path(__file__).resolve().parents[1]
LONG_ERROR = (
    "The initial sync stopped: Tripletex kept refusing requests as too many (HTTP 429) after "
    "every retry; wait a few minutes, then run the initial sync again"
)


def _cli(database, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    url, schema = database
    env = dict(os.environ, SVENN_SYNC_DATABASE_URL=url, COLUMNS=str(columns))
    env.pop("PREFECT_API_URL", None)
    if schema:
        env["SVENN_SYNC_DATABASE_SCHEMA"] = schema
    return subprocess.run(
        [sys.executable, "-m", "cli", "integrations", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def seeded(state_store, database):
    now = dt.datetime.now(dt.UTC)
    with state_store.sessions.begin() as session:
        for tenant, company_id, company in [
            ("t-rørlegger-vest", 4712, "Rørleggermester Hansen og Sønner Vestland AS"),
            ("t-demo", 4711, "Demo Bygg AS"),
        ]:
            row = ensure_integration(session, tenant)
            row.tripletex_company_id, row.tripletex_company_name = company_id, company
            row.svenn_tenant_id, row.svenn_tenant_name = f"svenn-{tenant}", f"{company} (Svenn)"
            transition(session, tenant, S.REVIEW, actor="intake")
            transition(session, tenant, S.APPROVED, actor="kari@ops", reason="plan checked")
        session.flush()
        ensure_integration(session, "t-rørlegger-vest").last_error = LONG_ERROR
        ensure_integration(session, "t-demo").realtime_ok_at = now - dt.timedelta(seconds=7)
    return database


def _first_word(cell: str) -> str:
    return cell.split()[0] if cell.split() else ""


@pytest.mark.parametrize("columns", [80, 200])
def test_the_list_reads_at_80_and_200_columns(seeded, columns):
    from cli.integrations import TABLE_COLUMNS

    done = _cli(seeded, "list", columns=columns)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    header = next(line for line in lines if line.lstrip().startswith("tenant"))
    heads = [h for h in header.split("  ") if h.strip()]
    assert [h.strip() for h in heads] == TABLE_COLUMNS  # one header per value, none repeated
    assert "…" not in done.stdout  # nothing truncated
    body = done.stdout
    for word in ["t-rørlegger-vest", "t-demo", "approved", "Rørleggermester", "never", " s ago"]:
        assert word in body, (word, body)
    assert all(word in body for word in LONG_ERROR.split())  # wraps at words, never cut
    assert "kari@ops" not in body  # the decision is in `show`


def test_the_table_has_as_many_values_as_headers_and_no_cell_cut_below_its_first_word():
    from rich.console import Console

    from cli.integrations import FIELDS, TABLE_COLUMNS, integrations_table, table_cells

    values = dict.fromkeys(FIELDS) | {
        "tenant": "t-rørlegger-vest",
        "status": "failed",
        "tripletex_company_id": 4711,
        "tripletex_company_name": "Rørleggermester Hansen og Sønner Vestland AS",
        "last_error": LONG_ERROR,
    }
    cells = table_cells(values)
    table = integrations_table([values])
    assert [c.header for c in table.columns] == TABLE_COLUMNS and len(cells) == len(TABLE_COLUMNS)
    for width in (80, 200):
        out = Console(width=width, record=True, file=io.StringIO())
        out.print(table)
        text = out.export_text()
        for cell in cells:
            assert _first_word(cell) in text, (width, cell, text)


def test_json_and_csv_have_every_field(seeded):
    from cli.integrations import FIELDS

    as_json = _cli(seeded, "list", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    rows = {row["tenant"]: row for row in json.loads(as_json.stdout)}
    assert list(rows["t-demo"]) == FIELDS
    assert rows["t-demo"]["decided_by"] == "kari@ops" and rows["t-demo"]["lag_seconds"] >= 7
    assert rows["t-rørlegger-vest"]["last_error"] == LONG_ERROR
    as_csv = _cli(seeded, "list", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    read = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["tenant"] for r in read] == ["t-demo", "t-rørlegger-vest"]
    assert read[0]["svenn_tenant_id"] == "svenn-t-demo"


def test_show_names_both_accounts_the_decision_and_the_history(seeded):
    done = _cli(seeded, "show", "t-demo")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Demo Bygg AS" in text and "4711" in text and "svenn-t-demo" in text
    assert "kari@ops" in text and "plan checked" in text
    assert "review → approved" in text
    unknown = _cli(seeded, "show", "t-nope")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no integration for tenant 't-nope'")
    assert "Traceback" not in unknown.stderr
