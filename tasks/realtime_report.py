"""What a realtime run tells the operator: totals per tenant and entity, failed tenants, ticks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

from connectors.errors import ApiError, AuthenticationError, PermissionDeniedError
from connectors.tripletex.errors import TripletexError
from tasks.realtime_tick import EntityCounts, TickReport
from tasks.report import MAX_TABLE_ROWS, artifact_key, markdown_table

ARTIFACT = "realtime-sync"
COUNTS_DESCRIPTION = (
    "Per tenant and entity: records changed in each system, records sent each way (updates "
    "and creates), conflicts and failed records; only where something happened"
)


def plural(count: int, noun: str) -> str:
    """``1 tick``, ``2 ticks``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def safe_error(error: BaseException) -> str:
    """One secret-free sentence for ``integrations.last_error`` (keys never appear in it)."""
    if isinstance(error, ApiError):
        system = "Tripletex" if isinstance(error, TripletexError) else "Svenn"
        if isinstance(error, AuthenticationError):
            return (
                f"{system} refused the stored key (HTTP {error.status or 401}): it was revoked "
                "or replaced; activate the integration again with a valid key."
            )
        if isinstance(error, PermissionDeniedError):
            return f"{system} denied access (HTTP 403): the key lost rights it needs."
        status = f"HTTP {error.status}" if error.status else "no answer"
        return f"{system} failed during the tick ({status}); the next tick retries."
    return f"The tick failed ({type(error).__name__}); the next tick retries."


@dataclass
class RunTotals:
    """Accumulated over the ticks of one run."""

    ticks: int = 0
    counts: dict[tuple[str, str], EntityCounts] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # tenant → last error this run
    tick_seconds: list[float] = field(default_factory=list)
    last_tick_writes: int = 0
    last_tick_failed: int = 0
    last_tick_tenants: int = 0

    def add_tick(self, outcomes: Mapping[str, Any], seconds: float) -> None:
        """Add one tick's outcomes (``TenantOutcome`` per tenant)."""
        self.ticks += 1
        self.tick_seconds.append(seconds)
        self.last_tick_writes = self.last_tick_failed = 0
        self.last_tick_tenants = len(outcomes)
        for tenant, outcome in outcomes.items():
            if not outcome.ok:
                self.failed[tenant] = str(outcome.error)
                self.last_tick_failed += 1
                continue
            report: TickReport | None = outcome.value
            if report is None:
                continue
            self.failed.pop(tenant, None)
            self.last_tick_writes += report.writes
            for entity, counts in report.entities.items():
                self.counts.setdefault((tenant, entity.value), EntityCounts()).add(counts)

    def last_tick_line(self) -> str:
        """One log line for the latest tick."""
        return (
            f"{self.last_tick_tenants} tenants in {self.tick_seconds[-1]:.2f} s, "
            f"{self.last_tick_writes} writes, {self.last_tick_failed} tenants failed"
        )

    def rows(self) -> list[dict[str, Any]]:
        """Per tenant and entity where something happened: records changed in each system,
        records sent each way (updates and creates), conflicts, records that failed. Short
        headers, so the table reads in a 1,400 px browser."""
        return [
            {
                "tenant": tenant,
                "entity": entity,
                "changed in Svenn": c.changed_in_svenn,
                "in Tripletex": c.changed_in_tripletex,
                "sent to Svenn": c.written_to_svenn + c.created_in_svenn,
                "to Tripletex": c.written_to_tripletex + c.created_in_tripletex,
                "conflicts": c.conflicts,
                "failed": c.failures,
            }
            for (tenant, entity), c in sorted(self.counts.items())
            if c.changed_in_svenn or c.changed_in_tripletex or c.writes or c.failures
        ]

    def description(self) -> str:
        """The run in one line: ticks, records changed and sent, tenants, failing tenants."""
        counts = self.counts.values()
        changed = sum(c.changed_in_svenn + c.changed_in_tripletex for c in counts)
        to_svenn = sum(c.written_to_svenn + c.created_in_svenn for c in counts)
        to_tripletex = sum(c.written_to_tripletex + c.created_in_tripletex for c in counts)
        tenants = len({tenant for (tenant, _), c in self.counts.items() if c.writes})
        failing = f"; {plural(len(self.failed), 'tenant')} failing" if self.failed else ""
        return (
            f"Realtime sync, {plural(self.ticks, 'tick')}: {plural(changed, 'record')} changed, "
            f"{to_svenn + to_tripletex} sent ({to_tripletex} to Tripletex, {to_svenn} to Svenn) "
            f"for {plural(tenants, 'tenant')}{failing}"
        )

    def summary(self) -> dict[str, Any]:
        """The run's result (JSON-safe)."""
        slowest = max(self.tick_seconds, default=0.0)
        return {
            "ticks": self.ticks,
            "slowest_tick_seconds": round(slowest, 3),
            "tenants_failed": dict(self.failed),
            "entities": self.rows(),
        }


async def publish_realtime_summary(totals: RunTotals) -> None:
    """A markdown summary and a per tenant/entity table (only rows where something moved)."""
    rows = totals.rows()
    failed = [{"tenant": t, "error": e} for t, e in sorted(totals.failed.items())]
    slowest = max(totals.tick_seconds, default=0.0)
    text = "\n\n".join(
        [
            f"# Realtime sync: {plural(totals.ticks, 'tick')}, slowest {slowest:.2f} s",
            totals.description() + ".",
            "## What changed and what was sent\n" + markdown_table(rows[:MAX_TABLE_ROWS]),
            "## Tenants whose last tick failed\n" + markdown_table(failed),
        ]
    )
    await acreate_markdown_artifact(
        text, key=artifact_key(ARTIFACT, "summary"), description=totals.description()
    )
    await acreate_table_artifact(
        rows[:MAX_TABLE_ROWS] or [{"tenant": "-", "entity": "-"}],
        key=artifact_key(ARTIFACT, "counts"),
        description=COUNTS_DESCRIPTION,
    )
