"""``svenn-sync integrations``: the tenants' integrations, one readable row each.

``list`` prints one row per tenant that reads at 80 columns (status, the Tripletex company,
how fresh the realtime sync is, the last error), or every field as CSV/JSON for scripts;
``show TENANT`` prints everything about one integration, its decision and its status history.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from store.models import Integration

app = typer.Typer(help="Tenants' integrations.", no_args_is_help=True)
console = Console()

FIELDS = [
    "tenant",
    "status",
    "tripletex_company_id",
    "tripletex_company_name",
    "svenn_tenant_id",
    "svenn_tenant_name",
    "decided_by",
    "decided_at",
    "decision_reason",
    "activated_at",
    "realtime_ok_at",
    "lag_seconds",
    "last_error",
    "push_status",
    "push_note",
]
# What `list` shows as a table; `show` and --format json|csv have every field.
TABLE_COLUMNS = ["tenant", "status", "tripletex company", "realtime", "last error"]


class Format(StrEnum):
    """How ``integrations list`` prints."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _moment(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def integration_fields(row: Integration, now: dt.datetime) -> dict[str, Any]:
    """Every field of one integration as plain values (what json/csv and ``show`` print)."""
    from store.realtime import lag_seconds

    values: dict[str, Any] = {name: getattr(row, name, None) for name in FIELDS}
    for name in ("decided_at", "activated_at", "realtime_ok_at"):
        values[name] = _moment(values[name])
    lag = lag_seconds(row, now)
    values["lag_seconds"] = round(lag) if lag is not None else None
    return values


def _realtime_cell(values: dict[str, Any]) -> str:
    if values["realtime_ok_at"] is None:
        return "never"
    return f"{values['lag_seconds']} s ago"


def table_cells(values: dict[str, Any]) -> list[str]:
    """One row of the ``list`` table, in :data:`TABLE_COLUMNS` order."""
    company = values["tripletex_company_name"] or "–"
    if values["tripletex_company_id"] is not None:
        company = f"{company} ({values['tripletex_company_id']})"
    return [
        values["tenant"],
        values["status"],
        company,
        _realtime_cell(values),
        values["last_error"] or "",
    ]


def integrations_table(rows: list[dict[str, Any]]) -> Table:
    """The ``list`` table: tenant and status never wrap, the rest wraps at word boundaries."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    table.add_column("tenant", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("tripletex company", ratio=1, overflow="fold", min_width=12)
    table.add_column("realtime", min_width=8, overflow="fold")
    table.add_column("last error", ratio=2, overflow="fold", min_width=12)
    for values in rows:
        table.add_row(*table_cells(values))
    return table


def _all_rows() -> list[dict[str, Any]]:
    from cli.common import clear_errors, open_store
    from store.integrations import list_integrations

    now = dt.datetime.now(dt.UTC)
    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            return [integration_fields(row, now) for row in list_integrations(session)]


@app.command("list")
def list_command(
    output: Annotated[Format, typer.Option("--format", help="How to print.")] = Format.TABLE,
) -> None:
    """Show every tenant's integration: status, company, realtime freshness, last error."""
    from cli.failures import cli

    rows = _all_rows()
    if output is Format.JSON:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif output is Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    elif not rows:
        console.print("no integrations yet")
    else:
        console.print(integrations_table(rows))
        console.print(
            f"everything about one: {cli()} integrations show {rows[0]['tenant']}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("show")
def show_command(tenant: str) -> None:
    """Everything about one integration: both accounts, the decision, realtime, history."""
    from cli.common import clear_errors, fail, open_store
    from cli.failures import cli
    from store.integrations import get_integration, history

    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            row = get_integration(session, tenant)
            if row is None:
                fail(
                    f"no integration for tenant {tenant!r} "
                    f"(`{cli()} integrations list` shows the tenants)",
                    code=1,
                )
            assert row is not None
            values = integration_fields(row, dt.datetime.now(dt.UTC))
            events = [
                f"{_moment(e.at)}  {e.from_status} → {e.to_status}  by {e.actor}"
                + (f": {e.reason}" if e.reason else "")
                for e in history(session, tenant)
            ]
    width = max(len(name) for name in FIELDS)
    for name in FIELDS:
        value = values[name]
        shown = "–" if value is None or value == "" else str(value)
        console.print(f"{name.replace('_', ' '):<{width}}  {shown}", highlight=False)
    console.print("history:", highlight=False)
    for line in events or ["(no status changes yet)"]:
        console.print(f"  {line}", highlight=False, soft_wrap=True)


def require_integration(tenant: str, allowed: Iterable[str], doing: str) -> None:
    """Refuse in one line, before any Prefect server starts, a tenant the command cannot serve:
    one without an integration, or one whose status is not in ``allowed``."""
    from cli.common import clear_errors, fail, open_store
    from cli.failures import cli
    from store.integrations import get_integration

    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            row = get_integration(session, tenant)
            status = row.status if row else None
    if status is None:
        fail(
            f"no integration for tenant {tenant!r}, so nothing to {doing} "
            f"(`{cli()} integrations list` shows the tenants)",
            code=1,
        )
    wanted = sorted(allowed)
    if status not in wanted:
        fail(
            f"{tenant} is {status}, not in {' or '.join(wanted)}, so there is nothing to {doing} "
            f"(`{cli()} integrations show {tenant}` says why)",
            code=1,
        )
