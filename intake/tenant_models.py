"""The JSON shapes of the tenant's side (documented in the service's OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from store.tenant_log import LogEntry, LogPage, TenantOverview


class Shape(BaseModel):
    """camelCase on the wire, as the rest of the service's answers."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Party(Shape):
    """One side of the integration: the Tripletex company or the Svenn tenant."""

    id: int | str | None
    name: str | None


class HoursExport(Shape):
    """What the hours export has sent to Tripletex: when last, and how many hours in all."""

    last_at: dt.datetime | None
    hours: Decimal | None = Field(description="Hours Tripletex holds from the export, in all.")


class Push(Shape):
    """How changes made in Tripletex reach Svenn: at once by webhooks, or by polling alone."""

    mode: Literal["push", "polling", "off"] = Field(
        description='"push": Tripletex webhooks bring changes at once (polling is the safety '
        'net); "polling": found by polling alone; "off": the integration is not active.'
    )
    reason: Literal[
        "SUBSCRIBED",
        "NOT_YET",
        "NOT_CONFIGURED",
        "NO_PERMISSION",
        "NO_KEY",
        "SUBSCRIBE_FAILED",
        "TURNED_OFF",
        "NOT_ACTIVE",
    ] = Field(description="Why, as a stable code programs branch on.")
    text: str = Field(description="One Norwegian sentence saying how and why.")


class TenantAnswer(Shape):
    """The integration as the tenant sees it."""

    tenant: str
    status: str
    status_text: str = Field(description='Norwegian: "Gjennomgang", "Aktiv", "Feil – …", …')
    since: dt.datetime
    tripletex_company: Party
    svenn_tenant: Party
    last_synced_at: dt.datetime | None
    lag_seconds: int | None
    open_problems: int
    last_error: str | None = Field(description="One Norwegian sentence saying what to do.")
    hours_export: HoursExport
    push: Push


class LogRow(Shape):
    """One record that did not travel (or a change that did not), in the tenant's words."""

    id: int
    entity: str
    entity_text: str
    name: str | None
    number: str | None
    svenn_id: str | None
    tripletex_id: str | None
    reason_code: str
    title: str
    message_no: str
    message_en: str
    what_to_do: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    resolved: bool
    resolved_at: dt.datetime | None
    resolved_by: str | None


class LogAnswer(Shape):
    """One page of the tenant's log, newest first."""

    tenant: str
    page: int
    page_size: int
    pages: int
    total: int
    entries: list[LogRow]


def tenant_answer(overview: TenantOverview) -> TenantAnswer:
    """The status answer for ``overview``."""
    return TenantAnswer(
        tenant=overview.tenant,
        status=overview.status,
        status_text=overview.status_text,
        since=overview.since,
        tripletex_company=Party(
            id=overview.tripletex_company_id, name=overview.tripletex_company_name
        ),
        svenn_tenant=Party(id=overview.svenn_tenant_id, name=overview.svenn_tenant_name),
        last_synced_at=overview.last_synced_at,
        lag_seconds=overview.lag_seconds,
        open_problems=overview.open_problems,
        last_error=overview.last_error,
        hours_export=HoursExport(last_at=overview.hours_exported_at, hours=overview.hours_exported),
        push=Push(mode=overview.push.mode, reason=overview.push.reason, text=overview.push.text),
    )


def _row(entry: LogEntry) -> LogRow:
    return LogRow(**{name: getattr(entry, name) for name in LogRow.model_fields})


def log_answer(tenant: str, page: LogPage) -> LogAnswer:
    """The log answer for one page."""
    return LogAnswer(
        tenant=tenant,
        page=page.page,
        page_size=page.page_size,
        pages=page.pages,
        total=page.total,
        entries=[_row(entry) for entry in page.entries],
    )
