"""The state store: migrations, lifecycle, gate, links, failures, cursors, token encryption."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from store.cursors import get_cursor, set_cursor
from store.db import json_text, json_value, make_engine, session_factory
from store.failures import (
    Failure,
    open_failure_columns,
    open_failures,
    record_failures,
    resolve_failures,
)
from store.integrations import (
    NotApprovedError,
    TransitionError,
    ensure_integration,
    history,
    require_approved,
    transition,
)
from store.links import NewLink, save_links, tripletex_to_svenn
from store.migrate import current_revision, downgrade, upgrade
from store.models import FailedRecord
from store.models import IntegrationStatus as S
from store.state import StateStore
from store.token_cipher import TokenCipher, TokenCipherError
from tests.conftest import fresh_store, postgres_url

ROOT = Path(__file__).resolve().parents[1]

TABLES = {
    "integrations",
    "integration_events",
    "links",
    "cursors",
    "failed_records",
    "hours_ledger",
    "hours_entries",
    "leases",
}


def _single_head(engine):
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1, f"migrations must form one chain, found heads {heads}"
    return heads[0]


def test_migrations_go_up_and_down_and_up_again(tmp_path):
    with fresh_store(tmp_path) as (engine, schema, _):
        head = _single_head(engine)
        upgrade(engine)
        assert current_revision(engine) == head
        names = set(inspect(engine).get_table_names(schema=schema))
        assert names >= TABLES
        views = set(inspect(engine).get_view_names(schema=schema))
        assert {"open_failed_records", "failed_records_daily"} <= views
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names(schema=schema))
        upgrade(engine)
        assert current_revision(engine) == head


def test_the_migrations_build_the_schema_the_models_declare(tmp_path):
    """Every table, column, index and constraint of the models is made by a migration, and a
    migration makes nothing the models lack: an index added to a model needs its migration,
    and the reverse (Alembic's own comparison of a migrated store with the models)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from store.models import Base

    def ours(name: str | None, kind: str, _parents: object) -> bool:
        return not (kind == "table" and name == "alembic_version")

    with fresh_store(tmp_path) as (engine, _schema, _):
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": ours}
            )
            assert compare_metadata(context, Base.metadata) == []


