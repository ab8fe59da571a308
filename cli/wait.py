"""``svenn-sync wait-for TARGET...``: wait until each target is ready, so a script's next line
can use it (the README's rehearsal). A target is

- a URL (``http://127.0.0.1:4200/api/health``): ready when it answers HTTP at all (a 404 from a
  sandbox's base URL counts: the service is up);
- ``plan:TENANT``: the tenant's activation run published the plan and waits for a decision
  (paused in Prefect when ``PREFECT_API_URL`` is set), so ``svenn-sync approve`` answers it;
- ``active:TENANT``: the integration is active (its initial sync is done).

A target that can no longer become ready (the integration left review, or stopped) is told at
once, in one sentence, instead of after the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

POLL_SECONDS = 0.5


class NotReady(Exception):
    """A target will not become ready (or did not in time); the message says why."""


@dataclass(frozen=True)
class Target:
    """What to wait for: ``ready()`` is True when ready, raises :class:`NotReady` if never."""

    text: str
    ready: Callable[[], bool]


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return False
    return True


def _integration(tenant: str) -> tuple[str | None, str | None]:
    """(status, last_error) of the tenant's integration; (None, None) while there is none."""
    from config.settings import load_settings
    from store.integrations import get_integration
    from store.state import StateStore

    store = StateStore.from_settings(load_settings())
    try:
        with store.sessions() as session:
            integration = get_integration(session, tenant)
            if integration is None:
                return None, None
            return integration.status, integration.last_error
    finally:
        store.engine.dispose()


def _paused_in_prefect(run_id: str) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():  # the run is in-process somewhere: the store is enough
        return True
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
    return bool(run.state and run.state.is_paused())


def _plan_waits(tenant: str) -> bool:
    from config.settings import load_settings
    from store.activation_runs import waiting_run
    from store.state import StateStore

    status, error = _integration(tenant)
    if status not in (None, "review"):
        raise NotReady(f"{tenant} is {status}, not in review" + (f": {error}" if error else ""))
    store = StateStore.from_settings(load_settings())
    try:
        with store.sessions() as session:
            waiting = waiting_run(session, tenant, load_settings().activation_heartbeat_seconds)
    finally:
        store.engine.dispose()
    return waiting is not None and waiting.alive and _paused_in_prefect(waiting.run_id)


def _active(tenant: str) -> bool:
    status, error = _integration(tenant)
    if status in ("off", "failed", "rejected"):
        raise NotReady(f"{tenant} is {status}" + (f": {error}" if error else ""))
    return status == "active"


def target(text: str) -> Target:
    """The target a command-line word names; NotReady for a word that names none."""
    kind, _, tenant = text.partition(":")
    if text.startswith(("http://", "https://")):
        return Target(text, lambda: _answers(text))
    if kind == "plan" and tenant:
        return Target(text, lambda: _plan_waits(tenant))
    if kind == "active" and tenant:
        return Target(text, lambda: _active(tenant))
    raise NotReady(f"{text!r} is not a URL, plan:TENANT or active:TENANT")


def wait_for(targets: list[Target], timeout: float, tell: Callable[[str], None]) -> None:
    """Wait for each target in turn, within ``timeout`` seconds in all; tell each one ready."""
    started = time.monotonic()
    deadline = started + timeout
    for each in targets:
        while not _ready_now(each):
            if time.monotonic() >= deadline:
                raise NotReady(f"{each.text} was not ready within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        tell(f"ready: {each.text} ({time.monotonic() - started:.0f} s)")


def _ready_now(each: Target) -> bool:
    try:
        return each.ready()
    except NotReady:
        raise
    except Exception:  # the store or the server is not there yet: not ready, try again
        return False
