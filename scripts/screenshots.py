"""`make screenshots`: the rehearsal on the sandboxes against a real Prefect server, photographed.

Starts a Prefect server with its UI (tests/server/harness.py), the pool, every deployment and a
worker, both sandboxes and a throwaway state store; runs an activation through its deployment,
and photographs with headless Chromium (Playwright, scripts/browser.py) what an operator sees:
the plan of the paused run, the approval form, the initial-sync summary and the failed-record
table, a nightly reconciliation's drift report, then a realtime window's table. The PNGs land in
docs/screenshots/ (shown in the README), each artifact's text next to its PNG (NAME.txt, checked
by the suite), and a table wider than the 1,400 px page stops the run. Everything started here
is stopped at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from sandboxes.pair import SandboxPair, sandbox_pair
from scripts.artifact_text import DECISION, REALTIME_PARAMETERS, SHOWN, artifact_text, text_path
from scripts.browser import Browser
from store.db import make_engine, session_factory
from store.links import links_for
from store.models import Link
from sync.records import Entity
from tests.server.harness import (
    ACTIVATE,
    ROOT,
    PrefectServer,
    Worker,
    activation_parameters,
    sandbox_env,
    store_env,
)

OUT = ROOT / "docs" / "screenshots"
RECONCILE = "reconcile/reconcile"
REALTIME = "realtime-sync/realtime-sync"
WIDTH = 1400  # the browser's width: every table must be readable without scrolling
WAIT = 900.0  # a loaded 2-core machine needs minutes for a flow run's first imports


def latest_artifact(server: PrefectServer, key: str) -> dict[str, Any]:
    """The newest version of the artifact ``key``."""
    found = server.artifacts(key=key)
    if not found:
        raise SystemExit(f"no artifact {key!r} was published")
    return dict(found[0])


def shoot_artifact(
    browser: Browser, server: PrefectServer, pair: SandboxPair, name: str, wait_for: str
) -> Path:
    """Open the artifact screenshot ``name`` shows, save its page as docs/screenshots/NAME.png
    and its text as NAME.txt; a table that does not fit the 1,400 px page stops the run."""
    artifact = latest_artifact(server, SHOWN[name].format(tenant=pair.tenant))
    browser.open(f"{server.ui_url}/artifacts/artifact/{artifact['id']}", wait_for)
    text_path(name).write_text(artifact_text(artifact), encoding="utf-8")
    if artifact.get("type") == "table":
        needed, given = browser.table_overflow()
        if needed > given or needed > WIDTH:
            raise SystemExit(
                f"the table of {name} is {needed} px wide but the page at {WIDTH} px gives it "
                f"{given} px: shorten its columns (tasks/report.py, tasks/realtime_report.py)"
            )
        print(f"{name}: table {needed} px wide, fits the {given} px it is given", flush=True)
    return browser.screenshot(OUT / f"{name}.png")


def plant_drift(pair: SandboxPair, links: Sequence[Link]) -> None:
    """What realtime could have missed: an edit on each side of the first two linked records
    (``links``: customers), one in Svenn, one in Tripletex."""
    first, second = links[:2]
    svenn_edit = {
        "entity": "customer",
        "id": first.svenn_id,
        "operation": "update",
        "changes": {"name": "Nytt navn satt i Svenn AS"},
    }
    url = f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit"
    httpx.post(url, json=svenn_edit).raise_for_status()
    tripletex_edit = {
        "entity": "customer",
        "id": second.tripletex_id,
        "changes": {"email": "faktura@endret-i-tripletex.no"},
    }
    url = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/edit"
    httpx.post(url, json=tripletex_edit).raise_for_status()


def customer_links(pair: SandboxPair, store_url: str) -> list[Link]:
    """The tenant's linked customers, read from the store at ``store_url``."""
    engine = make_engine(store_url)
    with session_factory(engine)() as session:
        links = links_for(session, pair.tenant, Entity.CUSTOMER.value)
    engine.dispose()
    return links


def rehearse(
    server: PrefectServer, worker: Worker, pair: SandboxPair, browser: Browser, store_url: str
) -> list[Path]:
    """Activation → plan → approval form → approve → summary → failed records → reconcile →
    a realtime window."""
    shots = []
    run_id = server.run_deployment(ACTIVATE, activation_parameters(server, pair))
    server.wait_for_state(run_id, {"PAUSED"}, WAIT, worker)
    shots.append(shoot_artifact(browser, server, pair, "1-plan", "Initial sync plan"))

    browser.open(f"{server.ui_url}/runs/flow-run/{run_id}", "Resume")
    browser.click("Resume")
    browser.wait_for_text("Approve starts the initial sync")
    shots.append(browser.screenshot(OUT / "2-approval-form.png"))

    server.resume(run_id, DECISION)  # the same call the form's Submit makes
    server.wait_for_state(run_id, timeout=WAIT, worker=worker)
    shots.append(shoot_artifact(browser, server, pair, "3-summary", "Initial sync"))
    shots.append(shoot_artifact(browser, server, pair, "4-failed-records", "melding (norsk)"))

    links = customer_links(pair, store_url)
    plant_drift(pair, links)
    nightly = server.run_deployment(RECONCILE, {"tenant": pair.tenant})
    server.wait_for_state(nightly, timeout=WAIT, worker=worker)
    shots.append(shoot_artifact(browser, server, pair, "5-reconcile", "Nightly reconciliation"))

    plant_drift(pair, links[2:])  # two more edits for the first realtime window
    window = server.run_deployment(REALTIME, REALTIME_PARAMETERS)
    server.wait_for_state(window, timeout=WAIT, worker=worker)
    shots.append(shoot_artifact(browser, server, pair, "6-realtime", "changed in Svenn"))
    return shots


def take_keys(env: Mapping[str, str], pair: SandboxPair) -> None:
    """The tenant's keys go through the key intake into the store (never run parameters)."""
    import asyncio
    import os

    from pydantic import SecretStr

    from config.settings import load_settings
    from intake.keys import Accepted
    from intake.keys import take_keys as intake

    os.environ.update(env)
    load_settings.cache_clear()
    keys = SecretStr(pair.employee_token), SecretStr(pair.svenn_api_key)
    taken = asyncio.run(intake(pair.tenant, *keys))
    if not isinstance(taken, Accepted):
        raise SystemExit(f"the sandbox keys were refused: {taken}")


def main() -> None:
    """Run the rehearsal and write the screenshots."""
    with tempfile.TemporaryDirectory(prefix="svenn-screens-") as tmp:
        store_url = f"sqlite:///{tmp}/state.db"
        store = store_env(store_url, None, Fernet.generate_key().decode())
        with (
            sandbox_pair(size="small", seed=7) as pair,
            PrefectServer.start(ui=True) as server,
        ):
            print(f"Prefect server with UI at {server.ui_url}", flush=True)
            server.deploy()
            take_keys(store | sandbox_env(pair), pair)
            with (
                server.worker(store | sandbox_env(pair)) as worker,
                Browser() as browser,
            ):
                for path in rehearse(server, worker, pair, browser, store_url):
                    print(f"wrote {path.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