def test_the_newest_migration_file_is_alembics_head_and_the_files_sort_as_the_chain_runs(
    tmp_path,
):
    from alembic.script import ScriptDirectory

    from store.migrate import HEAD, MIGRATIONS, alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'head.db'}")
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    assert _single_head(engine) == HEAD
    # the files' names sort as the chain runs, each beginning with its revision
    chain = [script for script in reversed(list(scripts.walk_revisions()))]
    files = sorted((MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert [script.path for script in chain] == [str(path) for path in files]
    assert all(path.stem.startswith(s.revision) for s, path in zip(chain, files, strict=True))
    engine.dispose()


def test_a_store_at_the_head_is_not_migrated_again_and_alembic_is_not_loaded(tmp_path):
    """A flow run or CLI command (a new process each time) finds the store up to date with one
    query; a store behind is migrated by Alembic as before."""
    from store.migrate import HEAD

    with fresh_store(tmp_path) as (engine, schema, url):
        script = (
            "import sys\n"
            "from store.db import make_engine\n"
            "from store.migrate import upgrade, stored_revision\n"
            f"engine = make_engine({url!r}, schema={schema!r})\n"
            "upgrade(engine)\n"
            "print(stored_revision(engine), 'alembic' in sys.modules)\n"
        )

        def migrate_in_a_new_process() -> list[str]:
            done = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
            )
            return done.stdout.split()

        assert migrate_in_a_new_process() == [HEAD, "True"]  # a new store: Alembic creates it
        assert migrate_in_a_new_process() == [HEAD, "False"]  # up to date: one query
        downgrade(engine, "-1")
        assert migrate_in_a_new_process() == [HEAD, "True"]  # one behind: Alembic again


def test_suite_uses_postgres_when_ci_asks_for_it(migrated_engine):
    expected = "postgresql" if postgres_url() else "sqlite"
    assert migrated_engine.dialect.name == expected


def _to_review(store: StateStore, tenant: str = "acme") -> None:
    with store.sessions.begin() as session:
        ensure_integration(session, tenant)
        transition(session, tenant, S.REVIEW, actor="activation")


def test_lifecycle_follows_review_then_approval(state_store):
    _to_review(state_store)
    with state_store.sessions.begin() as session:
        transition(session, "acme", S.APPROVED, actor="kari@ops", reason="checked the plan")
        transition(session, "acme", S.SYNCING)
        integration = transition(session, "acme", S.ACTIVE)
        assert integration.decided_by == "kari@ops"
        assert integration.decision_reason == "checked the plan"
        assert integration.activated_at is not None
        steps = [(e.from_status, e.to_status, e.actor) for e in history(session, "acme")]
    assert steps == [
        ("off", "review", "activation"),
        ("review", "approved", "kari@ops"),
        ("approved", "syncing", None),
        ("syncing", "active", None),
    ]


@pytest.mark.parametrize(
    ("path", "refused"),
    [((), S.ACTIVE), ((S.REVIEW,), S.SYNCING), ((S.REVIEW,), S.ACTIVE), ((), S.APPROVED)],
)
def test_transitions_that_skip_approval_are_refused(state_store, path, refused):
    with state_store.sessions.begin() as session:
        ensure_integration(session, "acme")
        for step in path:
            transition(session, "acme", step)
        with pytest.raises(TransitionError, match=f"cannot go from .* to {refused.value}"):
            transition(session, "acme", refused)


def test_rejection_keeps_reason_and_actor(state_store):
    _to_review(state_store)
    with state_store.sessions.begin() as session:
        integration = transition(session, "acme", S.REJECTED, actor="ola", reason="wrong company")
        assert (integration.status, integration.decided_by) == ("rejected", "ola")
        with pytest.raises(TransitionError):
            transition(session, "acme", S.SYNCING)


def test_gate_refuses_writes_until_approved(state_store):
    with state_store.sessions.begin() as session, pytest.raises(NotApprovedError, match="off, n"):
        require_approved(session, "nobody")
    _to_review(state_store)
    with state_store.sessions.begin() as session:
        with pytest.raises(NotApprovedError, match="review, not approved"):
            require_approved(session, "acme")
        transition(session, "acme", S.APPROVED, actor="kari")
        assert require_approved(session, "acme").status == "approved"


def test_a_record_cannot_be_linked_twice(state_store):
    with state_store.sessions.begin() as session:
        save_links(session, "acme", [NewLink("customer", "s1", "t1")])
        save_links(session, "acme", [NewLink("customer", "s1", "t1", svenn_fingerprint="f")])
        assert tripletex_to_svenn(session, "acme", "customer") == {"t1": "s1"}
        # the same link for another tenant is fine
        save_links(session, "other", [NewLink("customer", "s1", "t1")])
    with pytest.raises(IntegrityError), state_store.sessions.begin() as session:
        save_links(session, "acme", [NewLink("customer", "s2", "t1")])
    with pytest.raises(IntegrityError), state_store.sessions.begin() as session:
        save_links(session, "acme", [NewLink("customer", "s1", "t2")])


def test_a_conflict_anywhere_in_a_large_batch_is_refused(state_store):
    """Rows past the first chunk of 500 count as much as the first: one row of 700 whose Svenn
    id is linked elsewhere, or named twice with two Tripletex ids, refuses the whole batch; the
    same link named twice is one link."""
    fresh = [NewLink("customer", f"s{i}", f"t{i}") for i in range(700)]
    with state_store.sessions.begin() as session:
        assert save_links(session, "acme", [*fresh, fresh[650]]) == 701
        assert len(tripletex_to_svenn(session, "acme", "customer")) == 700
    elsewhere = [NewLink("customer", f"s{i}", f"t{i}") for i in range(700, 1300)]
    for clash in (NewLink("customer", "s650", "t-new"), NewLink("customer", "s1299", "t-other")):
        with pytest.raises(IntegrityError), state_store.sessions.begin() as session:
            save_links(session, "acme", [*elsewhere, clash])
    with state_store.sessions.begin() as session:
        assert len(tripletex_to_svenn(session, "acme", "customer")) == 700


def _failure(**overrides):
    values = dict(
        tenant="acme",
        entity="customer",
        direction="tripletex_to_svenn",
        reason_code="ORG_NUMBER_INVALID",
        message_en="Organisation number is not valid",
        message_no="Organisasjonsnummeret er ugyldig",
        tripletex_id="42",
        payload={"name": "Bygg AS", "employeeToken": "eyJ-secret", "nested": {"apiKey": "k"}},
        target_error={"status": 422, "authorization": "Basic abc"},
    )
    values.update(overrides)
    return Failure(**values)


def test_a_repeated_failure_bumps_attempts_instead_of_adding_a_row(state_store):
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure()])
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure(message_en="still invalid")])
        rows = open_failures(session, "acme")
    assert len(rows) == 1
    assert rows[0].attempts == 2
    assert rows[0].message_en == "still invalid"


