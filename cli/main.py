"""``svenn-sync``: one command per job, for ops and scripts.

Every command reads the settings from the environment; a bad setting is one clear line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated

import typer

from cli.common import clear_errors, console, fail, open_store
from cli.control import disable_command, enable_command, keys_app
from cli.decisions import register as register_decisions
from cli.failures import app as failures_app
from cli.hours import app as hours_app
from cli.integrations import app as integrations_app
from cli.worker import POOL
from config.settings import SettingsError, load_settings

app = typer.Typer(help="Svenn ↔ Tripletex sync: operate the integration.", no_args_is_help=True)
db_app = typer.Typer(help="The state store.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(integrations_app, name="integrations")
app.add_typer(failures_app, name="failures")
register_decisions(app, failures_app)
app.add_typer(hours_app, name="hours")
app.add_typer(keys_app, name="keys")
app.command("disable")(disable_command)
app.command("enable")(enable_command)
prefect_app = typer.Typer(
    help="Prefect housekeeping: zombie runs, alert automations.", no_args_is_help=True
)
app.add_typer(prefect_app, name="prefect")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the state store up (default: to the latest revision)."""
    from store.migrate import current_revision, upgrade

    with clear_errors():
        store = open_store()
        upgrade(store.engine, revision)
        console.print(f"store at revision {current_revision(store.engine)}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, e.g. base")) -> None:
    """Migrate the state store down to a revision."""
    from store.migrate import current_revision, downgrade

    with clear_errors():
        store = open_store()
        downgrade(store.engine, revision)
        console.print(f"store at revision {current_revision(store.engine)}")


