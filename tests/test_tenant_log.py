"""The tenant's log in the store (store/tenant_log.py): found by any part of a name, number,
e-mail or organisation number, newest first, paged; rows written before migration 0008 are
labelled by it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text, update

from store.failures import Failure, record_failures, resolve_failures
from store.integrations import ensure_integration
from store.migrate import upgrade
from store.models import FailedRecord
from store.tenant_log import read_log, read_overview
from tests.conftest import fresh_store

TENANT = "t-log"


def customer(n: int, name: str, **fields: object) -> Failure:
    return Failure(
        tenant=TENANT,
        entity="customer",
        direction="svenn_to_tripletex",
        reason_code="CUSTOMER_NUMBER_NOT_NUMERIC",
        message_en=f"Customer '{name}' ...",
        message_no=f"Kunden «{name}» ...",
        svenn_id=f"cus-{n}",
        payload={"name": name, "customer_number": f"K-{n}", **fields},
    )


def test_part_of_a_name_email_or_org_number_finds_the_record(state_store):
    with state_store.sessions.begin() as session:
        record_failures(
            session,
            [
                customer(1, "Hansen Bygg AS", email="post@hansenbygg.no"),
                customer(2, "Østlandet Rør AS", organization_number="923456789"),
                customer(3, "100% Maling_AS"),
            ],
        )
    with state_store.sessions() as session:

        def names(**query: object) -> list[str | None]:
            return [e.name for e in read_log(session, TENANT, **query).entries]  # type: ignore[arg-type]

        assert names(q="hansen") == ["Hansen Bygg AS"]
        assert names(q="HANSENBYGG.NO") == ["Hansen Bygg AS"]
        assert names(q="østlandet") == ["Østlandet Rør AS"]  # not ASCII: folded by Python
        assert names(q="923 456 789") == ["Østlandet Rør AS"]
        assert names(q="K-2") == ["Østlandet Rør AS"]
        assert names(q="0%") == ["100% Maling_AS"]  # LIKE's wildcards are taken literally
        assert names(q="g_a") == ["100% Maling_AS"]
        assert names(q="hansen", entity="project") == []
        assert names(q="nobody") == []


def test_the_log_is_newest_first_paged_and_filtered_by_state(state_store):
    with state_store.sessions.begin() as session:
        record_failures(session, [customer(n, f"Kunde {n}") for n in range(5)])
        base = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        for n in range(5):  # Kunde 0 last seen first, Kunde 4 last seen most recently
            session.execute(
                update(FailedRecord)
                .where(FailedRecord.svenn_id == f"cus-{n}")
                .values(last_seen=base + dt.timedelta(hours=n))
            )
        resolve_failures(session, TENANT, "customer", ["svenn:cus-4"], by="retry-failed/run-1")
    with state_store.sessions() as session:
        first = read_log(session, TENANT, status="all", page=1, page_size=2)
        second = read_log(session, TENANT, status="all", page=2, page_size=2)
        assert [e.name for e in first.entries + second.entries] == [
            "Kunde 4", "Kunde 3", "Kunde 2", "Kunde 1",
        ]  # fmt: skip
        assert (first.total, first.pages) == (5, 3)
        assert read_log(session, TENANT).entries[0].name == "Kunde 3"
        (resolved,) = read_log(session, TENANT, status="resolved").entries
        assert resolved.resolved and resolved.resolved_by == "retry-failed/run-1"
        assert resolved.title == "Kundenummer med bokstaver" and resolved.what_to_do
        assert resolved.last_seen.tzinfo is not None and resolved.resolved_at.tzinfo is not None


def test_the_overview_counts_open_problems_and_knows_unknown_tenants(state_store):
    with state_store.sessions.begin() as session:
        ensure_integration(session, TENANT)
        record_failures(session, [customer(n, f"Kunde {n}") for n in range(3)])
        resolve_failures(session, TENANT, "customer", ["svenn:cus-0"])
    with state_store.sessions() as session:
        overview = read_overview(session, TENANT)
        assert overview is not None
        assert (overview.status, overview.status_text) == ("off", "Ikke slått på")
        assert overview.open_problems == 2 and overview.last_synced_at is None
        assert read_overview(session, "t-nobody") is None


def test_rows_written_before_migration_0008_are_labelled_by_it(tmp_path):
    with fresh_store(tmp_path) as (engine, _schema, _):
        upgrade(engine, "0007_tenancy")
        payload = json.dumps({"name": "Hansen Bygg AS", "customer_number": 1042})
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO failed_records (tenant, entity, direction, record_key, "
                    "svenn_id, reason_code, message_en, message_no, payload, attempts, status, "
                    "first_seen, last_seen) VALUES ('t-old', 'customer', 'svenn_to_tripletex', "
                    "'svenn:c1', 'c1', 'KEY_IN_USE', 'en', 'no', :payload, 1, 'open', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"payload": payload},
            )
        upgrade(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT record_name, record_number, search_text FROM failed_records")
            ).one()
        assert row[0] == "Hansen Bygg AS" and row[1] == "1042"
        assert "hansen bygg as" in row[2] and "c1" in row[2]