def test_failed_records_never_store_secrets(state_store):
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure()])
    with state_store.sessions.begin() as session:
        row = session.query(FailedRecord).one()
        stored = str(row.payload) + str(row.target_error)
    assert "eyJ-secret" not in stored and "Basic abc" not in stored and "'k'" not in stored
    assert row.payload["name"] == "Bygg AS"


def test_json_columns_hold_compact_utf8_and_give_back_what_was_stored(state_store):
    payload = {
        "name": "Bygg og Anlegg Østlandet AS",
        "lines": [1, 2.5, None, True],
        "by": {"å": ""},
    }
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure(payload=payload)])
    with state_store.sessions() as session:
        row = session.query(FailedRecord).one()
        stored = session.execute(text("SELECT CAST(payload AS TEXT) FROM failed_records")).scalar()
    assert row.payload == payload
    assert '"name":"Bygg og Anlegg Østlandet AS"' in stored  # json.dumps wrote "\\u00d8stlandet"
    assert json.loads(stored) == payload


def test_json_text_written_before_reads_and_keys_are_written_as_json_dumps_writes_them():
    assert json_value('{"weight": NaN, "top": Infinity}')["top"] == math.inf  # json.dumps' text
    assert math.isnan(json_value('{"weight": NaN}')["weight"])
    assert json_value(b'{"a": [1, "\\u00d8"]}') == {"a": [1, "Ø"]}
    assert json.loads(json_text({1: "a", "b": None})) == json.loads(json.dumps({1: "a", "b": None}))


def test_database_refuses_duplicate_failure_rows(state_store):
    row = dict(
        tenant="acme",
        entity="customer",
        direction="d",
        record_key="tripletex:1",
        reason_code="X",
        message_en="m",
        message_no="m",
    )
    with pytest.raises(IntegrityError), state_store.sessions.begin() as session:
        session.add(FailedRecord(**row))
        session.flush()
        session.add(FailedRecord(**row))
        session.flush()


def test_resolved_failures_leave_the_open_view_and_reopen_on_repeat(state_store):
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure(), _failure(tripletex_id="43")])
    with state_store.sessions.begin() as session:
        assert resolve_failures(session, "acme", "customer", ["tripletex:42"]) == 1
    with state_store.engine.connect() as connection:
        ids = connection.execute(text("SELECT tripletex_id FROM open_failed_records")).all()
    assert [r[0] for r in ids] == ["43"]
    with state_store.sessions.begin() as session:
        record_failures(session, [_failure()])
        assert {r.tripletex_id for r in open_failures(session, "acme")} == {"42", "43"}


def test_open_failure_columns_are_those_of_the_open_rows_filtered_alike(state_store):
    columns = ("id", "entity", "direction", "record_key", "reason_code", "payload")
    with state_store.sessions.begin() as session:
        record_failures(
            session,
            [
                _failure(),
                _failure(tripletex_id="43", reason_code="TARGET_REJECTED"),
                _failure(tripletex_id="44", entity="project", reason_code="TARGET_REJECTED"),
                _failure(tripletex_id="45", direction="svenn_to_tripletex", svenn_id="s-45"),
                _failure(tripletex_id="46", tenant="other"),
            ],
        )
        resolve_failures(session, "acme", "customer", ["tripletex:42"])
        record_failures(session, [_failure(tripletex_id="47", reason_code="TARGET_REJECTED")])
    with state_store.sessions() as session:
        whole = open_failures(session, "acme")
        assert [tuple(row) for row in open_failure_columns(session, "acme", *columns)] == [
            tuple(getattr(f, name) for name in columns) for f in whole
        ]
        chosen = open_failure_columns(
            session,
            "acme",
            "record_key",
            "payload",
            entity="customer",
            reason_code="TARGET_REJECTED",
            direction="tripletex_to_svenn",
        )
    assert [(row.record_key, row.payload) for row in chosen] == [
        (f.record_key, f.payload)
        for f in whole
        if (f.entity, f.reason_code, f.direction)
        == ("customer", "TARGET_REJECTED", "tripletex_to_svenn")
    ]
    assert [row.record_key for row in chosen] == ["tripletex:43", "tripletex:47"]


