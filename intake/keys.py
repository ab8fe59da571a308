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
from store.tenancy import Parties
from tasks.activation import Refusal, validate_and_store

ACTIVATION_DEPLOYMENT = "activate-integration/activate"


@dataclass(frozen=True)
class Accepted:
    """The keys were valid and are stored; the integration is in review."""

    tenant: str
    parties: Parties


async def take_keys(
    tenant: str, token: SecretStr, svenn_api_key: SecretStr, settings: Settings | None = None
) -> Accepted | Refusal:
    """Validate both keys and store them encrypted (review), or refuse with nothing stored."""
    taken = await validate_and_store(settings or load_settings(), tenant, token, svenn_api_key)
    return taken if isinstance(taken, Refusal) else Accepted(tenant, taken.parties)


def server_configured() -> bool:
    """Whether a Prefect server is configured (``PREFECT_API_URL``), rather than ephemeral."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


async def start_on_server(tenant: str) -> str:
    """Start the activation deployment for ``tenant`` (its only parameter); the run's id."""
    from prefect.deployments import arun_deployment

    run = await arun_deployment(ACTIVATION_DEPLOYMENT, parameters={"tenant": tenant}, timeout=0)
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
