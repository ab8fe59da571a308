"""``make demo``: the whole story on embedded defaults, printed as it happens.

Both sandboxes start on localhost seeded with a generated Norwegian world (messy overlap
included); a tenant is activated (first with a wrong key), reviewed with a plan preview,
approved, and synced; the failed-record log is printed; a second run shows nothing is written
twice. State lives in ``data/demo/state.db`` (recreated on every run); the commands printed at
the end read it exactly as printed. How the demo prints is ``cli.demo_style``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cli.demo_style import (
    STEPS,
    console,
    expected_refusal,
    hint,
    prefect_lines_to,
    quiet_libraries,
    say,
    step,
    table,
)


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
    """Run the demo end to end on the CLI's temporary Prefect server and print what happened;
    Prefect's own lines go to ``data_dir/prefect.log``."""
    from cli.prefect_server import prefect_api

    started = time.monotonic() - seconds_since_process_start()
    quiet_libraries()
    STEPS[0] = 0
    with prefect_lines_to(data_dir / PREFECT_LOG), ExitStack() as server:
        with console.status("Starting Prefect's temporary server"):
            server.enter_context(prefect_api())
        tell_the_story(size, data_dir)
    say("Prefect's own lines (its server, runs and tasks) are in this file:")
    console.print(f"  {data_dir / PREFECT_LOG}", highlight=False, soft_wrap=True)  # copies whole
    say(f"The demo took {time.monotonic() - started:.0f} s.")


PREFECT_LOG = "prefect.log"


def seconds_since_process_start() -> float:
    """How long this process has run (its imports included), so the duration the demo prints
    is the one a stopwatch gives; 0 where /proc cannot tell (not Linux)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def tell_the_story(size: str, data_dir: Path) -> None:
    """The demo's steps, on both sandboxes."""
    with console.status("Starting: loading Prefect and Great Expectations, starting sandboxes"):
        from prefect.artifacts import Artifact
        from pydantic import SecretStr

        from cli.demo_hours import demo_hours
        from cli.operate import activate_tenant, decide
        from config.settings import load_settings
        from flows.initial_sync import initial_sync
        from sandboxes.pair import sandbox_pair
        from store.failures import open_failures
        from tasks.alerts import where_review_went
        from tasks.tenant import state_store

    data_dir.mkdir(parents=True, exist_ok=True)
    console.rule("Svenn ↔ Tripletex: demo on embedded defaults")
    with sandbox_pair(size=size, seed=1) as pair:
        _configure(data_dir, pair.tripletex_url, pair.svenn_url)
        world = pair.world
        say(
            f"Sandboxes up: Tripletex {pair.tripletex_url} (company {pair.company_id}), "
            f"Svenn {pair.svenn_url} (tenant {pair.tenant}).\n"
            f"Tripletex holds {len(world.tripletex.customers)} customers, "
            f"{len(world.tripletex.projects)} projects, {len(world.tripletex.employees)} "
            f"employees; Svenn {len(world.svenn.customers)}, {len(world.svenn.projects)}, "
            f"{len(world.svenn.employees)} — about half of them the same things, spelt messily."
        )
        svenn_key = SecretStr(pair.svenn_api_key)
        step("A tenant pastes a key without 'Alle tilganger'")
        with (
            console.status("Validating the key (Prefect starts its server first)"),
            expected_refusal(),
        ):
            _, refusal = activate_tenant(pair.tenant, SecretStr("demo-limited-token"), svenn_key, 0)
        say(f"Refused, as it should be; the tenant reads: {refusal}")
        step("The right key: validated, stored encrypted, integration in review")
        with console.status("Validating, reading both sides, checking, planning (dry run)"):
            _, status = activate_tenant(pair.tenant, SecretStr(pair.employee_token), svenn_key, 0)
        say(
            f"status: {status}; writes so far: Tripletex "
            f"{_writes(pair.tripletex_root)}, Svenn {_writes(pair.svenn_root)}"
        )
        say(where_review_went(state_store(), pair.tenant, load_settings().alert_block))
        plan: Any = Artifact.get("plan-counts-t-demo")
        if plan is not None:
            table("Plan preview (dry run) shown to the approver", _rows(plan.data), PLAN_LABELS)
        step("Ops approve (here with the CLI's approve command)")
        store = state_store()
        with console.status("Approved: initial sync running (step 1, step 2, checks)"):
            say(decide(store, pair.tenant, "approve", "kari@ops", "plan looks right"))
        counts: Any = Artifact.get("initial-sync-counts-t-demo")
        if counts is not None:
            table("Initial sync, per entity", _rows(counts.data), RESULT_LABELS)
        with store.sessions() as session:
            _print_failures(open_failures(session, pair.tenant))
        step("Run the initial sync again: nothing is written twice")
        before = _writes(pair.tripletex_root) + _writes(pair.svenn_root)
        with console.status("Initial sync again"):
            result = asyncio.run(initial_sync(pair.tenant))
        after = _writes(pair.tripletex_root) + _writes(pair.svenn_root)
        say(f"status {result['status']}; writes during the second run: {after - before}")
        from cli.demo_realtime import run_realtime_demo

        run_realtime_demo(pair, store)
        demo_hours(pair, store, console)
        step("Where to look (the demo's store stays in place; these read it)", numbered=False)
        example = _example_failure(store, pair.tenant)
        hint(f"failures list {pair.tenant}", data_dir, "the open failed records, 50 a page")
        hint(
            f"failures list {pair.tenant} --format csv",
            data_dir,
            "all of them as CSV (or --format json) for a spreadsheet or a script",
        )
        if example is not None:
            hint(f"failures explain {pair.tenant} {example}", data_dir, "one record's story")
        hint(f"integrations show {pair.tenant}", data_dir, "who approved what, and when")
        say("Analysts: the views open_failed_records and failed_records_daily (README).")
        from cli.demo_tenant import show_tenant_side

        show_tenant_side(store, pair.tenant, data_dir)


PLAN_LABELS = {
    "already_linked": "linked before",
    "to_link": "to link",
    "to_align": "of them to align",
    "to_create_in_svenn": "create in Svenn",
    "to_create_in_tripletex": "create in Tripletex",
    "will_fail": "will not sync",
}
RESULT_LABELS = {
    "created_in_svenn": "created in Svenn",
    "created_in_tripletex": "created in Tripletex",
}


def _example_failure(store: Any, tenant: str) -> int | None:
    """An open row worth explaining: a refusal by the target if any, else the first."""
    from store.failures import open_failures

    with store.sessions() as session:
        rows = open_failures(session, tenant)
    chosen = next(
        (r for r in rows if r.reason_code.startswith("TARGET_")), rows[0] if rows else None
    )
    return chosen.id if chosen is not None else None


def _print_failures(failures: list[Any]) -> None:
    """The failed-record log by reason, with one example message per reason in both languages."""
    by_reason = Counter((f.entity, f.reason_code) for f in failures)
    rows = [{"entity": e, "reason": r, "records": n} for (e, r), n in sorted(by_reason.items())]
    table(f"Failed records ({len(failures)} open), by reason", rows)
    examples: dict[str, Any] = {}
    for failure in failures:
        examples.setdefault(failure.reason_code, failure)
    table(
        "One example per reason (English for ops, Norwegian for the tenant's log)",
        [
            {"reason": code, "message": f"{f.message_en}\n{f.message_no}"}
            for code, f in examples.items()
        ],
    )


def _rows(data: Any) -> list[dict[str, Any]]:
    import json

    rows = json.loads(data) if isinstance(data, str) else data
    return [dict(r) for r in rows]
