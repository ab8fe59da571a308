"""``make demo``: the whole story on embedded defaults, printed as it happens.

Both sandboxes start on localhost seeded with a generated Norwegian world (messy overlap
included); a tenant is activated (first with a wrong key), reviewed with a plan preview,
approved, and synced; the failed-record log is printed; a second run shows nothing is written
twice. State lives in ``data/demo/state.db`` (recreated on every run).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
ANALYST_HINT = (
    '  sqlite3 data/demo/state.db "SELECT entity, reason_code, message_en FROM '
    'open_failed_records"\n'
    "  svenn-sync failures list t-demo   ·   svenn-sync integrations list"
)


def _table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(str(column))
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


def _configure(data_dir: Path, tripletex_url: str, svenn_url: str) -> None:
    database = data_dir / "state.db"
    database.unlink(missing_ok=True)
    os.environ.update(
        {
            "SVENN_SYNC_DATA_DIR": str(data_dir),
            "SVENN_SYNC_DATABASE_URL": f"sqlite:///{database.resolve()}",
            "SVENN_SYNC_TRIPLETEX_BASE_URL": tripletex_url,
            "SVENN_SYNC_SVENN_BASE_URL": svenn_url,
        }
    )
    from config.settings import load_settings

    load_settings.cache_clear()


def _writes(root: str) -> int:
    from sandboxes.pair import data_writes

    return len(data_writes(root))


def run_demo(size: str = "demo", data_dir: Path = Path("data/demo")) -> None:
    """Run the demo end to end and print what happened."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.artifacts import Artifact
    from pydantic import SecretStr

    from cli.demo_hours import demo_hours
    from cli.operate import activate_tenant, decide
    from flows.initial_sync import initial_sync
    from sandboxes.pair import sandbox_pair
    from store.failures import open_failures
    from tasks.tenant import state_store

    data_dir.mkdir(parents=True, exist_ok=True)
    console.rule("Svenn ↔ Tripletex: demo on embedded defaults")
    with sandbox_pair(size=size, seed=1) as pair:
        _configure(data_dir, pair.tripletex_url, pair.svenn_url)
        world = pair.world
        console.print(
            f"Sandboxes up: Tripletex {pair.tripletex_url} (company {pair.company_id}), "
            f"Svenn {pair.svenn_url} (tenant {pair.tenant}).\n"
            f"Tripletex holds {len(world.tripletex.customers)} customers, "
            f"{len(world.tripletex.projects)} projects, {len(world.tripletex.employees)} "
            f"employees; Svenn {len(world.svenn.customers)}, {len(world.svenn.projects)}, "
            f"{len(world.svenn.employees)} — about half of them the same things, spelt messily."
        )
        svenn_key = SecretStr(pair.svenn_api_key)
        console.rule("1. A tenant pastes a key without 'Alle tilganger'")
        _, refusal = activate_tenant(pair.tenant, SecretStr("demo-limited-token"), svenn_key, 0)
        console.print(f"[red]refused[/red]: {refusal}")
        console.rule("2. The right key: validated, stored encrypted, integration in review")
        _, status = activate_tenant(pair.tenant, SecretStr(pair.employee_token), svenn_key, 0)
        console.print(
            f"status: [bold]{status}[/bold]; writes so far: Tripletex "
            f"{_writes(pair.tripletex_root)}, Svenn {_writes(pair.svenn_root)}"
        )
        plan: Any = Artifact.get("plan-counts-t-demo")
        if plan is not None:
            console.print(_table("Plan preview (dry run) shown to the approver", _rows(plan.data)))
        console.rule("3. Ops approve (here with the CLI: svenn-sync approve t-demo --by ...)")
        store = state_store()
        console.print(decide(store, pair.tenant, "approve", "kari@ops", "plan looks right"))
        counts: Any = Artifact.get("initial-sync-counts-t-demo")
        if counts is not None:
            console.print(_table("Initial sync, per entity", _rows(counts.data)))
        with store.sessions() as session:
            _print_failures(open_failures(session, pair.tenant))
        console.rule("4. Run the initial sync again: nothing is written twice")
        before = _writes(pair.tripletex_root) + _writes(pair.svenn_root)
        result = asyncio.run(initial_sync(pair.tenant))
        after = _writes(pair.tripletex_root) + _writes(pair.svenn_root)
        console.print(f"status {result['status']}; writes during the second run: {after - before}")
        from cli.demo_realtime import run_realtime_demo

        run_realtime_demo(pair, store)
        demo_hours(pair, store, console)
        console.rule("Where to look")
        console.print(f"State store: {os.environ['SVENN_SYNC_DATABASE_URL']}")
        console.print(ANALYST_HINT)


def _print_failures(failures: list[Any]) -> None:
    """The failed-record log by reason, with one example message per reason in both languages."""
    by_reason = Counter((f.entity, f.reason_code) for f in failures)
    rows = [{"entity": e, "reason": r, "records": n} for (e, r), n in sorted(by_reason.items())]
    console.print(_table(f"Failed records ({len(failures)} open), by reason", rows))
    seen: set[str] = set()
    for failure in failures:
        if failure.reason_code not in seen:
            seen.add(failure.reason_code)
            console.print(f"  [dim]{failure.reason_code}[/dim] {failure.message_en}")
            console.print(f"  [dim]{'':{len(failure.reason_code)}}[/dim] {failure.message_no}")


def _rows(data: Any) -> list[dict[str, Any]]:
    import json

    rows = json.loads(data) if isinstance(data, str) else data
    return [dict(r) for r in rows]
