"""Benchmark push and poll side by side (issue 22); prints figures.

Both sandboxes and the intake (the webhook receiver) run as separate processes; the realtime
run is the real ``realtime-sync`` flow (Prefect's temporary server), at the default settings
unless told otherwise (poll 5 s, fallback poll 60 s). One tenant, activated in a fresh SQLite
store and subscribed for real.

1. Tripletex requests per quiet tenant per hour: poll-only vs push+poll (target ≤ 1/10).
2. Tripletex-originated change-to-visible latency p50/p95/max, poll-only vs push+poll
   (target p95 ≤ 1.5 s with push).
3. With 20 % of deliveries dropped: every change still arrives; p95 of the dropped ones
   (target ≤ fallback poll + 5 s).
4. Receiver flood: 10,000 signed deliveries, throughput, p99 answer time, nothing lost.

    .venv/bin/python -m bench.bench_push [--quiet-seconds 120] [--edits 30] [--flood 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # before Prefect's import
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_realtime import BUSY_COMPANY, activate_in_store, configure, forget, sandboxes

from sandboxes.runner import free_port

INTAKE_TOKEN = "bench-intake-token"


@contextmanager
def receiver(env: dict[str, str]) -> Iterator[str]:
    """The intake in its own process (``svenn-sync intake``'s app), as production runs it."""
    port = free_port()
    code = f"from intake.app import serve; serve('127.0.0.1', {port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, **env, "SVENN_SYNC_INTAKE_TOKEN": INTAKE_TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{root}/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield root
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def use_push(root: str | None) -> None:
    """Point the settings at the receiver (push+poll) or not (poll-only)."""
    from config.settings import load_settings

    if root:
        os.environ["SVENN_SYNC_WEBHOOK_BASE_URL"] = root
    else:
        os.environ.pop("SVENN_SYNC_WEBHOOK_BASE_URL", None)
    load_settings.cache_clear()


class Run:
    """The realtime-sync flow in a thread, for ``seconds`` (one window). No window follows it
    here, so it ends at its end instead of ticking on to wait for the next one (a deployment's
    windows do: ``wait_for_next_seconds``)."""

    def __init__(self, seconds: float) -> None:
        from flows.realtime_sync import realtime_sync

        self.started = time.monotonic()
        self.thread = threading.Thread(
            target=lambda: asyncio.run(
                realtime_sync(window_seconds=seconds, wait_for_next_seconds=0)
            )
        )
        self.thread.start()

    def join(self) -> float:
        """Wait for the run to end; the seconds it ran."""
        self.thread.join()
        return time.monotonic() - self.started


def tripletex_api_requests(root: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = httpx.get(f"{root}/_admin/requests", timeout=60).json()
    return [r for r in rows if r["path"].startswith("/v2/") and "/token/session" not in r["path"]]


def quiet_hour(roots: tuple[str, str], seconds: float) -> float:
    """Tripletex requests per hour for the quiet tenant during one window of ``seconds``, over
    the time the run actually took."""
    forget(roots)
    took = Run(seconds).join()
    return len(tripletex_api_requests(roots[0])) * 3600 / took


def svenn_phones(root: str, tenant: str) -> dict[str, str | None]:
    state = httpx.get(f"{root}/_admin/tenants/{tenant}/state", timeout=30).json()
    return {c["id"]: c.get("phone") for c in state["customers"]}


def edit_and_watch(
    roots: tuple[str, str],
    tenant: str,
    pairs: list[tuple[str, str]],
    edits: int,
    every: float,
    wait: float,
    tag: int,
) -> dict[str, float]:
    """``edits`` phone edits in Tripletex, one every ``every`` s, while the run ticks; the
    seconds until each is visible in Svenn (watched every 50 ms), by Tripletex id."""
    sent: dict[str, tuple[str, str, float]] = {}
    seen: dict[str, float] = {}
    with httpx.Client(timeout=30) as http:
        next_edit = time.monotonic()
        for n in range(edits):
            sv_id, tx_id = pairs[n % len(pairs)]
            phone = f"+47{40000000 + tag * 1000 + n}"
            while time.monotonic() < next_edit:
                _look(roots[1], tenant, sent, seen)
                time.sleep(0.05)
            http.post(
                f"{roots[0]}/_admin/companies/{BUSY_COMPANY}/edit",
                json={"entity": "customer", "id": int(tx_id), "changes": {"phoneNumber": phone}},
            ).raise_for_status()
            sent[tx_id] = (sv_id, phone, time.monotonic())
            next_edit += every
        deadline = time.monotonic() + wait
        while len(seen) < len(sent) and time.monotonic() < deadline:
            _look(roots[1], tenant, sent, seen)
            time.sleep(0.05)
    return seen | {tx: float("inf") for tx in sent if tx not in seen}


def _look(
    root: str, tenant: str, sent: dict[str, tuple[str, str, float]], seen: dict[str, float]
) -> None:
    phones = svenn_phones(root, tenant)
    now = time.monotonic()
    for tx_id, (sv_id, phone, at) in sent.items():
        if tx_id not in seen and phones.get(sv_id) == phone:
            seen[tx_id] = now - at


def spread(latencies: list[float]) -> str:
    arrived = [x for x in latencies if x != float("inf")]
    if len(arrived) < 2:
        return f"{len(arrived)} arrived"
    q = statistics.quantiles(arrived, n=20, method="inclusive")
    lost = len(latencies) - len(arrived)
    return (
        f"p50 {statistics.median(arrived):.2f} s, p95 {q[18]:.2f} s, max {max(arrived):.2f} s"
        f" ({len(arrived)} edits, {lost} never arrived)"
    )


def dropped_ids(tx_root: str) -> set[str]:
    log = httpx.get(f"{tx_root}/_admin/webhooks/deliveries", timeout=30).json()
    return {str(d["id"]) for d in log if d["outcome"] == "dropped"}


def flood(root: str, secret: str, tenant: str, count: int, concurrency: int) -> None:
    """``count`` signed deliveries, ``concurrency`` at a time; throughput, p99, and the rows."""
    from sandboxes.tripletex.delivery import encode, signature

    answers: list[float] = []
    statuses: dict[int, int] = {}

    async def send(client: httpx.AsyncClient, queue: asyncio.Queue[int]) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = encode({"subscriptionId": 1, "event": "customer.update", "id": n + 1})
            key = str(uuid.uuid4())
            headers = {
                "content-type": "application/json",
                "idempotency-key": key,
                "x-request-signature": signature(secret, key, body),
            }
            started = time.perf_counter()
            answer = await client.post(
                f"{root}/webhooks/tripletex/{tenant}", content=body, headers=headers
            )
            answers.append(time.perf_counter() - started)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    async def run() -> float:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)
        limits = httpx.Limits(max_connections=concurrency)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(send(client, queue) for _ in range(concurrency)))
            return time.perf_counter() - started

    wall = asyncio.run(run())
    q = statistics.quantiles(answers, n=100, method="inclusive")
    print(
        f"\n4. receiver flood: {count} signed deliveries, {concurrency} at a time: "
        f"{count / wall:.0f} per second, p50 {statistics.median(answers) * 1000:.1f} ms, "
        f"p99 {q[98] * 1000:.1f} ms; answers {dict(sorted(statuses.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet-seconds", type=float, default=120.0)
    parser.add_argument("--edits", type=int, default=30)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between edits")
    parser.add_argument("--flood", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}; load: {os.getloadavg()[0]:.1f}")
    from prefect.testing.utilities import prefect_test_harness

    with (
        sandboxes() as roots,
        tempfile.TemporaryDirectory() as tmp,
        prefect_test_harness(server_startup_timeout=240),
    ):
        store = configure(*roots, Path(tmp))
        env = {k: v for k, v in os.environ.items() if k.startswith("SVENN_SYNC_")}
        with receiver(env) as root:
            measure(args, roots, store, root)