def main() -> None:
    """Entry point: wrong input and settings problems are one line on stderr, never a box or a
    traceback; a closed pipe (`| head`) ends the CLI quietly, and its temporary server with it."""
    from cli.usage import NoArgsIsHelpError, UsageError, usage_sentence

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as asked:
        print(asked.ctx.get_help() if asked.ctx else "svenn-sync --help")
        sys.exit(2)
    except UsageError as error:
        print(f"error: {usage_sentence(error)}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("error: stopped before anything was done", file=sys.stderr)
        sys.exit(1)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


@app.command("demo")
def demo(
    size: str = typer.Option("demo", help="World size: small, demo, bench or a number."),
) -> None:
    """Run the whole story on embedded defaults: sandboxes, activation, approval, sync."""
    from cli.demo import run_demo

    with clear_errors():
        run_demo(size)  # on the CLI's temporary server, Prefect's own lines in a log file


@app.command("activate")
def activate_command(
    tenant: str,
    tripletex_token: str = typer.Option(
        "",
        envvar="TRIPLETEX_EMPLOYEE_TOKEN",
        show_default=False,
        help="The tenant's Tripletex employee token (or env TRIPLETEX_EMPLOYEE_TOKEN; "
        "asked for on a terminal).",
    ),
    svenn_key: str = typer.Option(
        "",
        envvar="SVENN_API_KEY",
        show_default=False,
        help="The tenant's Svenn API key (or env SVENN_API_KEY; asked for on a terminal).",
    ),
    wait: int = typer.Option(
        0, help="Seconds to wait for an approval before leaving the integration in review."
    ),
) -> None:
    """Validate the keys, put the integration in review and publish the plan preview."""
    from cli.usage import ask_for_key

    tripletex_token = tripletex_token or ask_for_key(
        "Tripletex employee token", "TRIPLETEX_EMPLOYEE_TOKEN"
    )
    svenn_key = svenn_key or ask_for_key("Svenn API key", "SVENN_API_KEY")
    # Prefect and the flows are imported once there is something to run (seconds of CPU)
    from pydantic import SecretStr

    from cli.operate import activate_tenant
    from cli.prefect_server import prefect_api

    with clear_errors(), prefect_api():
        open_store(migrate=True)
        accepted, text = activate_tenant(
            tenant, SecretStr(tripletex_token), SecretStr(svenn_key), wait
        )
    if not accepted:
        fail(text, code=1)
    console.print(f"{tenant}: {text}")


def _decide(tenant: str, decision: str, by: str, reason: str) -> None:
    from cli.integrations import require_integration

    require_integration(tenant, {"review"}, decision)  # before any server starts or Prefect loads
    from cli.operate import DecisionError, decide
    from cli.prefect_server import prefect_api

    with clear_errors(), prefect_api():
        store = open_store(migrate=True)
        try:
            console.print(decide(store, tenant, decision, by, reason))
        except DecisionError as error:
            fail(str(error), code=1)


@app.command("approve")
def approve_command(
    tenant: str,
    by: str = typer.Option(..., "--by", help="Who approves (name or e-mail)."),
    reason: str = typer.Option("", help="Why."),
) -> None:
    """Approve an integration in review: the initial sync starts."""
    _decide(tenant, "approve", by, reason)


@app.command("reject")
def reject_command(
    tenant: str,
    by: str = typer.Option(..., "--by", help="Who rejects (name or e-mail)."),
    reason: str = typer.Option(..., help="Why (shown to the tenant)."),
) -> None:
    """Reject an integration in review, with a reason."""
    _decide(tenant, "reject", by, reason)


@app.command("intake")
def intake_command(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (put TLS in front)."),
    port: int = typer.Option(8710, help="Port to listen on."),
) -> None:
    """Serve the HTTP key intake: POST /tenants/TENANT/activation (SVENN_SYNC_INTAKE_TOKEN)."""
    from intake.app import IntakeUnavailableError, serve

    with clear_errors():
        open_store(migrate=True)
        try:
            serve(host, port)
        except IntakeUnavailableError as error:
            fail(str(error))


@app.command("logg-link")
def logg_link_command(
    tenant: str,
    base_url: str = typer.Option(
        "http://127.0.0.1:8710",
        help="Where the intake is reached (as the tenant's browser sees it).",
    ),
    valid_for: int = typer.Option(0, help="Seconds the link opens the page (0: the setting)."),
) -> None:
    """Print a signed link to TENANT's Logg page (expires; SVENN_SYNC_LOGG_LINK_KEY signs it)."""
    import datetime as dt

    from intake.logg_link import logg_path
    from store.integrations import get_integration

    with clear_errors():
        settings = load_settings()
        with open_store(migrate=True).sessions() as session:
            if get_integration(session, tenant) is None:
                fail(f"tenant {tenant!r} has no integration; activate it first")
        seconds = valid_for or settings.logg_link_seconds
        path = logg_path(settings.logg_link_key, tenant, dt.timedelta(seconds=seconds))
        typer.echo(base_url.rstrip("/") + path)


@app.command("initial-sync")
def initial_sync_command(tenant: str) -> None:
    """Run (or rerun, after a stop) the initial sync of an approved tenant."""
    import asyncio

    from cli.integrations import require_integration
    from cli.leases import refuse_while_held
    from store.integrations import APPROVED_STATES
    from store.leases import INITIAL_SYNC

    require_integration(tenant, {s.value for s in APPROVED_STATES}, "sync")
    with clear_errors():
        refuse_while_held(open_store(migrate=True), tenant, INITIAL_SYNC)
    # Prefect and the flow are imported once the tenant may be synced (seconds of CPU)
    from cli.prefect_server import prefect_api
    from flows.initial_sync import run_initial_sync

    with clear_errors(), prefect_api():
        code = asyncio.run(run_initial_sync(tenant))
    if code:
        raise typer.Exit(code)


@app.command("worker", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker_command(
    ctx: typer.Context,
    pool: str = typer.Option(POOL, help="The work pool (prefect.yaml uses svenn-sync)."),
) -> None:
    """Start a Prefect worker on the pool; it stops on SIGTERM even when started with `&`, and
    the runs it started stop with it (marked Crashed in Prefect).

    Other options go to `prefect worker start` (e.g. `--name`, `--limit`).
    """
    from cli.worker import run_worker

    code = run_worker(pool, ctx.args)
    if code:
        raise typer.Exit(code)


WaitTargets = Annotated[
    list[str],
    typer.Argument(help="URLs (ready once they answer), plan:TENANT, active:TENANT."),
]


@app.command("wait-for")
def wait_for_command(
    targets: WaitTargets,
    timeout: float = typer.Option(600.0, help="Seconds to wait for all of them."),
) -> None:
    """Wait until each target is ready, in order: a service answers, a tenant's plan waits for
    a decision, a tenant is active. For scripts: the next line can use what is ready."""
    from cli.wait import NotReady, target, wait_for

    try:
        wait_for([target(text) for text in targets], timeout, console.print)
    except NotReady as error:
        fail(str(error), code=1)


@prefect_app.command("setup")
def prefect_setup() -> None:
    """On a Prefect server: create the automation that marks silent (killed) runs Crashed, and
    one automation per alert that notifies ops through SVENN_SYNC_ALERT_BLOCK (idempotent)."""
    import asyncio

    from prefect.client.orchestration import get_client

    from cli.alerts import AlertBlockError, SetUp, ensure_alert_automations
    from cli.prefect_server import prefect_api
    from cli.zombies import AUTOMATION_NAME, ensure_zombie_automation

    block = load_settings().alert_block

    async def setup() -> tuple[bool, list[SetUp]]:
        async with get_client() as client:
            created = await ensure_zombie_automation(client)
            alerts = await ensure_alert_automations(client, block) if block else []
            return created, alerts

    with clear_errors(), prefect_api():
        try:
            created, alerts = asyncio.run(setup())
        except AlertBlockError as error:
            fail(str(error))
    console.print(f"automation {AUTOMATION_NAME!r} {'created' if created else 'already there'}")
    for done in alerts:
        console.print(f"automation {done.name!r} {done.done} (notifies through {block!r})")
    if not block:
        console.print(
            "alerts: SVENN_SYNC_ALERT_BLOCK is not set, so the alert events reach Prefect but "
            "nobody is notified; name a Prefect notification block there and run setup again"
        )


@prefect_app.command("sweep")
def prefect_sweep(
    grace_seconds: int = typer.Option(0, help="Silence that makes a run a zombie (0: default)."),
) -> None:
    """Mark Crashed the Running/Paused flow runs that stopped sending heartbeats."""
    import asyncio
    import datetime as dt

    from prefect.client.orchestration import get_client

    from cli.prefect_server import prefect_api
    from cli.zombies import Zombie, crash_zombie_runs

    async def sweep() -> list[Zombie]:
        grace = dt.timedelta(seconds=grace_seconds) if grace_seconds > 0 else None
        async with get_client() as client:
            return await crash_zombie_runs(client, grace=grace)

    with clear_errors(), prefect_api():
        crashed = asyncio.run(sweep())
    for zombie in crashed:
        console.print(f"marked crashed: {zombie.name} ({zombie.id}, was {zombie.flow_state})")
    if not crashed:
        console.print("no zombie flow runs")
