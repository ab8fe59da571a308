"""The demo's last words: the integration as the tenant sees it, and a signed Logg link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cli.demo_style import console, hint, say, step

INTAKE_URL = "http://127.0.0.1:8710"


def show_tenant_side(store: Any, tenant: str, data_dir: Path) -> str:
    """Print the tenant's status (as ``GET /tenants/{tenant}`` answers) and a signed link to
    its Logg page; returns the link."""
    from config.settings import load_settings
    from intake.logg_link import logg_path
    from store.tenant_log import read_overview

    settings = load_settings()
    with store.sessions() as session:
        overview = read_overview(session, tenant)
    step("For the tenant: the status and the Logg page")
    if overview is None:
        say(f"{tenant} has no integration.")
        return ""
    say(
        f"statusText: {overview.status_text} (status {overview.status}); "
        f"open problems: {overview.open_problems}"
    )
    valid_for = dt.timedelta(seconds=settings.logg_link_seconds)
    link = INTAKE_URL + logg_path(settings.logg_link_key, tenant, valid_for)
    say("The tenant's Logg page, a signed link (once `svenn-sync intake` serves it):")
    console.print(f"  {link}", highlight=False, soft_wrap=True)
    hint(f"logg-link {tenant}", data_dir, "a fresh signed link (valid one hour)")
    return link
