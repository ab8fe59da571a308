"""The failed-record side of an hours export: what was held back or refused, and what resolved.

Every Svenn hour that is not where it should be in Tripletex gets a row with its reason code
(keyed on the Svenn hour; on the Tripletex entry when no Svenn hour is known). At the end of a
run, open hours rows in the window that no longer fail are resolved: a reopened period, a fixed
link or a withdrawn hour closes its row without anyone touching it. A hand change in Tripletex
is logged as a row that the same run resolves (Svenn's hours were written over it), so the log
keeps the trail without leaving work for anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from store.failures import Failure, open_failures, record_failures, resolve_failures
from store.state import StateStore
from sync.hours import EntryKey, ExportPlan, KeyPlan
from sync.hours_apply import ExportCounts
from sync.records import Direction, Entity
from sync.rules import ReasonCode, message

HOURS = Entity.HOURS.value
DIRECTION = Direction.SVENN_TO_TRIPLETEX.value


def _failure(
    tenant: str,
    run_id: str,
    reason: ReasonCode,
    svenn_id: str | None,
    entry_id: str | None,
    day: dt.date,
    key: EntryKey | None,
    context: dict[str, Any],
    error: dict[str, Any] | None = None,
) -> Failure:
    english, norwegian = message(
        reason, **{"date": day.isoformat(), "system": "Tripletex"} | context
    )
    return Failure(
        tenant=tenant,
        entity=HOURS,
        direction=DIRECTION,
        reason_code=reason.value,
        message_en=english,
        message_no=norwegian,
        svenn_id=svenn_id,
        tripletex_id=entry_id,
        target_error=error,
        payload={"date": day.isoformat(), "entry": key.label() if key else None},
        flow_run_id=run_id,
    )


def _blamed(plan: KeyPlan) -> tuple[str | None, ...]:
    ids = plan.changed + plan.left or tuple(sorted(r.svenn_hour_id for r in plan.rows))
    return ids or (None,)


def hours_failures(
    tenant: str, run_id: str, plan: ExportPlan, counts: ExportCounts
) -> tuple[list[Failure], list[Failure]]:
    """(failures that stay open, hand changes that are logged and resolved at once)."""
    failing: list[Failure] = []
    for held in plan.held:
        failing.append(
            _failure(
                tenant,
                run_id,
                held.reason,
                held.svenn_hour_id,
                held.entry_id,
                held.date,
                held.key,
                dict(held.context),
            )
        )
    refused_keys = set()
    for outcome in counts.refusals:
        refusal, key_plan = outcome.refusal, outcome.plan
        if refusal is None:
            continue
        refused_keys.add(key_plan.key)
        entry_id = key_plan.entry.id if key_plan.entry else None
        context = {
            "period": refusal.period or "–",
            "detail": refusal.detail,
            "detail_no": refusal.detail,
        }
        for svenn_id in _blamed(key_plan):
            failing.append(
                _failure(
                    tenant,
                    run_id,
                    refusal.reason,
                    svenn_id,
                    entry_id,
                    key_plan.key.date,
                    key_plan.key,
                    context,
                    refusal.error,
                )
            )
    changed_by_hand = [
        _failure(
            tenant,
            run_id,
            ReasonCode.HOURS_CHANGED_IN_TRIPLETEX,
            svenn_id,
            k.entry.id if k.entry else None,
            k.key.date,
            k.key,
            {"change": k.hand_change},
        )
        for k in plan.keys
        if k.hand_change is not None and k.key not in refused_keys and k.action != "hold"
        for svenn_id in _blamed(k)
    ]
    return _distinct(failing), _distinct(changed_by_hand)


def _distinct(failures: Iterable[Failure]) -> list[Failure]:
    """One row per record and reason (an upsert may not touch a row twice)."""
    found: dict[tuple[str, str], Failure] = {}
    for failure in failures:
        found.setdefault((failure.record_key, failure.reason_code), failure)
    return list(found.values())


def log_failures(
    store: StateStore,
    tenant: str,
    run_id: str,
    plan: ExportPlan,
    counts: ExportCounts,
    window: tuple[dt.date, dt.date],
    seen: set[str],
    unreadable: Sequence[Failure] = (),
) -> None:
    """Record this run's failures (``unreadable``: rows for records that could not be read),
    then resolve open hours rows in the window that passed."""
    failing, changed_by_hand = hours_failures(tenant, run_id, plan, counts)
    failing = _distinct([*unreadable, *failing])
    still_failing = {f.record_key for f in failing}
    first, last = window
    with store.sessions.begin() as session:
        record_failures(session, failing + changed_by_hand)
        passed = [
            row.record_key
            for row in open_failures(session, tenant, entity=HOURS)
            if row.record_key not in still_failing
            and (row.svenn_id in seen or _dated_within(row.payload, first, last))
        ]
        resolve_failures(session, tenant, HOURS, passed, by=run_id)


def _dated_within(payload: dict[str, Any] | None, first: dt.date, last: dt.date) -> bool:
    day = (payload or {}).get("date")
    return bool(day) and first <= dt.date.fromisoformat(str(day)) <= last
