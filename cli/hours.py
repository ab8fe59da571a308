"""``svenn-sync hours export TENANT [--from --to]``: run the export-hours flow for one tenant.

Without a period it exports what changed since the last export (the first time: every approved
hour); with ``--from``/``--to`` it re-checks that period end to end (inclusive dates).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Hours export to Tripletex.", no_args_is_help=True)
console = Console()


@app.command("export")
def export_command(
    tenant: Annotated[str, typer.Argument(help="The tenant, e.g. t-demo.")],
    date_from: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First date.")
    ] = None,
    date_to: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last date.")
    ] = None,
) -> None:
    """Send the tenant's approved hours to Tripletex (exactly once) and print what happened."""
    from cli.leases import refuse_while_held
    from cli.main import clear_errors, open_store
    from flows.export_hours import HoursExportError, export_hours
    from store.leases import HOURS_EXPORT

    if (date_from is None) != (date_to is None):
        console.print("[red]give both --from and --to, or neither[/red]")
        raise typer.Exit(2)
    first = date_from.date() if date_from else None
    last = date_to.date() if date_to else None
    with clear_errors():
        refuse_while_held(open_store(migrate=True), tenant, HOURS_EXPORT)
    try:
        result = asyncio.run(export_hours(tenant=tenant, date_from=first, date_to=last))
    except HoursExportError as error:
        console.print(f"[red]export failed[/red]: {error}")
        raise typer.Exit(1) from None
    for name, value in result[tenant].items():
        console.print(f"{name.replace('_', ' ')}: {value}")