def measure(args: argparse.Namespace, roots: tuple[str, str], store: Any, root: str) -> None:
    from config.settings import load_settings
    from sandboxes.datagen import generate_world
    from sandboxes.pair import EMPLOYEE_TOKEN, SVENN_API_KEY, TENANT, seeds
    from store.links import links_for
    from tasks.push import subscribe_tenant

    tx_seed, sv_seed = seeds(generate_world("small", seed=3))
    tx_seed["companies"][0]["id"] = BUSY_COMPANY
    httpx.post(f"{roots[0]}/_admin/companies", json=tx_seed["companies"][0]).raise_for_status()
    httpx.post(f"{roots[1]}/_admin/tenants", json=sv_seed["tenants"][0]).raise_for_status()
    activate_in_store(store, [(TENANT, EMPLOYEE_TOKEN, SVENN_API_KEY)])
    use_push(None)
    Run(12).join()  # the first ticks compare everything once and link (setup)
    use_push(root)
    outcome = asyncio.run(subscribe_tenant(load_settings(), store, TENANT))
    print(f"subscribed: {outcome.status} ({outcome.note})")
    with store.sessions() as session:
        pairs = [(lk.svenn_id, lk.tripletex_id) for lk in links_for(session, TENANT, "customer")]
    settings = load_settings()
    print(
        f"settings: poll {settings.realtime_poll_seconds:g} s, fallback poll "
        f"{settings.realtime_fallback_poll_seconds:g} s"
    )

    use_push(None)
    poll_only = quiet_hour(roots, args.quiet_seconds)
    use_push(root)
    pushed = quiet_hour(roots, args.quiet_seconds)
    print(
        f"\n1. Tripletex requests per quiet tenant per hour ({args.quiet_seconds:g} s windows):"
        f"\n   poll-only {poll_only:.0f}   push+poll {pushed:.0f}   "
        f"({pushed / poll_only:.2f} of poll-only; target ≤ 0.10)"
    )

    results: dict[str, str] = {}
    for name, base in (("poll-only", None), ("push+poll", root)):
        use_push(base)
        run = Run(args.edits * args.every + 20)
        time.sleep(3)  # the window's first tick has run
        got = edit_and_watch(roots, TENANT, pairs, args.edits, args.every, 15, len(results))
        run.join()
        results[name] = spread(list(got.values()))
    print(
        f"\n2. Tripletex change → visible in Svenn, {args.edits} edits, one per {args.every:g} s:"
    )
    for name, line in results.items():
        print(f"   {name:9}  {line}")

    fallback = settings.realtime_fallback_poll_seconds
    use_push(root)
    httpx.delete(f"{roots[0]}/_admin/webhooks/deliveries", timeout=30)
    httpx.put(f"{roots[0]}/_admin/webhooks", json={"drop_rate": 0.2, "seed": 5}, timeout=30)
    run = Run(args.edits * args.every + fallback + 15)
    time.sleep(3)
    got = edit_and_watch(roots, TENANT, pairs, args.edits, args.every, fallback + 10, 9)
    run.join()
    httpx.put(f"{roots[0]}/_admin/webhooks", json={}, timeout=30)
    dropped = dropped_ids(roots[0]) & set(got)
    print(
        f"\n3. 20 % of deliveries dropped: all edits {spread(list(got.values()))}\n"
        f"   the {len(dropped)} whose delivery was dropped: "
        f"{spread([got[i] for i in dropped])} (target p95 ≤ {fallback + 5:g} s)"
    )

    flood_tenant(args, store, root)


def flood_tenant(args: argparse.Namespace, store: Any, root: str) -> None:
    """A second active tenant, flooded while no realtime run is ticking: every row stays to be
    counted."""
    from sqlalchemy import func, select

    from store.models import WebhookEvent
    from store.webhooks import ensure_webhook_secret

    tenant = "t-flood"
    activate_in_store(store, [(tenant, "flood-token", "flood-key")])
    with store.sessions.begin() as session:
        secret = ensure_webhook_secret(session, store.cipher, tenant).get_secret_value()
    flood(root, secret, tenant, args.flood, args.concurrency)
    with store.sessions() as session:
        rows = session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.tenant == tenant)
        )
    print(f"   recorded: {rows} of {args.flood} (lost: {args.flood - int(rows or 0)})")


if __name__ == "__main__":
    main()
