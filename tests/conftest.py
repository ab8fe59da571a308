"""Shared fixtures: the state store (PostgreSQL in CI, SQLite elsewhere) and Prefect's harness.

PostgreSQL is used when ``DATABASE_URL`` is set or ``CI=true``; each test session (and each
xdist worker) gets its own schema, dropped at the end, so runs never collide. With ``CI=true``
and no reachable PostgreSQL the run stops loudly instead of falling back to SQLite.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Prefect reads its settings at import: isolate it before anything imports prefect.
_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="svenn-sync-prefect-"))
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault(
    "PREFECT_LOGGING_LEVEL", "INFO"
)  # as in production: the secrets test reads it all
os.environ.setdefault("PREFECT_FLOW_DEFAULT_PAUSE_INPUT_POLL_INTERVAL", "0.2")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _one_certificate_file() -> str:
    """A CA file of one certificate (the first of certifi's bundle), in Prefect's home here."""
    import certifi

    end = "-----END CERTIFICATE-----"
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    path = _PREFECT_HOME / "one-ca.pem"
    path.write_text(bundle[: bundle.index(end) + len(end)] + "\n", encoding="ascii")
    return str(path)


# Every Prefect client (a flow run makes several) builds a TLS context from its CA file, even
# for an http:// API: certifi's whole bundle took ≈24 ms of CPU a client, one certificate 0.7 ms.
# Every Prefect API the suite talks to is plain http on 127.0.0.1, so no certificate is ever
# checked; an https one would be refused, not trusted. The same for every other httpx client the
# tests and the processes they start make (httpx reads SSL_CERT_FILE, which a machine may point
# at its whole bundle): the tests' own calls to the sandboxes built ≈700 contexts in the quick
# loop, 14 s of CPU with a whole bundle. Nothing in the suite speaks TLS.
_ONE_CA = _one_certificate_file()
os.environ.setdefault("PREFECT_API_SSL_CERT_FILE", _ONE_CA)
os.environ["SSL_CERT_FILE"] = _ONE_CA

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from store.db import make_engine, session_factory  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.models import Base  # noqa: E402
from store.state import StateStore  # noqa: E402
from store.token_cipher import TokenCipher  # noqa: E402
from tests.migrated_prefect import (  # noqa: E402
    MigratedPrefect,
    drop_postgres_templates,
    prefect_test_harness,
)

# The checked Tripletex sandbox `client` fixture (tests/tripletex_sandbox_support.py).
pytest_plugins = ["tests.tripletex_sandbox_support"]

# Property tests judge behaviour, not speed: a loaded 2-core CI machine must not fail them on
# hypothesis's per-example deadline (speed is measured by bench/).
hypothesis_settings.register_profile("svenn-sync", deadline=None)
hypothesis_settings.load_profile("svenn-sync")

TEST_KEY = "u0M1lK7rXg2m7o2aJ0P9s9B0V6kq4w3nZq1yV8cT5hE="
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """The PostgreSQL URL the suite must use, or ``None`` for SQLite."""
    url = os.environ.get("DATABASE_URL") or os.environ.get("SVENN_SYNC_TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    if os.environ.get("CI", "").lower() == "true":
        return DEFAULT_PG_URL
    return None


def _check_reachable(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        pytest.exit(
            f"CI=true/DATABASE_URL asks for PostgreSQL at {engine.url.render_as_string()}, "
            f"but it is not reachable ({type(error).__name__}); refusing to fall back to SQLite",
            returncode=3,
        )
    finally:
        engine.dispose()


def new_schema_name() -> str:
    """A fresh schema name for one test session or test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"t_{worker}_{uuid.uuid4().hex[:10]}"


@contextmanager
def fresh_store(tmp_path: Path) -> Iterator[tuple[Engine, str | None, str]]:
    """An engine on an empty, unmigrated store of its own (a PostgreSQL schema when the suite
    uses PostgreSQL, a SQLite file otherwise), the schema (None on SQLite) and the URL; the
    schema is dropped after (a test of migrations starts from nothing)."""
    postgres = postgres_url()
    url, schema = (
        (postgres, new_schema_name()) if postgres else (f"sqlite:///{tmp_path}/m.db", None)
    )
    engine = make_engine(url, schema=schema)
    try:
        yield engine, schema, url
    finally:
        if schema:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str | None]]:
    """(url, schema) of this session's database, created empty."""
    url = postgres_url()
    if url is None:
        path = tmp_path_factory.mktemp("store") / "state.db"
        yield f"sqlite:///{path}", None
        return
    _check_reachable(url)
    schema = new_schema_name()
    yield url, schema
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_engine(database: tuple[str, str | None]) -> Iterator[Engine]:
    """An engine on this session's database, migrated to head once."""
    url, schema = database
    engine = make_engine(url, schema=schema)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def state_store(migrated_engine: Engine) -> Iterator[StateStore]:
    """A migrated, empty state store for one test."""
    with migrated_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    cipher = TokenCipher(SecretStr(TEST_KEY))
    yield StateStore(migrated_engine, session_factory(migrated_engine), cipher)


