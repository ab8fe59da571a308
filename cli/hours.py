"""``svenn-sync hours export TENANT [--from --to]``: run the export-hours flow for one tenant.

Without a period it exports what changed since the last export (the first time: every approved
hour); with ``--from``/``--to`` it re-checks that period end to end (inclusive dates).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from prefect.states import State

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
    from cli.common import clear_errors, fail, open_store
    from cli.integrations import require_integration
    from cli.leases import refuse_while_held
    from store.leases import HOURS_EXPORT

    if (date_from is None) != (date_to is None):
        fail("give both --from and --to, or neither")
    first = date_from.date() if date_from else None
    last = date_to.date() if date_to else None
    if first and last and last < first:
        fail(f"--to {last} is before --from {first}")
    require_integration(tenant, {"active"}, "export hours for")  # before any server starts
    with clear_errors():
        refuse_while_held(open_store(migrate=True), tenant, HOURS_EXPORT)
    # Prefect and the flow are imported once the export may run (seconds of CPU)
    from cli.prefect_server import prefect_api
    from flows.export_hours import export_hours

    with clear_errors(), prefect_api():

        async def run() -> State[dict[str, Any]]:
            return await export_hours(  # type: ignore[no-any-return]
                tenant=tenant, date_from=first, date_to=last, return_state=True
            )

        state = asyncio.run(run())
        if not state.is_completed():
            fail(f"export failed: {state.message}", code=1)
        result = state.result()
    for name, value in result[tenant].items():
        console.print(f"{name.replace('_', ' ')}: {value}")
