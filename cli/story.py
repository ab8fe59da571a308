"""One failed record's story, as ``svenn-sync failures explain`` prints it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from store.models import FailedRecord, Link
from sync.remedies import remedy

SYSTEMS = {"svenn": "Svenn", "tripletex": "Tripletex"}


def _values(values: Mapping[str, Any] | None, indent: str = "    ") -> list[str]:
    if not values:
        return [f"{indent}(no values stored)"]
    lines = []
    for name, value in values.items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))
        lines.append(f"{indent}{name}: {value}")
    return lines


def _when(row: FailedRecord, name: str) -> str:
    moment = getattr(row, name)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def _other_side(row: FailedRecord, links: Sequence[Link], source: str, target: str) -> list[str]:
    own_id = row.svenn_id if source == "svenn" else row.tripletex_id
    for link in links:
        if (link.svenn_id if source == "svenn" else link.tripletex_id) == own_id:
            other_id = link.tripletex_id if source == "svenn" else link.svenn_id
            return [
                f"{SYSTEMS[target]}: linked to {target} {other_id}; values both last agreed on:",
                *_values(link.base_snapshot),
            ]
    details = row.target_error or {}
    if details.get("candidates"):
        candidates = ", ".join(str(c) for c in details["candidates"])
        return [
            f"{SYSTEMS[target]}: no link; records there that match by {details.get('key')}: "
            f"{target} {candidates}"
        ]
    return [f"{SYSTEMS[target]}: no linked record (the sync would create it there)"]


def _evidence(row: FailedRecord) -> list[str]:
    details = row.target_error or {}
    if row.reason_code.startswith("TARGET_"):
        lines = [
            f"The target's answer: HTTP {details.get('status')} {details.get('message') or ''}"
        ]
        lines += [
            f"    {fe.get('field') or fe.get('path')}: {fe.get('message')}"
            for fe in details.get("field_errors") or []
        ]
        if details.get("request_id"):
            lines.append(f"    request id {details['request_id']}")
        return lines
    if details.get("all_codes"):
        return [f"Rules the record breaks: {', '.join(details['all_codes'])}"]
    if details.get("expectations"):
        return [f"Data checks that failed: {', '.join(details['expectations'])}"]
    return []


def story(row: FailedRecord, links: Sequence[Link], cli: str) -> str:
    """The record, both sides, the rule or the target's error, attempts, and what to do."""
    source = "svenn" if row.direction.startswith("svenn") else "tripletex"
    target = "tripletex" if source == "svenn" else "svenn"
    own_id = row.svenn_id if source == "svenn" else row.tripletex_id
    lines = [
        f"Failed record {row.id} of {row.tenant}: {row.entity} from {SYSTEMS[source]} to "
        f"{SYSTEMS[target]}",
        f"Status {row.status}, {row.attempts} attempt(s); first seen {_when(row, 'first_seen')}, "
        f"last {_when(row, 'last_seen')}",
    ]
    if row.resolved_at:
        lines.append(f"Resolved {_when(row, 'resolved_at')} by {row.resolved_by or '–'}")
    lines += [
        "",
        f"Rule: {row.reason_code}",
        f"  en: {row.message_en}",
        f"  no: {row.message_no}",
        *_evidence(row),
        "",
        f"{SYSTEMS[source]} (where it comes from): {source} {own_id}, as read:",
        *_values(row.payload),
        *_other_side(row, links, source, target),
        "",
        f"What to do: {remedy(row.reason_code)}",
    ]
    if row.status == "open":
        lines.append(
            f"Retry it (both systems must be reachable): "
            f"{cli} failures retry {row.tenant} --id {row.id}"
        )
    return "\n".join(lines)
