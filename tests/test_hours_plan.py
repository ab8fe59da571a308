"""Hours export, pure logic: eligibility, summing into entries, and the plan per key."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

from sync.entities import HourEntry
from sync.hours import (
    ANY_ENTRY,
    Content,
    EntryKey,
    ProjectActivities,
    TripletexEntry,
    choose_activity,
    entry_content,
    place_hours,
    plan_export,
    totals_per_employee,
)
from sync.rules import ReasonCode
from tests.hours_world import LINKS, Store, Tripletex, plan_for, run_export

DAY = dt.date(2025, 3, 3)


def hour(ident: str, **changes: Any) -> HourEntry:
    base: dict[str, Any] = {
        "id": ident,
        "employee_id": "e1",
        "project_id": "p1",
        "activity_id": "t-normal",
        "date": DAY,
        "hours": Decimal("7.5"),
        "status": "approved",
    }
    return HourEntry(**(base | changes))


def export(svenn: dict[str, HourEntry], tx: Tripletex, store: Store, **kw: Any) -> Any:
    return asyncio.run(run_export(svenn, tx, store, **kw))


def only_entry(tx: Tripletex) -> TripletexEntry:
    (entry,) = tx.entries.values()
    return entry


def test_only_approved_non_zero_hours_on_a_synced_project_are_placed() -> None:
    rows = [
        hour("h1"),
        hour("h2", status="submitted"),
        hour("h3", hours=Decimal(0)),
        hour("h4", project_id=None),
        hour("h5", employee_id="e-unknown"),
        hour("h6", project_id="p-unknown"),
    ]
    placed, held = place_hours(rows, LINKS)
    assert [p.svenn_hour_id for p in placed] == ["h1"]
    assert {(h.svenn_hour_id, h.reason) for h in held} == {
        ("h3", ReasonCode.HOURS_ZERO),
        ("h4", ReasonCode.HOURS_NO_PROJECT),
        ("h5", ReasonCode.HOURS_EMPLOYEE_NOT_LINKED),
        ("h6", ReasonCode.HOURS_PROJECT_NOT_LINKED),
    }


def test_a_task_maps_to_the_activity_of_the_same_name_else_the_standard_one() -> None:
    allowed = ProjectActivities("201", (("301", "Normaltid", True), ("302", "Reise", True)))
    assert choose_activity("reise", allowed) == "302"
    assert choose_activity("Sveising", allowed) == "301"  # first general activity
    assert choose_activity("Sveising", allowed, standard="Reise") == "302"
    assert choose_activity(None, ProjectActivities("9", ())) is None
    placed, _ = place_hours([hour("h1", activity_id="t-travel", project_id="p2")], LINKS)
    assert placed[0].key.activity_id == "301"  # project 202 has no "Reise": standard activity


def test_no_allowed_activity_holds_the_hours() -> None:
    links = LINKS.__class__(**{**vars(LINKS), "activities": {}})
    placed, held = place_hours([hour("h1")], links)
    assert placed == [] and held[0].reason is ReasonCode.HOURS_NO_ACTIVITY


def test_rows_on_one_key_are_summed_into_one_entry_with_comments_joined() -> None:
    svenn = {
        "h1": hour("h1", comment="Rigging"),
        "h2": hour("h2", hours=Decimal("2"), comment="Montering"),
        "h3": hour("h3", hours=Decimal("1"), comment="Rigging"),
    }
    tx, store = Tripletex(), Store()
    _, counts = export(svenn, tx, store)
    assert counts is not None and counts.created == 1
    assert only_entry(tx).content == Content(Decimal("10.50"), "Rigging; Montering")
    assert {r.key for r in store.ledger.values()} == {only_entry(tx).key}


def test_a_second_run_over_unchanged_data_writes_nothing() -> None:
    svenn = {"h1": hour("h1"), "h2": hour("h2", date=DAY + dt.timedelta(days=1))}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    writes = tx.writes
    plan, _ = export(svenn, tx, store)
    assert tx.writes == writes and plan.writes() == 0


def test_an_edit_updates_a_move_deletes_and_creates_an_unapproval_removes() -> None:
    svenn = {"h1": hour("h1"), "h2": hour("h2", hours=Decimal("1"))}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    svenn["h2"] = hour("h2", hours=Decimal("2"))
    plan, _ = export(svenn, tx, store)
    assert [k.action for k in plan.keys] == ["update"]
    assert only_entry(tx).content.hours == Decimal("9.50")
    svenn["h2"] = hour("h2", hours=Decimal("2"), date=DAY + dt.timedelta(days=1))
    plan, _ = export(svenn, tx, store)
    assert sorted(k.action for k in plan.keys) == ["create", "update"]
    assert sorted(e.content.hours for e in tx.entries.values()) == [Decimal("2"), Decimal("7.5")]
    svenn["h2"] = hour("h2", status="submitted", date=DAY + dt.timedelta(days=1))
    plan, _ = export(svenn, tx, store)
    assert [k.action for k in plan.keys if k.action != "keep"] == ["delete"]
    assert only_entry(tx).content.hours == Decimal("7.5") and "h2" not in store.ledger


def test_a_locked_period_holds_the_change_until_it_is_reopened() -> None:
    svenn = {"h1": hour("h1")}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    tx.lock("2025-03", True)
    svenn["h1"] = hour("h1", hours=Decimal("8"))
    plan, _ = export(svenn, tx, store)
    (held,) = plan.held
    assert held.reason is ReasonCode.HOURS_LOCKED and held.context == {"period": "2025-03"}
    assert only_entry(tx).content.hours == Decimal("7.5")
    tx.lock("2025-03", False)
    plan, _ = export(svenn, tx, store)
    assert plan.held == [] and only_entry(tx).content.hours == Decimal("8")


def test_new_hours_in_a_locked_month_are_refused_with_the_period() -> None:
    tx, store = Tripletex(), Store()
    tx.lock("2025-03", True)
    _, counts = export({"h1": hour("h1")}, tx, store)
    assert counts is not None and counts.refused == 1
    assert counts.refusals[0].refusal is not None
    assert counts.refusals[0].refusal.period == "2025-03"
    assert tx.entries == {} and store.written == {} and store.ledger == {}


def test_an_hour_never_moves_off_a_locked_entry() -> None:
    svenn = {"h1": hour("h1"), "h2": hour("h2", hours=Decimal("1"))}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    tx.lock("2025-03", True)
    svenn["h2"] = hour("h2", hours=Decimal("1"), date=dt.date(2025, 4, 1))
    plan, _ = export(svenn, tx, store)
    assert [(h.svenn_hour_id, h.reason) for h in plan.held] == [("h2", ReasonCode.HOURS_LOCKED)]
    assert [e.content.hours for e in tx.entries.values()] == [Decimal("8.50")]  # not in two places
    tx.lock("2025-03", False)
    export(svenn, tx, store)
    assert sorted(e.content.hours for e in tx.entries.values()) == [Decimal("1"), Decimal("7.5")]


def test_a_run_killed_after_the_post_is_adopted_by_key_never_posted_twice() -> None:
    svenn = {"h1": hour("h1")}
    tx, store = Tripletex(), Store()
    # steps: settle-quiet is skipped (nothing quiet) → 1 begin, 2 send, 3 answer lost
    _, counts = export(svenn, tx, store, die_at=3)
    assert counts is None and len(tx.entries) == 1 and store.ledger == {}
    plan, counts = export(svenn, tx, store)
    assert [k.action for k in plan.keys] == ["adopt"] and counts.adopted == 1
    assert len(tx.entries) == 1 and set(store.ledger) == {"h1"}


def test_a_hand_change_in_tripletex_is_reported_and_svenn_wins() -> None:
    svenn = {"h1": hour("h1")}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    tx.hand_edit(only_entry(tx).id, Decimal("9"))
    plan, _ = export(svenn, tx, store)
    (key_plan,) = plan.keys
    assert key_plan.action == "update" and key_plan.hand_change == "7.50 h → 9.00 h"
    assert only_entry(tx).content.hours == Decimal("7.5")


def test_an_entry_someone_else_registered_on_the_key_is_left_alone() -> None:
    tx, store = Tripletex(), Store()
    key = EntryKey("101", DAY, "201", "301")
    tx.create(key, Content.of(3, "ført i Tripletex"))
    plan, _ = export({"h1": hour("h1")}, tx, store)
    assert [h.reason for h in plan.held] == [ReasonCode.HOURS_ENTRY_EXISTS]
    assert only_entry(tx).content.hours == Decimal("3")


def test_totals_per_employee_add_up_the_placed_hours() -> None:
    placed, _ = place_hours(
        [hour("h1"), hour("h2", hours=Decimal("2")), hour("h3", employee_id="e2")], LINKS
    )
    assert totals_per_employee(placed, {"e1": "Kari"}) == {
        "Kari": Decimal("9.5"),
        "e2": Decimal("7.5"),
    }
    assert entry_content([]) == Content.of(0, None)


def test_plan_for_an_empty_world_is_empty() -> None:
    assert plan_for({}, Tripletex(), Store()).keys == []


def _sent_two() -> tuple[dict[str, HourEntry], Tripletex, Store]:
    svenn = {"h1": hour("h1"), "h2": hour("h2", date=DAY + dt.timedelta(days=1))}
    tx, store = Tripletex(), Store()
    export(svenn, tx, store)
    assert len(tx.entries) == 2
    return svenn, tx, store


def test_an_hour_that_cannot_be_read_is_not_taken_for_withdrawn() -> None:
    svenn, tx, store = _sent_two()
    placed, _ = place_hours([svenn["h2"]], LINKS)  # h1 was served malformed
    ledger, written = store.window()
    entries = list(tx.entries.values())
    day_one = {k.key.date: k.action for k in plan_export(placed, ledger, written, entries).keys}
    assert day_one[DAY] == "delete"  # what a missing hour means when nothing was unreadable
    for unread in ({"h1"}, None):  # by id, or "some hour whose id could not be read"
        plan = plan_export(placed, ledger, written, entries, unread_hours=unread)
        assert {k.key.date: k.action for k in plan.keys} == {
            DAY: "keep",
            DAY + dt.timedelta(days=1): "keep",
        }


def test_a_key_whose_entry_cannot_be_read_is_held_not_written_twice() -> None:
    svenn, tx, store = _sent_two()
    svenn["h1"] = hour("h1", hours=Decimal("3"))  # changed, so its entry would be rewritten
    placed, _ = place_hours(svenn.values(), LINKS)
    ledger, written = store.window()
    first = next(e for e in tx.entries.values() if e.key.date == DAY)
    readable = [e for e in tx.entries.values() if e.id != first.id]
    unaware = plan_export(placed, ledger, written, readable)
    assert {k.key.date: k.action for k in unaware.keys}[DAY] == "create"  # a second entry
    context = {"system": "Tripletex", "field": "hours", "value": '"x"'}
    for unread in ({first.id: context}, {ANY_ENTRY: context}):
        plan = plan_export(placed, ledger, written, readable, unread_entries=unread)
        [key] = [k for k in plan.keys if k.key.date == DAY]
        assert key.action == "hold" and key.hold is ReasonCode.MALFORMED_RECORD
        assert [(h.svenn_hour_id, h.reason) for h in plan.held] == [
            ("h1", ReasonCode.MALFORMED_RECORD)
        ]


def test_hours_that_may_need_an_unreadable_tripletex_activity_are_held_not_moved() -> None:
    context = {"system": "Tripletex", "field": "name", "value": "42"}
    allowed = ProjectActivities("201", (("301", "Normaltid", True),), unreadable=context)
    links = LINKS.__class__(**{**vars(LINKS), "activities": {"201": allowed}})
    placed, held = place_hours(
        [hour("h1"), hour("h2", activity_id="t-travel"), hour("h3", activity_id=None)], links
    )
    assert [(p.svenn_hour_id, p.key.activity_id) for p in placed] == [("h1", "301")]
    assert {(h.svenn_hour_id, h.reason) for h in held} == {
        ("h2", ReasonCode.MALFORMED_RECORD),  # "Reise" may be the activity that was unreadable
        ("h3", ReasonCode.MALFORMED_RECORD),
    }
    assert all(h.context == context for h in held)
