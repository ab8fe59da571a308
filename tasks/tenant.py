"""What every task needs for one tenant: settings, the state store and both clients."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from prefect.context import SyncClientContext
from prefect.runtime import flow_run
from pydantic import SecretStr

from config.settings import Settings, load_settings
from connectors.http import HttpPolicy, SharedConnections
from connectors.svenn.client import SvennClient
from connectors.tripletex.client import TripletexClient
from store.integrations import get_integration
from store.state import StateStore

_STORES: dict[str, StateStore] = {}


def state_store(settings: Settings | None = None) -> StateStore:
    """The process-wide state store for these settings, migrated on first use."""
    settings = settings or load_settings()
    key = f"{settings.resolved_database_url}|{settings.database_schema}"
    if key not in _STORES:
        _STORES[key] = StateStore.from_settings(settings, migrate=True)
    return _STORES[key]


@dataclass(frozen=True)
class RunSetup:
    """What a flow run starts with: the settings, the state store, the run's id."""

    settings: Settings
    store: StateStore
    run_id: str


def run_setup() -> RunSetup:
    """The settings, their state store, and this flow run's id (``local-<uuid>`` when called
    outside a Prefect run)."""
    settings = load_settings()
    run_id = flow_run.get_id() or f"local-{uuid.uuid4()}"
    return RunSetup(settings, state_store(settings), run_id)


@contextmanager
def one_api_client() -> Iterator[None]:
    """The sync task runs inside share one Prefect API client.

    A sync task called from an async flow finds no client in its context and opens its own,
    twice (its engine, then its result store), each with a new TLS context: a trivial task run
    cost 27–30 ms of CPU that way, 6–7 ms on a shared client (measured, 20 runs each). Prefect's
    own ``SyncClientContext``, entered once here, is the client they find.
    """
    with SyncClientContext.get_or_create():
        yield


@dataclass
class Wiring:
    """Per-process overrides used by tests and the demo (event hooks, HTTP policy)."""

    event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None
    policy: HttpPolicy | None = None


WIRING = Wiring()


class MissingCredentialsError(RuntimeError):
    """The tenant has no stored credentials: it was never activated."""


def tripletex_client(
    settings: Settings, employee_token: SecretStr, connections: SharedConnections | None = None
) -> TripletexClient:
    """A Tripletex client for one employee token, with the process-wide wiring."""
    return TripletexClient(
        settings.tripletex_base_url,
        settings.tripletex_consumer_token.get_secret_value(),
        employee_token.get_secret_value(),
        policy=WIRING.policy,
        event_hooks=WIRING.event_hooks,
        connections=connections,
    )


def svenn_client(
    settings: Settings, api_key: SecretStr, connections: SharedConnections | None = None
) -> SvennClient:
    """A Svenn client for one tenant's API key, with the process-wide wiring."""
    return SvennClient(
        settings.svenn_base_url,
        api_key.get_secret_value(),
        policy=WIRING.policy,
        event_hooks=WIRING.event_hooks,
        connections=connections,
    )


@asynccontextmanager
async def tenant_clients(
    tenant: str,
    settings: Settings | None = None,
    connections: SharedConnections | None = None,
) -> AsyncIterator[tuple[TripletexClient, SvennClient]]:
    """Both clients for a tenant, from its stored (encrypted) credentials (sending over
    ``connections`` if given, else over a pool of their own)."""
    settings = settings or load_settings()
    store = state_store(settings)
    with store.sessions() as session:
        integration = get_integration(session, tenant)
        if (
            integration is None
            or not integration.employee_token_encrypted
            or not integration.svenn_api_key_encrypted
        ):
            raise MissingCredentialsError(
                f"tenant {tenant!r} has no stored keys; activate it first (svenn-sync activate)"
            )
        token = store.cipher.decrypt(integration.employee_token_encrypted)
        api_key = store.cipher.decrypt(integration.svenn_api_key_encrypted)
    async with (
        tripletex_client(settings, token, connections) as tripletex,
        svenn_client(settings, api_key, connections) as svenn,
    ):
        yield tripletex, svenn


class ClientPool:
    """Both clients per tenant, opened once and kept for a long run (e.g. a realtime window).

    Reusing them keeps the Tripletex session token across ticks, so a quiet tick costs only
    its polls; every client sends over one shared connection pool, kept busy by the whole
    fleet (:class:`connectors.http.SharedConnections`). ``drop`` forgets a tenant whose key was
    refused.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings
        self.connections = SharedConnections()
        self._stacks: dict[str, AsyncExitStack] = {}
        self._clients: dict[str, tuple[TripletexClient, SvennClient]] = {}

    async def get(self, tenant: str) -> tuple[TripletexClient, SvennClient]:
        """The tenant's clients (opened on first use)."""
        if tenant not in self._clients:
            stack = AsyncExitStack()
            clients = await stack.enter_async_context(
                tenant_clients(tenant, self.settings, self.connections)
            )
            self._stacks[tenant], self._clients[tenant] = stack, clients
        return self._clients[tenant]

    async def drop(self, tenant: str) -> None:
        """Close and forget the tenant's clients."""
        self._clients.pop(tenant, None)
        stack = self._stacks.pop(tenant, None)
        if stack is not None:
            await stack.aclose()

    async def aclose(self) -> None:
        """Close every client and the connections."""
        for tenant in list(self._stacks):
            await self.drop(tenant)
        await self.connections.aclose()
