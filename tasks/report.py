"""What the operator sees in the Prefect UI: plan preview, progress and the run summary."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)

from sync.plan import SyncPlan

MAX_TABLE_ROWS = 1000  # the UI stays responsive; the full list is in the failed_records table


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key: lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A small markdown table (for summaries inside markdown artifacts)."""
    if not rows:
        return "_none_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _failure_summary(plan: SyncPlan) -> list[dict[str, Any]]:
    return [
        {"entity": entity.value, "reason_code": code, "records": count}
        for entity, entity_plan in plan.entities.items()
        for code, count in sorted(entity_plan.failure_reasons().items())
    ]


async def publish_plan(tenant: str, plan: SyncPlan, extract_counts: Mapping[str, Any]) -> None:
    """The dry-run plan the approver reads before deciding."""
    failures = plan.failure_rows()
    text = "\n\n".join(
        [
            f"# Initial sync plan for `{tenant}` (dry run: nothing was written)",
            f"Records read: {dict(extract_counts)}",
            "## Per entity\n" + markdown_table(plan.summary_rows()),
            "## Records that will not sync, by reason\n" + markdown_table(_failure_summary(plan)),
            "Approve or reject in the form of this paused flow run, or with "
            f"`svenn-sync approve {tenant} --by NAME` / `svenn-sync reject {tenant} --by NAME`.",
        ]
    )
    await acreate_markdown_artifact(
        text, key=artifact_key("plan", tenant), description="Initial sync plan (dry run)"
    )
    await acreate_table_artifact(
        plan.summary_rows(), key=artifact_key("plan-counts", tenant), description="Plan per entity"
    )
    if failures:
        await acreate_table_artifact(
            failures[:MAX_TABLE_ROWS],
            key=artifact_key("plan-failures", tenant),
            description=f"Records that will not sync ({len(failures)} in all)",
        )


class Progress:
    """A Prefect progress artifact updated as batches complete."""

    def __init__(self, artifact_id: UUID | None, total: int) -> None:
        self.artifact_id, self.total, self.done = artifact_id, max(total, 1), 0

    @classmethod
    async def start(cls, tenant: str, total: int) -> Progress:
        """Create the progress artifact at 0 %."""
        artifact_id = await acreate_progress_artifact(
            0.0, key=artifact_key("initial-sync-progress", tenant), description="Initial sync"
        )
        return cls(artifact_id, total)

    def advance(self, count: int) -> None:
        """Record ``count`` more records handled (the UI is updated by :meth:`flush`)."""
        self.done += count

    async def finish(self) -> None:
        """Mark the work done (100 %)."""
        self.done = self.total
        await self.flush()

    async def flush(self) -> None:
        """Push the current percentage to the UI."""
        if self.artifact_id is not None:
            percent = min(100.0, 100.0 * self.done / self.total)
            await aupdate_progress_artifact(self.artifact_id, percent)


async def publish_summary(
    tenant: str,
    rows: Sequence[Mapping[str, Any]],
    failures: Sequence[Mapping[str, Any]],
    validation_markdown: str,
    status: str,
) -> None:
    """The end-of-run summary: per entity counts and the failed-record table."""
    text = "\n\n".join(
        [
            f"# Initial sync of `{tenant}`: {status}",
            markdown_table(rows),
            f"Open failed records: {len(failures)} (query `open_failed_records` for all).",
            "## Validation after sync\n" + validation_markdown,
        ]
    )
    await acreate_markdown_artifact(
        text, key=artifact_key("initial-sync-summary", tenant), description="Initial sync"
    )
    await acreate_table_artifact(
        [dict(row) for row in rows],
        key=artifact_key("initial-sync-counts", tenant),
        description="Per entity",
    )
    if failures:
        await acreate_table_artifact(
            [dict(row) for row in failures[:MAX_TABLE_ROWS]],
            key=artifact_key("failed-records", tenant),
            description=f"Open failed records ({len(failures)} in all)",
        )
