"""``svenn-sync disable|enable|keys replace``: the tenant's switches, for ops.

The same rules as the tenant API's routes (:mod:`tasks.tenant_control` holds them for both):
turning off erases the stored keys; turning on again takes keys of the same accounts, needs no
new review and reconciles before the integration is active; a new Tripletex key must be of the
same company. Keys come from the environment or a hidden prompt, never from the command line.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import typer
from pydantic import SecretStr

if TYPE_CHECKING:  # the tasks import Prefect: only the command that runs pays for it
    from tasks.activation import Refusal
    from tasks.tenant_control import Done

keys_app = typer.Typer(help="A tenant's stored keys.", no_args_is_help=True)

TRIPLETEX_TOKEN = typer.Option(
    ...,
    envvar="TRIPLETEX_EMPLOYEE_TOKEN",
    prompt=True,
    hide_input=True,
    help="The tenant's Tripletex employee token (or env TRIPLETEX_EMPLOYEE_TOKEN).",
)
SVENN_KEY = typer.Option(
    ...,
    envvar="SVENN_API_KEY",
    prompt=True,
    hide_input=True,
    help="The tenant's Svenn API key (or env SVENN_API_KEY).",
)


def _told(outcome: Done | Refusal) -> None:
    from cli.common import console, fail
    from tasks.activation import Refusal

    if isinstance(outcome, Refusal):
        fail(str(outcome), code=1)
    else:
        console.print(outcome.message)


def disable_command(
    tenant: str,
    by: str = typer.Option(..., help="Who turns it off (name or e-mail)."),
    reason: str = typer.Option("", help="Why, in a sentence (kept in the history)."),
) -> None:
    """Turn the integration off: no ticks, exports, retries or reconciliations; keys erased."""
    from cli.common import clear_errors, open_store
    from config.settings import load_settings
    from tasks.tenant_control import turn_off

    with clear_errors():
        open_store(migrate=True)
        _told(asyncio.run(turn_off(load_settings(), tenant, by, reason or None)))


def enable_command(
    tenant: str,
    tripletex_token: str = TRIPLETEX_TOKEN,
    svenn_key: str = SVENN_KEY,
    by: str = typer.Option(..., help="Who turns it on again (name or e-mail)."),
) -> None:
    """Turn it on again with keys of the same accounts: reconcile, then active (no review)."""
    from cli.common import clear_errors, console, fail, open_store
    from cli.prefect_server import prefect_api
    from config.settings import load_settings
    from intake.keys import turn_on_in_process
    from tasks.tenant_control import turn_on

    with clear_errors(), prefect_api():
        open_store(migrate=True)
        token, key = SecretStr(tripletex_token), SecretStr(svenn_key)
        _told(asyncio.run(turn_on(load_settings(), tenant, token, key, by)))
        state = turn_on_in_process(tenant)
    if not state.is_completed():
        fail(str(state.message), code=1)
    console.print(f"{tenant}: {state.result()}")


@keys_app.command("replace")
def replace_command(
    tenant: str,
    tripletex_token: str = TRIPLETEX_TOKEN,
    by: str = typer.Option("ops", help="Who pastes the new key (name or e-mail)."),
) -> None:
    """Store a new Tripletex key of the same company (validated now; the old one erased)."""
    from cli.common import clear_errors, open_store
    from config.settings import load_settings
    from tasks.tenant_control import replace_tripletex_key

    with clear_errors():
        open_store(migrate=True)
        outcome = replace_tripletex_key(load_settings(), tenant, SecretStr(tripletex_token), by)
        _told(asyncio.run(outcome))
