"""Take a tenant's keys: validate them at once, store them encrypted, start the activation run.

Keys never pass through Prefect. The ``svenn-sync activate`` command and the HTTP intake
(:mod:`intake.app`) both call :func:`take_keys`; the activation run they start afterwards gets
only the tenant's name and reads the keys from the store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from config.settings import Settings, load_settings
from store.integrations import get_integration
from store.models import IntegrationStatus
from store.tenancy import Parties
from tasks.activation import Refusal, validate_and_store
from tasks.tenant import state_store

ACTIVATION_DEPLOYMENT = "activate-integration/activate"
TURN_ON_DEPLOYMENT = "turn-on-again/turn-on-again"


@dataclass(frozen=True)
class Accepted:
    """The keys were valid and are stored; the integration is in review (``review``), or
    was turned on again and reconciles before it is active (``syncing``)."""

    tenant: str
    parties: Parties
    status: str = IntegrationStatus.REVIEW.value

    @property
    def turning_on_again(self) -> bool:
        """Whether the keys turned an approved integration on again (no new review)."""
        return self.status == IntegrationStatus.SYNCING.value


async def take_keys(
    tenant: str,
    token: SecretStr,
    svenn_api_key: SecretStr,
    settings: Settings | None = None,
    by: str | None = None,
) -> Accepted | Refusal:
    """Validate both keys and store them encrypted (review, or syncing when an approved
    integration is turned on again), or refuse with nothing stored."""
    settings = settings or load_settings()
    taken = await validate_and_store(settings, tenant, token, svenn_api_key, by)
    if isinstance(taken, Refusal):
        return taken
    with state_store(settings).sessions() as session:
        integration = get_integration(session, tenant)
        status = integration.status if integration else IntegrationStatus.REVIEW.value
    return Accepted(tenant, taken.parties, status)


def server_configured() -> bool:
    """Whether a Prefect server is configured (``PREFECT_API_URL``), rather than ephemeral."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


async def start_on_server(tenant: str, deployment: str = ACTIVATION_DEPLOYMENT) -> str:
    """Start ``deployment`` (the activation) for ``tenant`` (its only parameter); the run's id."""
    from prefect.deployments import arun_deployment

    run = await arun_deployment(deployment, parameters={"tenant": tenant}, timeout=0)
    return str(run.id)


def run_in_process(tenant: str, approval_timeout_seconds: int = 0, **options: Any) -> Any:
    """Run the activation flow in this process; its final state."""
    from flows.activate import activate

    async def run() -> Any:
        return await activate(
            tenant,
            approval_timeout_seconds=approval_timeout_seconds,
            return_state=True,
            **options,
        )

    return asyncio.run(run())


def turn_on_in_process(tenant: str) -> Any:
    """Run the turn-on-again flow (reconcile, then active) in this process; its final state."""
    from flows.reconcile import turn_on_again

    async def run() -> Any:
        return await turn_on_again(tenant, return_state=True)

    return asyncio.run(run())
