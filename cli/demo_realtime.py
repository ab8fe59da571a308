"""The demo's realtime part: live edits on both sides (one conflicting), ticks, what moved.

Called by ``cli/demo.py`` after the initial sync, with the running sandboxes and the store.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.table import Table

from cli.demo_style import console, step  # the demo's one output style
from sandboxes.live_edits import svenn_edit, svenn_records, tripletex_edit, tripletex_records
from sandboxes.pair import SandboxPair, data_writes
from store.failures import open_failures
from store.links import created_pairs
from store.state import StateStore


def _agreeing_customers(store: StateStore, tenant: str) -> list[tuple[str, str]]:
    """Customer pairs the initial sync created (both sides equal), as (svenn id, tripletex id)."""
    with store.sessions() as session:
        return created_pairs(session, tenant, "customer")


def _tick(label: str) -> dict[str, Any]:
    from flows.realtime_sync import realtime_sync

    started = time.perf_counter()
    summary: dict[str, Any] = asyncio.run(realtime_sync(max_ticks=1, poll_seconds=0.1))
    console.print(f"[bold]{label}[/bold]: one tick in {time.perf_counter() - started:.2f} s")
    return summary


def run_realtime_demo(pair: SandboxPair, store: StateStore) -> None:
    """Edit both systems live, tick, and print what moved where and the conflict logged."""
    step("Realtime: the first tick compares everything once (nothing to do)")
    before = len(data_writes(pair.tripletex_root)) + len(data_writes(pair.svenn_root))
    _tick("baseline tick")
    after = len(data_writes(pair.tripletex_root)) + len(data_writes(pair.svenn_root))
    console.print(f"writes by the baseline tick: {after - before}")

    (sv_a, tx_a), (sv_b, tx_b), (sv_c, tx_c) = _agreeing_customers(store, pair.tenant)[:3]
    step("People edit both systems at once")
    edits = [
        ("Svenn", f"customer {sv_a}", "phone → +47 99 88 77 66"),
        ("Tripletex", f"customer {tx_a}", "name → 'Fjordkanten Eiendom AS'"),
        ("Svenn", f"customer {sv_b}", "e-mail → post@svenn-siden.no  (conflict)"),
        ("Tripletex", f"customer {tx_b}", "e-mail → faktura@regnskap.no (conflict)"),
        ("Tripletex", f"customer {tx_c}", "inactivated"),
        ("Svenn", "new customer", "'Nytt Oppdrag AS', org 914778271"),
    ]
    svenn_edit(pair, "customer", sv_a, {"phone": "+4799887766"})
    tripletex_edit(pair, "customer", tx_a, {"name": "Fjordkanten Eiendom AS"})
    svenn_edit(pair, "customer", sv_b, {"email": "post@svenn-siden.no"})
    tripletex_edit(pair, "customer", tx_b, {"email": "faktura@regnskap.no"})
    tripletex_edit(pair, "customer", tx_c, {"isInactive": True})
    svenn_edit(
        pair, "customer", None, {"name": "Nytt Oppdrag AS", "organizationNumber": "914778271"}
    )
    table = Table("where", "what", "edit", title="Live edits", title_justify="left")
    for row in edits:
        table.add_row(*row)
    console.print(table)

    writes_before = _write_counts(pair)
    summary = _tick("tick")
    writes_after = _write_counts(pair)
    sv, tx = svenn_records(pair, "customer"), tripletex_records(pair, "customer")
    moved = Table("record", "Svenn now", "Tripletex now", title="What moved", title_justify="left")
    moved.add_row("A phone", str(sv[sv_a].get("phone")), str(tx[tx_a].get("phoneNumber")))
    moved.add_row("A name", str(sv[sv_a].get("name")), str(tx[tx_a].get("name")))
    moved.add_row("B e-mail", str(sv[sv_b].get("email")), str(tx[tx_b].get("email")))
    moved.add_row("C active", str(sv[sv_c].get("active")), str(not tx[tx_c].get("isInactive")))
    new = [c for c in tx.values() if c.get("name") == "Nytt Oppdrag AS"]
    moved.add_row(
        "new customer", "created by the user", f"created: id {new[0]['id']}" if new else "-"
    )
    console.print(moved)
    console.print(
        f"writes: to Tripletex {writes_after[0] - writes_before[0]}, "
        f"to Svenn {writes_after[1] - writes_before[1]}; "
        f"slowest tick {summary['slowest_tick_seconds']} s"
    )
    with store.sessions() as session:
        conflicts = [
            f for f in open_failures(session, pair.tenant) if f.reason_code == "FIELD_CONFLICT"
        ]
    for conflict in conflicts:
        console.print(f"[yellow]conflict logged[/yellow]: {conflict.message_en}")
        console.print(f"                 {conflict.message_no}")

    step("Our own writes come back as changes: the next tick writes nothing")
    writes_before = _write_counts(pair)
    _tick("echo tick")
    writes_after = _write_counts(pair)
    console.print(f"writes: {sum(writes_after) - sum(writes_before)}")


def _write_counts(pair: SandboxPair) -> tuple[int, int]:
    return len(data_writes(pair.tripletex_root)), len(data_writes(pair.svenn_root))
