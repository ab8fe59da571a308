"""The text of the artifacts `make screenshots` photographs, written next to each PNG.

``docs/screenshots/NAME.txt`` holds what the run published (key, description, markdown or table
rows), with what differs from run to run replaced by placeholders: ids, timestamps, durations
and generated run names. The suite runs the same steps and compares its text with the committed
one (tests/flows/test_screenshot_texts.py), so a screenshot taken of an older build is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "screenshots"

# What the rehearsal does, shared with the test that replays it.
DECISION = {
    "decision": "approve",
    "approver": "kari@firma.no",
    "reason": "Plan checked with the customer",
}
REALTIME_PARAMETERS: dict[str, Any] = {"max_ticks": 1, "poll_seconds": 0.1}
# Screenshot name → the artifact key it shows (``{tenant}``: the rehearsal's tenant). The
# approval form (2-approval-form) is a form, not an artifact: it has no text file.
SHOWN = {
    "1-plan": "plan-{tenant}",
    "3-summary": "initial-sync-summary-{tenant}",
    "4-failed-records": "failed-records-{tenant}",
    "5-reconcile": "reconcile-{tenant}",
    "6-realtime": "realtime-sync-counts",
}

_VARYING = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{8}-\d{6}\b"), "<time>"),  # in run names: activate-t-demo-20261128-235012
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms|seconds)\b"), "<duration>"),
    (re.compile(r"\blocal-<id>"), "<id>"),
]


def normalised(text: str) -> str:
    """``text`` with what differs between two equal runs replaced by placeholders."""
    for pattern, placeholder in _VARYING:
        text = pattern.sub(placeholder, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def artifact_text(artifact: Mapping[str, Any]) -> str:
    """An artifact as the API returns it (``key``, ``type``, ``description``, ``data``), in
    plain text: a header, then the markdown, or one JSON line per table row."""
    data = artifact.get("data")
    if artifact.get("type") == "table":
        rows = _numbered(json.loads(data) if isinstance(data, str) else data or [])
        body = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    else:
        body = str(data or "")
    head = [
        f"key: {artifact.get('key')}",
        f"type: {artifact.get('type')}",
        f"description: {artifact.get('description') or ''}",
    ]
    return normalised("\n".join(head) + "\n\n" + body)


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose ``id`` is a database row id, counted from 1 in order: the ids a database
    hands out depend on what it held before (a PostgreSQL sequence is never reset)."""
    ids = sorted(r["id"] for r in rows if isinstance(r.get("id"), int))
    rank = {row_id: n for n, row_id in enumerate(ids, start=1)}
    return [r | {"id": rank[r["id"]]} if r.get("id") in rank else r for r in rows]


def text_path(name: str) -> Path:
    """Where the text of screenshot ``name`` lives."""
    return SHOTS / f"{name}.txt"
