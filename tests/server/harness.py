"""A REAL Prefect server path for tests and scripts: server, work pool, deployments, worker.

Unlike ``prefect_test_harness`` (an in-process server the flows call directly), this starts what
production runs, as separate processes:

- ``prefect server start`` on a free port with its own temporary ``PREFECT_HOME`` and analytics
  off. Prefect's own database is PostgreSQL when the suite uses PostgreSQL (a fresh database
  ``prefect_<random>`` on the same server, dropped at the end), SQLite in the temp home otherwise;
  empty, or a copy of an already migrated one (``migrated=``, as the tests start it);
- the ``svenn-sync`` process work pool and ``prefect --no-prompt deploy --all`` from prefect.yaml
  (``SVENN_SYNC_HOME`` = this checkout);
- ``prefect worker start`` with an environment pointing at both sandboxes and our state store
  (the same ``SVENN_SYNC_*`` variables the flows read in production).

Everything runs in its own process group; :meth:`PrefectServer.stop` / :meth:`Worker.stop`
terminate the whole tree (flow-run subprocesses included, which Prefect may start in their own
session), so nothing outlives the test.

Use::

    with PrefectServer.start(postgres_url=pg_url_or_None) as server:
        server.deploy()
        with server.worker(store_env(...) | sandbox_env(pair)):
            run_id = server.run_deployment("activate-integration/activate", {"tenant": "t-demo"})
            server.wait_for_state(run_id, {"PAUSED"})
            server.resume(run_id, {"decision": "approve", "approver": "kari"})
            server.wait_for_state(run_id)              # any final state
            print(server.logs(run_id), server.artifacts(run_id))

In pytest, the fixtures in ``tests/server/conftest.py`` do this once per session/module.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sandboxes.pair import SandboxPair
from sandboxes.runner import free_port
from tests.migrated_prefect import MigratedPrefect, postgres_admin, prefect_postgres_url

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
SVENN_SYNC = str(Path(sys.executable).with_name("svenn-sync"))
POOL = "svenn-sync"
ACTIVATE = "activate-integration/activate"
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
PAGE = 200  # the most runs the server answers a filter request with (its default limit)

# Variables of the calling process that must not leak into the server/worker/flow processes:
# they would point them at the test harness's server or home.
_PREFECT_OVERRIDES = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_API_DATABASE_CONNECTION_URL")


# What a copy of a deployment keeps (the server's own fields, ids and times, are left out).
_DEPLOYMENT_FIELDS = (
    "flow_id",
    "description",
    "version",
    "entrypoint",
    "path",
    "pull_steps",
    "job_variables",
    "work_pool_name",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "concurrency_options",
)


class ServerPathError(RuntimeError):
    """The server path did not do what was asked in time; the message carries its output."""


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (read from /proc; Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, sig)


@dataclass
class ManagedProcess:
    """One long-running command in its own process group, its output in a file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def spawn(
        cls, name: str, args: list[str], env: Mapping[str, str], logs: Path
    ) -> ManagedProcess:
        """Start ``args`` in a new session (process group) with ``env``, output to ``logs``."""
        log_path = logs / f"{name}.log"
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                args,
                env=dict(env),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return cls(name, process, log_path)

    def output(self, last: int = 4000) -> str:
        """The last ``last`` characters it printed."""
        try:
            return self.log_path.read_text(errors="replace")[-last:]
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the group and every descendant, then SIGKILL what is left."""
        if self.process.poll() is not None and not _descendants(self.process.pid):
            return
        tree = _descendants(self.process.pid)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        for pid in tree:
            _signal(pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        for pid in [*tree, *_descendants(self.process.pid)]:
            _signal(pid, signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=grace)


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Prefect's pointers, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _PREFECT_OVERRIDES}
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_CLI_PROMPT="false",
        SVENN_SYNC_HOME=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def sandbox_env(pair: SandboxPair) -> dict[str, str]:
    """The ``SVENN_SYNC_*`` variables that point the flows at both sandboxes."""
    return {
        "SVENN_SYNC_TRIPLETEX_BASE_URL": pair.tripletex_url,
        "SVENN_SYNC_SVENN_BASE_URL": pair.svenn_url,
        "SVENN_SYNC_TRIPLETEX_CONSUMER_TOKEN": pair.consumer_token,
    }


def store_env(url: str, schema: str | None, encryption_key: str) -> dict[str, str]:
    """The ``SVENN_SYNC_*`` variables that point the flows at a state store."""
    env = {"SVENN_SYNC_DATABASE_URL": url, "SVENN_SYNC_ENCRYPTION_KEY": encryption_key}
    if schema:
        env["SVENN_SYNC_DATABASE_SCHEMA"] = schema
    return env


@contextmanager
def prefect_database(
    postgres_url: str | None, home: Path, migrated: MigratedPrefect | None = None
) -> Iterator[str]:
    """Prefect's own database URL: a fresh PostgreSQL database (dropped after), else SQLite;
    a copy of ``migrated``'s when given (already migrated), else empty."""
    if postgres_url is None:
        path = home / "prefect.db"
        if migrated is not None:
            migrated.copy_sqlite(path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    from sqlalchemy import text

    name = f"prefect_{uuid.uuid4().hex[:12]}"
    template = "" if migrated is None else f' TEMPLATE "{migrated.postgres_template(postgres_url)}"'
    with postgres_admin(postgres_url) as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield prefect_postgres_url(postgres_url, name)
    finally:
        with postgres_admin(postgres_url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Worker:
    """A ``prefect worker`` process polling the svenn-sync pool."""

    process: ManagedProcess

    def output(self) -> str:
        """What the worker (and the flow runs it started) printed, last part."""
        return self.process.output(20_000)

    def stop(self) -> None:
        """Stop the worker and every flow run it started."""
        self.process.stop()

    def wait_started(self, timeout: float = 600.0) -> None:
        """Wait until the worker says it has started (it then polls its queue)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "started!" in self.output():
                return
            if self.process.process.poll() is not None:
                break
            time.sleep(0.3)
        raise ServerPathError(f"worker {self.process.name} did not start:\n{self.output()}")

    def terminate(self, timeout: float = 120.0) -> int:
        """SIGTERM the worker's own process, as a supervisor stops it; its exit code."""
        self.process.process.send_signal(signal.SIGTERM)
        return self.process.process.wait(timeout=timeout)


@dataclass
class PrefectServer:
    """A running ``prefect server`` and what tests need to drive it over its REST API."""

    api_url: str  # ends in /api
    home: Path
    database_url: str  # Prefect's own database
    process: ManagedProcess
    env: dict[str, str] = field(default_factory=dict)  # for CLI/worker subprocesses
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    # schedules run_on_schedule added, and the active ones it set aside, per deployment
    _added: dict[str, list[str]] = field(default_factory=dict)
    _set_aside: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ui_url(self) -> str:
        """The UI's root (the API without /api)."""
        return self.api_url.removesuffix("/api")

    # --- lifecycle ------------------------------------------------------------------------

    @classmethod
    @contextmanager
    def start(
        cls,
        *,
        postgres_url: str | None = None,
        ui: bool = False,
        scheduler_loop_seconds: float = 2.0,
        timeout: float = 240.0,
        migrated: MigratedPrefect | None = None,
    ) -> Iterator[PrefectServer]:
        """Start a server (Prefect DB on PostgreSQL when ``postgres_url``), stop it after.

        With ``migrated``, its database starts as a copy of an already migrated one: the
        server starts as it does the second time a user starts it (Prefect checks that the
        database is at its head and migrates nothing); else on an empty one."""
        home = Path(tempfile.mkdtemp(prefix="svenn-prefect-server-"))
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        try:
            with prefect_database(postgres_url, home, migrated) as database_url:
                server_env = subprocess_env(
                    {
                        "PREFECT_HOME": str(home),
                        "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
                        "PREFECT_SERVER_UI_ENABLED": "true" if ui else "false",
                        "PREFECT_UI_API_URL": api_url,
                        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": str(
                            scheduler_loop_seconds
                        ),
                        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
                    }
                )
                args = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
                process = ManagedProcess.spawn("server", args, server_env, home)
                server = cls(
                    api_url,
                    home,
                    database_url,
                    process,
                    env=subprocess_env({"PREFECT_HOME": str(home), "PREFECT_API_URL": api_url}),
                )
                try:
                    server._wait_healthy(timeout)
                    yield server
                finally:
                    server.http.close()
                    process.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.process.poll() is not None:
                raise ServerPathError(f"prefect server exited:\n{self.process.output()}")
            try:
                if self.http.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise ServerPathError(f"prefect server not healthy in {timeout}s:\n{self.process.output()}")

    def cli(self, *args: str, timeout: float = 300.0) -> str:
        """Run ``prefect ARGS`` against this server from the checkout; its output or an error."""
        result = subprocess.run(
            [PREFECT, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        if result.returncode != 0:
            raise ServerPathError(
                f"prefect {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def deploy(self, *, schedules_paused: bool = True) -> list[dict[str, Any]]:
        """Create the process work pool and every deployment in prefect.yaml; return them.

        Scheduled deployments are paused by default, so no run starts behind a test's back; a
        test that wants one calls :meth:`run_on_schedule`.
        """
        self.cli("work-pool", "create", POOL, "--type", "process", "--overwrite")
        self.cli("--no-prompt", "deploy", "--all")
        deployments = self.deployments()
        for deployment in deployments:
            if schedules_paused and deployment.get("schedules"):
                self.api("PATCH", f"/deployments/{deployment['id']}", json={"paused": True})
        return self.deployments()

    def run_on_schedule(
        self, name: str, interval_seconds: float, parameters: Mapping[str, Any] | None = None
    ) -> None:
        """Give ``flow/deployment`` a short interval schedule (with ``parameters``) as its only
        active one, and un-pause it: the server's scheduler then creates its runs, as in
        production. :meth:`pause` puts the deployment's own schedules back."""
        deployment = self.deployment(name)
        path = f"/deployments/{deployment['id']}/schedules"
        for schedule in deployment.get("schedules") or []:  # prefect.yaml's, or a test's before
            if schedule.get("active"):
                self.api("PATCH", f"{path}/{schedule['id']}", json={"active": False})
                self._set_aside.setdefault(name, []).append(str(schedule["id"]))
        # anchored now: the first run is due at once, not at the next multiple of the interval
        # counted from Prefect's default anchor (up to a whole interval of waiting)
        anchor = dt.datetime.now(dt.UTC).isoformat()
        schedule = {
            "schedule": {"interval": interval_seconds, "anchor_date": anchor, "timezone": "UTC"},
            "active": True,
            "parameters": dict(parameters or {}),
        }
        (added,) = self.api("POST", path, json=[schedule])
        self._added.setdefault(name, []).append(str(added["id"]))
        self.api("PATCH", f"/deployments/{deployment['id']}", json={"paused": False})

    def pause(self, name: str) -> None:
        """Pause ``flow/deployment``'s schedules, cancel its runs that have not finished, so
        none is left for a later test's worker, and give it back the schedules it had before
        :meth:`run_on_schedule`."""
        deployment_id = self.deployment(name)["id"]
        self.api("PATCH", f"/deployments/{deployment_id}", json={"paused": True})
        for run in self.flow_runs(name):
            if (run.get("state") or {}).get("type") not in FINAL_STATES:
                cancel = {"state": {"type": "CANCELLED", "message": "test over"}, "force": True}
                self.api("POST", f"/flow_runs/{run['id']}/set_state", json=cancel)
        path = f"/deployments/{deployment_id}/schedules"
        for schedule_id in self._added.pop(name, []):
            self.api("DELETE", f"{path}/{schedule_id}")
        for schedule_id in self._set_aside.pop(name, []):
            self.api("PATCH", f"{path}/{schedule_id}", json={"active": True})

    @contextmanager
    def worker(self, env: Mapping[str, str], name: str = "worker") -> Iterator[Worker]:
        """A ``prefect worker`` on the pool with ``env`` added (store, sandboxes); stopped after."""
        worker_env = self.env | {"PREFECT_WORKER_QUERY_SECONDS": "1"} | dict(env)
        args = [PREFECT, "worker", "start", "--pool", POOL, "--type", "process", "--name", name]
        worker = Worker(ManagedProcess.spawn(name, args, worker_env, self.home))
        try:
            yield worker
        finally:
            worker.stop()

    @contextmanager
    def svenn_sync_worker(
        self, env: Mapping[str, str], name: str, queue: str | None = None
    ) -> Iterator[Worker]:
        """``svenn-sync worker`` (the command the README starts) on the pool, or on one
        ``queue`` of it, with ``env`` added; stopped (with its flow runs) after."""
        worker_env = self.env | {"PREFECT_WORKER_QUERY_SECONDS": "1"} | dict(env)
        args = [SVENN_SYNC, "worker", "--name", name]
        if queue is not None:
            args += ["--work-queue", queue]
        worker = Worker(ManagedProcess.spawn(name, args, worker_env, self.home))
        try:
            worker.wait_started()
            yield worker
        finally:
            worker.stop()

    def deploy_shard(self, name: str, shard: int, shards: int) -> str:
        """A copy of deployment ``flow/deployment`` for shard ``shard`` of ``shards`` on its own
        work queue ``shard-<shard>`` (the README's "scaling out"), paused; its full name."""
        source = self.deployment(name)
        flow_name, base = name.split("/", 1)
        copied = {key: source[key] for key in _DEPLOYMENT_FIELDS if key in source}
        copied |= {
            "name": f"{base}-shard-{shard}",
            "work_queue_name": f"shard-{shard}",
            "parameters": dict(source.get("parameters") or {}) | {"shard": shard, "shards": shards},
            "tags": [t for t in source.get("tags", []) if not t.startswith("shard-")]
            + [f"shard-{shard}-of-{shards}"],
            "schedules": [],
            "paused": True,
            "concurrency_limit": (source.get("global_concurrency_limit") or {}).get("limit"),
        }
        self.api("POST", "/deployments/", json=copied)
        return f"{flow_name}/{copied['name']}"

    # --- REST ------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the server's REST API; raise with the body on an error status."""
        for attempt in range(5):  # a loaded server answers 503 now and then (database busy)
            response = self.http.request(method, f"{self.api_url}{path}", **kwargs)
            if response.status_code not in (500, 502, 503, 504):
                break
            time.sleep(1 + attempt)
        if response.status_code >= 400:
            raise ServerPathError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def deployments(self) -> list[dict[str, Any]]:
        """Every deployment on the server."""
        return list(self.api("POST", "/deployments/filter", json={}))

    def deployment(self, name: str) -> dict[str, Any]:
        """One deployment by ``flow-name/deployment-name``."""
        return dict(self.api("GET", f"/deployments/name/{name}"))

    def run_deployment(self, name: str, parameters: Mapping[str, Any] | None = None) -> str:
        """Create a run of deployment ``flow/deployment`` (the worker picks it up); its id."""
        deployment = self.deployment(name)
        run = self.api(
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            json={"parameters": dict(parameters or {})},
        )
        return str(run["id"])

    def flow_run(self, run_id: str) -> dict[str, Any]:
        """The flow run as the server has it (state under ``state``)."""
        return dict(self.api("GET", f"/flow_runs/{run_id}"))

    def flow_runs(self, deployment: str) -> list[dict[str, Any]]:
        """Every run of deployment ``flow/deployment``: the started ones newest start first, then
        those not started (newest due first). Read page by page in id order, which is stable: the
        server answers at most ``PAGE`` runs a request, and a schedule of a few seconds leaves a
        hundred runs due ahead, so one unpaged read missed some (a test that cancelled "every"
        scheduled run left runs that a worker then started)."""
        deployment_id = self.deployment(deployment)["id"]
        runs: list[dict[str, Any]] = []
        while True:
            body = {
                "flow_runs": {"deployment_id": {"any_": [deployment_id]}},
                "sort": "ID_DESC",
                "limit": PAGE,
                "offset": len(runs),
            }
            page = list(self.api("POST", "/flow_runs/filter", json=body))
            runs += page
            if len(page) < PAGE:
                break
        started = sorted(
            (r for r in runs if r.get("start_time")), key=lambda r: r["start_time"], reverse=True
        )
        waiting = sorted(
            (r for r in runs if not r.get("start_time")),
            key=lambda r: r.get("expected_start_time") or "",
            reverse=True,
        )
        return started + waiting

    def wait_for_state(
        self,
        run_id: str,
        states: Iterable[str] = FINAL_STATES,
        timeout: float = 180.0,
        worker: Worker | None = None,
    ) -> dict[str, Any]:
        """Poll until the run's state type is one of ``states``; the run. Fails with its logs."""
        wanted = set(states)
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.flow_run(run_id)
            state = run.get("state") or {}
            if state.get("type") in wanted:
                return run
            if state.get("type") in FINAL_STATES and not wanted & FINAL_STATES:
                break
            time.sleep(0.5)
        state = run.get("state") or {}
        raise ServerPathError(
            f"run {run_id} is {state.get('type')} ({state.get('message')}), wanted {sorted(wanted)}"
            f"\n--- run logs:\n"
            + "\n".join(self.logs(run_id)[-40:])
            + (f"\n--- worker:\n{worker.output()[-6000:]}" if worker else "")
        )

    def resume(
        self, run_id: str, run_input: Mapping[str, Any], timeout: float = 30.0
    ) -> dict[str, Any]:
        """Answer a paused run's form: the call the UI's Resume button makes.

        Prefect shows a run as PAUSED a moment before it has stored the form's schema, and
        refuses an answer until then ("Run input schema not found."): like a person pressing
        the button again, that refusal is retried for up to ``timeout`` seconds (unchecked, the
        run waited paused until the test timed out). Any other refusal is raised with Prefect's
        reason (`svenn-sync approve` says the same to ops and asks them to run it again)."""
        deadline = time.monotonic() + timeout
        while True:
            body = {"run_input": run_input}
            result = dict(self.api("POST", f"/flow_runs/{run_id}/resume", json=body) or {})
            status = result.get("status")
            if status in (None, "ACCEPT"):
                return result
            reason = str((result.get("details") or {}).get("reason", ""))
            if status == "REJECT" and "schema not found" in reason and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise ServerPathError(f"run {run_id} refused the answer ({status}): {reason}")

    def logs(self, run_id: str) -> list[str]:
        """The run's log messages in order (its tasks' included)."""
        limit = 200
        body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"}
        messages: list[str] = []
        while True:
            page = self.api(
                "POST", "/logs/filter", json=body | {"limit": limit, "offset": len(messages)}
            )
            messages.extend(str(row["message"]) for row in page)
            if len(page) < limit:
                return messages

    def artifacts(self, run_id: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
        """Artifacts of a run and/or with a key (every version), newest first."""
        artifacts: dict[str, Any] = {}
        if run_id:
            artifacts["flow_run_id"] = {"any_": [run_id]}
        if key:
            artifacts["key"] = {"any_": [key]}
        body = {"artifacts": artifacts, "sort": "CREATED_DESC"}
        return list(self.api("POST", "/artifacts/filter", json=body))


def activation_parameters(server: PrefectServer, pair: SandboxPair) -> dict[str, Any]:
    """Parameters for the activate deployment: the keys too while the deployment takes them."""
    schema = server.deployment(ACTIVATE).get("parameter_openapi_schema") or {}
    parameters: dict[str, Any] = {"tenant": pair.tenant}
    if "tripletex_employee_token" in schema.get("properties", {}):
        parameters |= {
            "tripletex_employee_token": pair.employee_token,
            "svenn_api_key": pair.svenn_api_key,
        }
    return parameters