def test_cursor_is_stored_per_tenant_system_and_entity(state_store):
    with state_store.sessions.begin() as session:
        assert get_cursor(session, "acme", "svenn", "feed") is None
        set_cursor(session, "acme", "svenn", "feed", "100")
        set_cursor(session, "acme", "svenn", "feed", "250")
        set_cursor(session, "acme", "tripletex", "customer", "2026-11-25T10:00:00")
    with state_store.sessions.begin() as session:
        assert get_cursor(session, "acme", "svenn", "feed") == "250"
        assert get_cursor(session, "acme", "tripletex", "customer") == "2026-11-25T10:00:00"
        assert get_cursor(session, "other", "svenn", "feed") is None


def test_token_round_trips_encrypted_and_never_shows(state_store):
    token = SecretStr("employee-token-123")
    stored = state_store.cipher.encrypt(token)
    assert "employee-token-123" not in stored
    assert state_store.cipher.decrypt(stored).get_secret_value() == "employee-token-123"
    assert "employee-token-123" not in repr(state_store.cipher.decrypt(stored))
    assert "u0M1" not in repr(state_store.cipher)


def test_a_live_initial_sync_claim_survives_the_move_to_the_leases_table(tmp_path):
    import datetime as dt

    from store.leases import live_lease

    with fresh_store(tmp_path) as (engine, _schema, _):
        upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO integrations (tenant, status, sync_run_id, sync_heartbeat_at, "
                    "created_at, updated_at) VALUES ('acme', 'syncing', 'run-1', :now, :now, :now)"
                ),
                {"now": dt.datetime.now(dt.UTC)},
            )
            connection.execute(
                text(
                    "INSERT INTO integration_events (tenant, from_status, to_status, at) "
                    "VALUES ('acme', 'approved', 'syncing', :now)"
                ),
                {"now": dt.datetime.now(dt.UTC)},
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            lease = live_lease(session, "acme", "initial-sync", ttl=dt.timedelta(minutes=5))
            assert lease is not None and lease.holder == "run-1"
        with engine.connect() as connection:  # the audit trail is kept
            assert connection.execute(text("SELECT count(*) FROM integration_events")).scalar() == 1


def test_wrong_key_gives_a_clear_error_without_the_token(state_store):
    stored = state_store.cipher.encrypt(SecretStr("employee-token-123"))
    other = TokenCipher(SecretStr("ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="))
    with pytest.raises(TokenCipherError, match="SVENN_SYNC_ENCRYPTION_KEY differs") as caught:
        other.decrypt(stored)
    assert "employee-token-123" not in str(caught.value)


def test_malformed_key_is_named():
    with pytest.raises(TokenCipherError, match="SVENN_SYNC_ENCRYPTION_KEY is not a valid"):
        TokenCipher(SecretStr("too-short"))


def test_only_one_live_run_holds_a_tenants_initial_sync(state_store):
    import datetime as dt

    from store.integrations import SyncInProgressError, claim_sync, release_sync, renew_sync

    _to_review(state_store)
    lease = dt.timedelta(seconds=60)
    with state_store.sessions.begin() as session:
        transition(session, "acme", S.APPROVED, actor="kari")
        claim_sync(session, "acme", "run-1", lease=lease)
    with (
        pytest.raises(SyncInProgressError, match="run run-1 is still running"),
        state_store.sessions.begin() as session,
    ):
        claim_sync(session, "acme", "run-2", lease=lease)
    with state_store.sessions.begin() as session:
        renew_sync(session, "acme", "run-1")
        claim_sync(session, "acme", "run-1", lease=lease)  # the holder may claim again
        # a holder that stopped renewing (killed) is taken over once its lease ran out
        claim_sync(session, "acme", "run-2", lease=dt.timedelta(seconds=0))
        release_sync(session, "acme", "run-2")
        claim_sync(session, "acme", "run-3", lease=lease)  # released: free at once
