"""The demo's hours step: export the approved hours, then show a locked period refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from rich.console import Console


def demo_hours(pair: Any, store: Any, console: Console) -> None:
    """Export t-demo's approved hours; lock one month in Tripletex, edit an hour in it, export
    again and print the refusal with its message (English for ops, Norwegian for the tenant)."""
    from cli.demo_style import step
    from flows.export_hours import export_hours
    from store.failures import open_failures
    from store.hours_ledger import load_window

    step("Hours export: approved Svenn hours become Tripletex timesheet entries")
    result = asyncio.run(export_hours(tenant=pair.tenant))[pair.tenant]
    console.print(
        f"entries created {result['entries_created']} from {result['hours_sent']} approved "
        f"hour rows; held back {result['held_back']} (reasons in the failed-record log)"
    )
    again = asyncio.run(export_hours(tenant=pair.tenant))[pair.tenant]
    console.print(f"second export, nothing new: {again['entries_created']} created")
    with store.sessions() as session:
        ledger, _ = load_window(session, pair.tenant, dt.date.min, dt.date.max)
    if not ledger:
        return
    row = sorted(ledger, key=lambda r: r.svenn_hour_id)[0]
    month = row.key.date.strftime("%Y-%m")
    base = f"{pair.tripletex_root}/_admin/companies/{pair.company_id}/timesheet/month"
    httpx.post(base, json={"month": month, "locked": True}).raise_for_status()
    edit = {"entity": "hours", "id": row.svenn_hour_id, "operation": "update",
            "changes": {"hours": float(row.hours + Decimal("0.5"))}}  # fmt: skip
    httpx.post(f"{pair.svenn_root}/_admin/tenants/{pair.tenant}/edit", json=edit)
    console.print(
        f"An accountant approves {month} in Tripletex; a manager then edits an hour in it."
    )
    asyncio.run(export_hours(tenant=pair.tenant))
    with store.sessions() as session:
        for failure in open_failures(session, pair.tenant, entity="hours"):
            if failure.reason_code == "HOURS_LOCKED":
                console.print(f"[yellow]HOURS_LOCKED[/yellow] {failure.message_en}")
                console.print(f"  (Logg) {failure.message_no}")
                break