# What the harness server does that no test of it reads: record task runs from their events
# (a task run's three state events cost the server ≈20 ms of CPU; the flow tests run thousands)
# and evaluate automations' triggers on every event. The flows' own results and states, flow
# runs, logs, artifacts, events and automations themselves are kept. The real `prefect server`
# of tests/server/ runs every service (the alert automations fire there).
HARNESS_SERVER_OFF = (
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",  # also the actions service
)


# Prefect's own database, migrated once per run (tests/migrated_prefect.py): the PostgreSQL
# templates the run's processes used, dropped by the last one (the xdist controller) at the end.
_POSTGRES_TEMPLATES: set[str] = set()


@pytest.fixture(scope="session")
def migrated_prefect(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedPrefect]:
    """Prefect's database migrated once per run, to copy for each Prefect server a test starts.

    Its folder is shared by the run's processes: an xdist worker's temporary folder is one of
    the run's (``popen-gw0``, ...), so the run's own is its parent."""
    base = tmp_path_factory.getbasetemp()
    run = base.parent if hasattr(request.config, "workerinput") else base
    migrated = MigratedPrefect(run / "migrated-prefect")
    yield migrated
    _POSTGRES_TEMPLATES.update(migrated.postgres_templates)


@pytest.fixture(scope="session")
def prefect_harness(
    migrated_prefect: MigratedPrefect, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Prefect's test harness (a temporary server), started once for the flow tests on a copy
    of the migrated database; that database's path."""
    import prefect.settings

    services_off = {getattr(prefect.settings, name): False for name in HARNESS_SERVER_OFF}
    database = migrated_prefect.copy_sqlite(tmp_path_factory.mktemp("harness") / "prefect.db")
    # The harness passes the settings in force to its server's environment; this process's
    # environment (and so the real servers' of tests/server/) stays as it is.
    with prefect_test_harness(database, services_off, server_startup_timeout=240):
        yield database


# --- Scheduling on 2 cores (`make test`: 4 xdist workers, one file per worker at a time) --------
# Most of the suite's time is waiting (servers starting, schedules coming due, windows handing
# over): a run on 2 workers used 1,008 CPU seconds in 1,396 s on 2 cores, 36 % of what they
# could give. Four workers overlap the waits. The slow
# end-to-end modules run first and the many quick unit modules fill the end, so no worker sits
# idle while another finishes one long file (xdist's own order puts the files with the most
# tests first, which left a 6-minute scenario file running alone at the end). The server-path
# modules run on two workers, each starting its real Prefect server once: the shard test (two
# workers, a few hundred tenants, four minutes) alone, the other modules together.
SERVER_PATH = "tests/server/"
SERVER_ALONE = ("tests/server/test_shards_over_server.py",)


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = {_module_of(item) for item in items if item.get_closest_marker("scenario")}

    def weight(item: pytest.Item) -> int:
        module = _module_of(item)
        return 0 if module.startswith(SERVER_PATH) else 1 if module in slow else 2

    items.sort(key=weight)  # stable: files stay whole and in order within each group


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ServerPathTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(SERVER_ALONE) or not nodeid.startswith(SERVER_PATH):
                return super()._split_scope(nodeid)
            return SERVER_PATH

    return ServerPathTogether(config, log)  # type: ignore[arg-type]


# --- The suite's wall time, for bench (`.bench/`, not in git) -----------------------------------
# A run of the whole suite (no paths, -m or -k given) writes its wall time to
# .bench/suite_seconds and appends it to .bench/figures.jsonl, which bench prints with the
# other figures, and where its CPU went, per test file, to .bench/suite_cpu.txt. Partial runs
# write nothing.
SUITE_TARGET_SECONDS = 300
_SUITE_STARTED: dict[str, float] = {}
# CPU seconds per test file: the test process (the flows and sandboxes on its threads) and the
# processes the file's tests started and reaped (CLI runs, servers, workers); each xdist worker
# hands its own to the controller when it ends.
_CPU_BY_FILE: defaultdict[str, float] = defaultdict(float)


def _cpu_seconds() -> float:
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    started = _cpu_seconds()
    yield
    _CPU_BY_FILE[_module_of(item)] += _cpu_seconds() - started


SESSION_END = "(the session's own fixtures, torn down at the end: servers they started)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """The last test's teardown also ends the session's fixtures (a harness server reaped then
    brings its whole CPU): that part is booked apart, not on the last test file."""
    started = _cpu_seconds()
    yield
    if nextitem is None:
        spent = _cpu_seconds() - started
        _CPU_BY_FILE[_module_of(item)] -= spent
        _CPU_BY_FILE[SESSION_END] += spent


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist, on the controller: a worker ended; add up its CPU per test file."""
    output = getattr(node, "workeroutput", {}) or {}
    for module, seconds in output.get("cpu", {}).items():
        _CPU_BY_FILE[module] += seconds
    _POSTGRES_TEMPLATES.update(output.get("postgres_templates", []))


def cpu_report(by_file: dict[str, float], shown: int = 30) -> str:
    """The test files by CPU seconds, most first, with each one's share of the total."""
    total = sum(by_file.values()) or 1.0
    ranked = sorted(by_file.items(), key=lambda kv: (-kv[1], kv[0]))
    files = len(set(by_file) - {SESSION_END})
    lines = [
        f"{total:8.1f} s CPU in {files} test files (the test processes and what they started "
        "and reaped)"
    ]
    lines += [f"{s:8.1f} s {s / total:6.1%}  {m}" for m, s in ranked[:shown]]
    return "\n".join(lines) + "\n"


def _whole_suite(config: pytest.Config) -> bool:
    given = [Path(arg.split("::", 1)[0]).resolve() for arg in config.args]
    tests = config.rootpath / "tests"
    option = config.option
    return (
        given in ([], [tests])
        and not option.markexpr
        and not option.keyword
        and not option.collectonly
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    _SUITE_STARTED["at"] = time.monotonic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: the controller measures the run
        config.workeroutput["cpu"] = dict(_CPU_BY_FILE)  # type: ignore[attr-defined]
        # ... and drops the templates once every worker is done with them
        config.workeroutput["postgres_templates"] = sorted(_POSTGRES_TEMPLATES)  # type: ignore[attr-defined]
        return
    url = postgres_url()
    if _POSTGRES_TEMPLATES and url:
        drop_postgres_templates(url, _POSTGRES_TEMPLATES)
    if "at" not in _SUITE_STARTED:
        return
    if not _whole_suite(config) or exitstatus not in (0, 1):
        return
    seconds = round(time.monotonic() - _SUITE_STARTED["at"], 1)
    store = "CI=true" if postgres_url() else "SQLite"
    figure = {
        "name": f"make test ({store})",
        "value": seconds,
        "unit": "s",
        "target": SUITE_TARGET_SECONDS,
        "tests": session.testscollected,
        "failed": session.testsfailed,
        "at": time.time(),
    }
    folder = config.rootpath / ".bench"
    folder.mkdir(exist_ok=True)
    (folder / "suite_seconds").write_text(f"{seconds}\n")
    (folder / "suite_cpu.txt").write_text(cpu_report(_CPU_BY_FILE))
    with (folder / "figures.jsonl").open("a") as out:
        out.write(json.dumps(figure) + "\n")
