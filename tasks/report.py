"""What the operator sees in the Prefect UI: plan preview, progress and the run summary."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
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
CLI = ".venv/bin/svenn-sync"  # how a clone runs the CLI (`svenn-sync` once the venv is active)


def tenant_run_name(prefix: str) -> Callable[[], str]:
    """A flow-run name that says what and whom: ``activate-t-demo-20261128-235012``; a run over
    many tenants says which: ``export-hours-all-tenants-…`` or ``reconcile-shard-1-of-2-…``."""

    def name() -> str:
        from prefect.runtime import flow_run

        parameters = flow_run.parameters
        whom = parameters.get("tenant")
        if not whom:
            shards = parameters.get("shards") or 1
            whom = (
                f"shard-{parameters.get('shard', 0)}-of-{shards}" if shards > 1 else "all-tenants"
            )
        return f"{prefix}-{whom}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"

    return name


# The failed-record table must read in a 1,400 px wide browser: Prefect's table cells never wrap,
# and the artifact page leaves a table 844 px there (`make screenshots` measures it). The
# Norwegian message is cut to this many characters after a word; `failures explain` and the
# open_failed_records view have the rest (the English message, the target's answer, attempts).
MESSAGE_CHARS = 34
FAILURE_COLUMNS = ("id", "record", "reason", "melding (norsk)")


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` in at most ``limit`` characters, cut after a whole word and marked with "…"
    (a first word longer than ``limit`` is the only thing ever cut inside)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1] != " " and " " in head:
        head = head.rsplit(" ", 1)[0]
    return (head.rstrip(" ,;:.-–(") or head) + "…"


def record_label(entity: str, svenn_id: str | None, tripletex_id: str | None) -> str:
    """A failed record in a few characters: its entity and one id (Svenn's when it has one)."""
    if svenn_id:
        return f"{entity} svenn:{svenn_id}"
    return f"{entity} tripletex:{tripletex_id or '–'}"


def failure_row(
    *,
    entity: str,
    svenn_id: str | None,
    tripletex_id: str | None,
    reason_code: str,
    message_no: str,
    id: int | None = None,
) -> dict[str, Any]:
    """One failed record as the UI's tables show it, side by side at 1,400 px: the record, the
    reason code and the Norwegian message the tenant reads (cut at a word); the row id leads to
    `failures explain`, which tells the rest."""
    row: dict[str, Any] = {} if id is None else {"id": id}
    return row | {
        "record": record_label(entity, svenn_id, tripletex_id),
        "reason": reason_code,
        "melding (norsk)": shorten(message_no),
    }


def plan_failure_row(failure: Mapping[str, Any]) -> dict[str, Any]:
    """A planned failure (``SyncPlan.failure_rows``) as a :func:`failure_row`."""
    names = ("entity", "svenn_id", "tripletex_id", "reason_code", "message_no")
    return failure_row(**{name: failure[name] for name in names})


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


def records_read_rows(extract_counts: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """Records read per entity, one column per system."""
    entities = sorted({e for counts in extract_counts.values() for e in counts})
    return [
        {"entity": entity}
        | {system: counts.get(entity, 0) for system, counts in extract_counts.items()}
        for entity in entities
    ]


def plan_summary(tenant: str, plan: SyncPlan) -> str:
    """The plan in a few lines (the approval form shows it beside the decision)."""
    lines = [f"Approve the Svenn ↔ Tripletex integration of **{tenant}**?", ""]
    lines += [
        f"- {row['entity']}: link {row['to_link']} ({row['to_align']} of them differ and are "
        f"aligned), create {row['to_create_in_svenn']} in Svenn "
        f"and {row['to_create_in_tripletex']} in Tripletex, {row['will_fail']} will not sync"
        for row in plan.summary_rows()
    ]
    lines += ["", f"The plan artifacts of this run (`{artifact_key('plan', tenant)}`) list why."]
    return "\n".join(lines)


async def publish_plan(
    tenant: str,
    plan: SyncPlan,
    extract_counts: Mapping[str, Mapping[str, int]],
    *,
    parties: str = "",
) -> None:
    """The dry-run plan the approver reads before deciding (``parties``: who is connected)."""
    failures = plan.failure_rows()
    text = "\n\n".join(
        [
            f"# Initial sync plan for `{tenant}` (dry run: nothing was written)",
            *([f"Connects {parties}."] if parties else []),
            "## Records read\n" + markdown_table(records_read_rows(extract_counts)),
            "## Per entity\n" + markdown_table(plan.summary_rows()),
            "## Records that will not sync, by reason\n" + markdown_table(_failure_summary(plan)),
            "Approve or reject in the form of this paused flow run, or with "
            f"`{CLI} approve {tenant} --by NAME` / "
            f"`{CLI} reject {tenant} --by NAME --reason WHY`.",
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
            [plan_failure_row(row) for row in failures[:MAX_TABLE_ROWS]],
            key=artifact_key("plan-failures", tenant),
            description=f"Records that will not sync ({len(failures)} in all; the plan "
            "groups them by reason code)",
        )


class Progress:
    """A Prefect progress artifact updated as batches complete."""

    def __init__(self, artifact_id: UUID | None, total: int, title: str = "Initial sync") -> None:
        self.artifact_id, self.total, self.done = artifact_id, max(total, 1), 0
        self.title = title

    @classmethod
    async def start(cls, tenant: str, total: int, what: str = "initial-sync") -> Progress:
        """Create the progress artifact at 0 %."""
        title = f"{what.replace('-', ' ').capitalize()} of {tenant}"
        artifact_id = await acreate_progress_artifact(
            0.0,
            key=artifact_key(f"{what}-progress", tenant),
            description=f"{title}: {total:,} records read, starting",
        )
        return cls(artifact_id, total, title)

    def advance(self, count: int) -> None:
        """Record ``count`` more records handled (the UI is updated by :meth:`flush`)."""
        self.done += count

    async def finish(self, outcome: str = "done") -> None:
        """Mark the work done (100 %), saying how it ended."""
        self.done = self.total
        await self.flush(outcome)

    async def flush(self, stage: str = "") -> None:
        """Push the current percentage and what is being done to the UI."""
        if self.artifact_id is not None:
            percent = min(100.0, 100.0 * self.done / self.total)
            handled = min(self.done, self.total)
            text = f"{self.title}: {handled:,} of {self.total:,} records handled"
            await aupdate_progress_artifact(
                self.artifact_id, percent, description=f"{text}; {stage}" if stage else text
            )


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
        await publish_failures(tenant, failures)


async def publish_failures(tenant: str, failures: Sequence[Mapping[str, Any]]) -> None:
    """The open failed records as a table (rows from :func:`failure_row`)."""
    shown = min(len(failures), MAX_TABLE_ROWS)
    await acreate_table_artifact(
        [dict(row) for row in failures[:MAX_TABLE_ROWS]],
        key=artifact_key("failed-records", tenant),
        description=f"Open failed records of {tenant}: {shown} of {len(failures)} shown, "
        f"messages cut to fit; `{CLI} failures explain {tenant} ID` tells one record whole (both "
        "messages, the target's answer, attempts), the open_failed_records view has every column",
    )
