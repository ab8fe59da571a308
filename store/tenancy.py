"""Who an integration is for: the Svenn tenant and the Tripletex company its keys belong to.

One integration per Tripletex company and per Svenn tenant (a unique index holds it in the
database too). A refusal is one sentence that names the integration already holding them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import NOT_HOLDING, Integration
from store.models import IntegrationStatus as S


@dataclass(frozen=True)
class Parties:
    """The two accounts a pair of keys opens: a Tripletex company and a Svenn tenant."""

    tripletex_company_id: int
    tripletex_company_name: str | None
    svenn_tenant_id: str
    svenn_tenant_name: str | None

    @property
    def company(self) -> str:
        """The Tripletex company as a person reads it: name (id)."""
        return f"{self.tripletex_company_name or 'unnamed company'} ({self.tripletex_company_id})"

    @property
    def svenn_tenant(self) -> str:
        """The Svenn tenant as a person reads it: name (id)."""
        return f"{self.svenn_tenant_name or 'unnamed tenant'} ({self.svenn_tenant_id})"

    def describe(self) -> str:
        """Both accounts in one line, for the approver."""
        return f"Tripletex company {self.company} ↔ Svenn tenant {self.svenn_tenant}"


def parties_of(integration: Integration) -> Parties | None:
    """The accounts an integration's stored keys belong to (``None`` before any keys)."""
    if integration.tripletex_company_id is None or integration.svenn_tenant_id is None:
        return None
    return Parties(
        integration.tripletex_company_id,
        integration.tripletex_company_name,
        integration.svenn_tenant_id,
        integration.svenn_tenant_name,
    )


class TenancyRefused(Exception):
    """These keys may not be stored for this integration; the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _holder(session: Session, tenant: str, column: str, value: object) -> Integration | None:
    query = select(Integration).where(
        getattr(Integration, column) == value,
        Integration.tenant != tenant,
        Integration.status.not_in(NOT_HOLDING),
    )
    return session.scalars(query.limit(1)).first()


def check_tenancy(session: Session, tenant: str, parties: Parties) -> None:
    """Refuse keys of another Svenn tenant, or of a company/tenant another integration holds."""
    own = session.scalars(select(Integration).where(Integration.tenant == tenant)).first()
    if own is not None and own.svenn_tenant_id not in (None, parties.svenn_tenant_id):
        bound = parties_of(own)
        raise TenancyRefused(
            "FOREIGN_SVENN_KEY",
            f"This Svenn API key belongs to Svenn tenant {parties.svenn_tenant}, but the "
            f"integration {tenant} is for Svenn tenant {bound.svenn_tenant if bound else '?'}; "
            f"paste the Svenn key of {tenant}.",
        )
    if (
        own is not None
        and own.status == S.REVIEW.value
        and own.tripletex_company_id not in (None, parties.tripletex_company_id)
    ):
        raise TenancyRefused(
            "OTHER_COMPANY_IN_REVIEW",
            f"The integration {tenant} is in review for Tripletex company "
            f"{own.tripletex_company_name or ''} ({own.tripletex_company_id}), but this key "
            f"belongs to {parties.company}; reject the integration first if the company really "
            "changed.",
        )
    held = (
        ("tripletex_company_id", parties.tripletex_company_id, "COMPANY_ALREADY_CONNECTED",
         f"Tripletex company {parties.company}", "a company"),
        ("svenn_tenant_id", parties.svenn_tenant_id, "SVENN_TENANT_ALREADY_CONNECTED",
         f"Svenn tenant {parties.svenn_tenant}", "a Svenn tenant"),
    )  # fmt: skip
    for column, value, code, account, kind in held:
        holder = _holder(session, tenant, column, value)
        if holder is not None:
            raise TenancyRefused(
                code,
                f"{account} is already connected through the integration {holder.tenant} "
                f"({holder.status}); {kind} can have only one integration.",
            )


def bind_parties(integration: Integration, parties: Parties) -> None:
    """Record which Tripletex company and Svenn tenant the integration's keys belong to."""
    integration.tripletex_company_id = parties.tripletex_company_id
    integration.tripletex_company_name = parties.tripletex_company_name
    integration.svenn_tenant_id = parties.svenn_tenant_id
    integration.svenn_tenant_name = parties.svenn_tenant_name
