"""``svenn-sync failures``: read, explain and retry the failed-record log.

``list`` pages through a tenant's rows as a table that fits 80 columns (and reads the same when
piped), or as CSV/JSON for scripts; ``explain`` tells one record's story; ``retry`` runs the
retry-failed flow in this process (both systems must be reachable).
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from store.models import FailedRecord
from sync.rules import ReasonCode

CLI = ".venv/bin/svenn-sync"


def cli() -> str:
    """The CLI as the next command must be typed: with the store setting this one was given
    (so a hint printed while reading the demo's store reads it too)."""
    data_dir = os.environ.get("SVENN_SYNC_DATA_DIR")
    return f"SVENN_SYNC_DATA_DIR={data_dir} {CLI}" if data_dir else CLI


PAGE = 50
app = typer.Typer(help="The failed-record log: list, explain, retry.", no_args_is_help=True)
console = Console()


class EntityChoice(StrEnum):
    """The entities with failed records a retry can act on."""

    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    PROJECT = "project"


def _reason(value: str | None) -> str | None:
    """A reason code, or a clear refusal naming the codes there are."""
    if value is None or value in {c.value for c in ReasonCode}:
        return value
    codes = ", ".join(c.value for c in ReasonCode)
    raise typer.BadParameter(f"{value!r} is not a reason code; one of: {codes}")


EntityOption = Annotated[EntityChoice | None, typer.Option(help="Only this entity.")]
ReasonOption = Annotated[
    str | None, typer.Option(help="Only this reason code (see sync/rules.py).", callback=_reason)
]


class Format(StrEnum):
    """How ``failures list`` prints."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


class StatusChoice(StrEnum):
    """Which rows ``failures list`` shows."""

    OPEN = "open"
    RESOLVED = "resolved"
    IGNORED = "ignored"
    ALL = "all"


COLUMNS = [
    "id",
    "tenant",
    "entity",
    "direction",
    "svenn_id",
    "tripletex_id",
    "reason_code",
    "status",
    "attempts",
    "message_en",
    "message_no",
    "target_error",
    "first_seen",
    "last_seen",
    "resolved_at",
    "resolved_by",
]


def _fail(message: str, code: int = 1) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _known_tenant(session: Any, tenant: str) -> None:
    from store.failures import has_failures
    from store.integrations import get_integration

    if get_integration(session, tenant) is None and not has_failures(session, tenant):
        _fail(
            f"no tenant {tenant!r}: it has no integration and no failed records "
            f"(`{cli()} integrations list` shows the tenants)"
        )


def _plain(row: FailedRecord) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in COLUMNS}
    for name in ("first_seen", "last_seen", "resolved_at"):
        moment = values[name]
        values[name] = moment.isoformat(timespec="seconds") if moment else None
    return values


def _record_cell(row: FailedRecord) -> str:
    return f"{row.entity}\nsvenn {row.svenn_id or '–'}\ntripletex {row.tripletex_id or '–'}"


def _reason_cell(row: FailedRecord) -> str:
    tries = f"{row.attempts} attempt{'s' if row.attempts != 1 else ''}"
    state = "" if row.status == "open" else f", {row.status}"
    return f"{row.reason_code}\n{tries}{state}"


def print_table(rows: list[FailedRecord], out: Console) -> None:
    """Rows as a table that fits 80 columns: the message wraps, codes and ids do not."""
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False, expand=False)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("record", no_wrap=True)
    table.add_column("reason", no_wrap=True)
    table.add_column("message", ratio=1, overflow="fold")
    for row in rows:
        table.add_row(str(row.id), _record_cell(row), _reason_cell(row), row.message_en)
    out.print(table)


def _page_hint(command: list[str], shown_to: int, total: int) -> str:
    return " ".join([cli(), *command, "--offset", str(shown_to)]) if shown_to < total else ""


@app.command("list")
def list_command(
    tenant: str,
    entity: EntityOption = None,
    reason: ReasonOption = None,
    status: Annotated[StatusChoice, typer.Option(help="Which rows.")] = StatusChoice.OPEN,
    output: Annotated[Format, typer.Option("--format", help="How to print.")] = Format.TABLE,
    limit: Annotated[
        int | None, typer.Option(min=1, help=f"Rows per page (table: {PAGE}; csv/json: all).")
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many rows (next page).")] = 0,
) -> None:
    """Show a tenant's failed records (open ones unless --status says otherwise)."""
    from cli.common import clear_errors, open_store
    from store.failures import find_failures

    if limit is None and output is Format.TABLE:
        limit = PAGE
    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            _known_tenant(session, tenant)
            rows, total = find_failures(
                session,
                tenant,
                entity=entity.value if entity else None,
                reason=reason,
                status=None if status is StatusChoice.ALL else status.value,
                limit=limit,
                offset=offset,
            )
            plain = [_plain(r) for r in rows]
            if output is Format.TABLE:
                _print_page(tenant, rows, total, offset, entity, reason, status, limit)
    if output is Format.JSON:
        print(json.dumps(plain, ensure_ascii=False, indent=2))
    elif output is Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for values in plain:
            error = values["target_error"]
            writer.writerow(values | {"target_error": json.dumps(error) if error else ""})
        sys.stdout.write(buffer.getvalue())


def _print_page(
    tenant: str,
    rows: list[FailedRecord],
    total: int,
    offset: int,
    entity: Any,
    reason: Any,
    status: StatusChoice,
    limit: int | None = PAGE,
) -> None:
    which = "" if status is StatusChoice.ALL else f"{status.value} "
    if not rows:
        console.print(f"no {which}failed records for {tenant}" + (" here" if offset else ""))
        return
    print_table(rows, console)
    command = ["failures", "list", tenant]
    command += ["--entity", entity.value] if entity else []
    command += ["--reason", reason] if reason else []
    command += [] if status is StatusChoice.OPEN else ["--status", status.value]
    command += [] if limit in (None, PAGE) else ["--limit", str(limit)]
    shown_to = offset + len(rows)
    console.print(f"{which}rows {offset + 1}–{shown_to} of {total}", highlight=False)
    hint = _page_hint(command, shown_to, total)
    if hint:
        console.print(f"next page: {hint}", highlight=False, soft_wrap=True)
    console.print(
        f"one record's story: {cli()} failures explain {tenant} {rows[0].id}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("explain")
def explain_command(tenant: str, failure_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Tell one failed record's story: both sides, the rule or the target's error, what to do."""
    from cli.common import clear_errors, open_store
    from cli.story import story
    from store.failures import get_failure
    from store.links import links_for

    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            _known_tenant(session, tenant)
            row = get_failure(session, tenant, failure_id)
            if row is None:
                _fail(
                    f"{tenant} has no failed record {failure_id} "
                    f"(`{cli()} failures list {tenant}` shows the ids)"
                )
            assert row is not None
            links = links_for(session, tenant, row.entity)
            text = story(row, links, cli())
    console.print(text, highlight=False, soft_wrap=True)


@app.command("retry")
def retry_command(
    tenant: str,
    reason: ReasonOption = None,
    entity: EntityOption = None,
    failure_id: Annotated[int | None, typer.Option("--id", help="Only this row.")] = None,
    by: Annotated[
        str | None, typer.Option(help="Who asks (recorded on the rows it resolves).")
    ] = None,
) -> None:
    """Read both sides again for the open rows asked about; sync what now can."""
    import asyncio

    from cli.common import clear_errors, open_store
    from cli.leases import refuse_while_held
    from flows.retry_failed import retry_failed
    from store.leases import INITIAL_SYNC

    by = by or getpass.getuser()

    with clear_errors():
        store = open_store(migrate=True)
        with store.sessions() as session:
            _known_tenant(session, tenant)
        refuse_while_held(store, tenant, INITIAL_SYNC)  # a retry writes as the initial sync

        async def run() -> Any:
            return await retry_failed(
                tenant,
                reason=reason,
                entity=entity.value if entity else None,
                failure_id=failure_id,
                retried_by=by,
                return_state=True,
            )

        state = asyncio.run(run())
    if not state.is_completed():
        _fail(str(state.message))
    outcome = state.result()[tenant]
    console.print(
        f"{tenant}: {outcome['retried']} retried, {outcome['resolved']} resolved, "
        f"{outcome['still_open']} still open "
        f"({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, by {by})",
        highlight=False,
    )
