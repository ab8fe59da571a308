"""The per-tenant artifact of an hours export: what was sent, held back, and the totals."""

from __future__ import annotations

from prefect.artifacts import acreate_markdown_artifact

from tasks.hours_export import HoursReport
from tasks.report import artifact_key, markdown_table


def hours_markdown(report: HoursReport) -> str:
    """The report as markdown: counts, held back by reason, totals per employee."""
    if report.skipped:
        return f"# Hours export: {report.tenant}\n\nSkipped: {report.skipped}."
    counts = [{"what": k.replace("_", " "), "count": v} for k, v in report.summary().items()
              if isinstance(v, int)]  # fmt: skip
    held = [{"reason": code, "hours": n} for code, n in report.held.items()]
    totals = [{"employee (Svenn id)": who, "approved hours": f"{hours:.2f}"}
              for who, hours in report.totals.items()]  # fmt: skip
    return "\n\n".join(
        [
            f"# Hours export: {report.tenant}",
            f"Window: {report.window}",
            markdown_table(counts),
            "## Held back, by reason",
            markdown_table(held),
            "## Approved hours per employee in the window (what payroll checks)",
            markdown_table(totals),
        ]
    )


async def publish_hours_report(report: HoursReport) -> None:
    """One markdown artifact per tenant and run (key ``hours-export-<tenant>``)."""
    await acreate_markdown_artifact(
        hours_markdown(report),
        key=artifact_key("hours-export", report.tenant),
        description=f"Hours export for {report.tenant}",
    )
