"""Push over the real server path: the intake serves the webhook receiver, a worker runs the
activation and the realtime-sync deployment of a real ``prefect server`` with
SVENN_SYNC_WEBHOOK_BASE_URL pointing at that intake, and an edit in Tripletex reaches Svenn
through the webhook (delivery → store → woken tick → one read by id) while the fallback poll is
600 s away, so only the push can explain it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from config.settings import load_settings
from intake.app import create_app
from intake.keys import Accepted
from sandboxes.live_edits import svenn_records, tripletex_edit
from sandboxes.pair import SandboxPair
from sandboxes.runner import serve_in_thread
from store.links import links_for
from store.models import Integration, WebhookEvent
from store.state import StateStore
from store.webhooks import HEALTHY
from tests.conftest import TEST_KEY
from tests.flows.push_support import push_state, subscriptions, wait_until
from tests.flows.test_push_wake import checksum_polls, forget_requests, tripletex_requests
from tests.server.conftest import take_keys_here
from tests.server.harness import (
    ACTIVATE,
    PrefectServer,
    Worker,
    activation_parameters,
    sandbox_env,
    store_env,
)

pytestmark = pytest.mark.scenario

REALTIME = "realtime-sync/realtime-sync"
FALLBACK = {"SVENN_SYNC_REALTIME_FALLBACK_POLL_SECONDS": "600"}


@dataclass
class PushPath:
    """The server, a worker whose runs subscribe to and are woken through ``intake``."""

    server: PrefectServer
    worker: Worker
    pair: SandboxPair
    store: StateStore
    intake: str


@pytest.fixture
def push_path(
    prefect_server: PrefectServer,
    server_sandboxes: SandboxPair,
    state_store: StateStore,
    database: tuple[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PushPath]:
    """The intake served here (its receiver included), and a worker pointed at it."""
    url, schema = database
    env = store_env(url, schema, TEST_KEY) | sandbox_env(server_sandboxes) | FALLBACK
    for name, value in (env | {"SVENN_SYNC_INTAKE_TOKEN": "push-over-server"}).items():
        monkeypatch.setenv(name, value)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as intake:
        worker_env = env | {"SVENN_SYNC_WEBHOOK_BASE_URL": intake}
        with prefect_server.worker(worker_env, name="push-worker") as worker:
            yield PushPath(prefect_server, worker, server_sandboxes, state_store, intake)
    load_settings.cache_clear()


def activated(path: PushPath) -> None:
    """Keys taken here, the activation approved through the resume endpoint, the initial
    sync (and the subscriptions) run by the worker."""
    server, pair = path.server, path.pair
    assert isinstance(take_keys_here(pair), Accepted)
    run_id = server.run_deployment(ACTIVATE, activation_parameters(server, pair))
    server.wait_for_state(run_id, ["PAUSED"], 600, worker=path.worker)
    server.resume(run_id, {"decision": "approve", "approver": "kari@firma.no", "reason": "ok"})
    done = server.wait_for_state(run_id, timeout=600, worker=path.worker)
    assert done["state"]["type"] == "COMPLETED", server.logs(run_id)[-20:]
    assert wait_until(lambda: push_state(path.store, pair.tenant)[0] == HEALTHY, 300), (
        push_state(path.store, pair.tenant),
        path.worker.output()[-4000:],
    )


def ticked_once(store: StateStore, tenant: str) -> bool:
    with store.sessions() as session:
        at = session.scalars(select(Integration.realtime_ok_at).where(Integration.tenant == tenant))
        return at.one() is not None


def test_a_tripletex_edit_reaches_svenn_through_the_webhook_on_a_deployed_realtime_run(
    push_path: PushPath,
):
    path, pair, store = push_path, push_path.pair, push_path.store
    activated(path)
    receiver = f"{path.intake}/webhooks/tripletex/{pair.tenant}"
    assert {s["targetUrl"] for s in subscriptions(pair)} == {receiver}
    with store.sessions() as session:
        link = links_for(session, pair.tenant, "customer")[0]
    assert not ticked_once(store, pair.tenant)

    parameters = {"window_seconds": 60, "poll_seconds": 1.0, "max_ticks": 40}
    run_id = path.server.run_deployment(REALTIME, parameters | {"wait_for_next_seconds": 0})
    try:
        assert wait_until(lambda: ticked_once(store, pair.tenant), 300), path.worker.output()
        forget_requests(pair)  # the run's first tick polled; the next poll is 600 s away

        tripletex_edit(pair, "customer", link.tripletex_id, {"name": "Via Webhook Over Server AS"})
        started = time.monotonic()
        arrived = wait_until(
            lambda: (
                svenn_records(pair, "customer")[link.svenn_id]["name"]
                == "Via Webhook Over Server AS"
            ),
            30,
        )
        seen = tripletex_requests(pair)
        done = path.server.wait_for_state(run_id, timeout=300, worker=path.worker)
    finally:
        path.server.pause(REALTIME)
    assert arrived, (time.monotonic() - started, path.worker.output()[-4000:])
    assert done["state"]["type"] == "COMPLETED", path.server.logs(run_id)[-20:]
    assert checksum_polls(seen) == []  # no poll meanwhile: only the webhook explains it
    assert any(parse_qs(r["query"]).get("id") == [link.tripletex_id] for r in seen)
    with store.sessions() as session:
        taken = session.scalars(
            select(WebhookEvent.taken_at).where(
                WebhookEvent.tenant == pair.tenant, WebhookEvent.record_id == link.tripletex_id
            )
        ).all()
    assert taken and all(at is not None for at in taken)  # the deployed run took it up
