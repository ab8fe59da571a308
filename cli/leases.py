"""One line, no traceback, when another run holds the tenant a command would work on."""

from __future__ import annotations

import datetime as dt

from config.settings import load_settings
from store.leases import lease_refusal
from store.state import StateStore


def refuse_while_held(store: StateStore, tenant: str, purpose: str) -> None:
    """Exit with the lease's one sentence (who holds it, when to rerun) if a live run holds it.

    Checked before the flow starts: a flow that meets the lease fails, and Prefect prints the
    failure with its traceback before the command could say anything."""
    from cli.common import fail

    ttl = dt.timedelta(seconds=load_settings().sync_lease_seconds)
    with store.sessions() as session:
        refusal = lease_refusal(session, tenant, purpose, ttl=ttl)
    if refusal is not None:
        fail(str(refusal), code=1)
