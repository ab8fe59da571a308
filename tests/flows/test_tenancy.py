"""A tenant is who its keys say it is: one integration per Tripletex company and Svenn tenant.

The key intake runs for real against both sandboxes (a second Tripletex company and a second
Svenn tenant are added beside the seeded ones) and the real store.
"""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError

from cli.operate import decide
from intake.keys import Accepted
from intake.keys import take_keys as run_intake
from store.integrations import get_integration, list_integrations
from store.models import Integration
from tasks.activation import Refusal
from tests.flows.conftest import (
    OTHER_COMPANY_TOKEN,
    OTHER_SVENN_KEY,
    OTHER_TENANT,
    take_keys,
)


def intake(sandboxes, tenant, token, svenn_key):
    return asyncio.run(run_intake(tenant, SecretStr(token), SecretStr(svenn_key)))


def rows(store) -> dict[str, tuple]:
    """Every integration as (status, company, svenn tenant, stored ciphertexts)."""
    with store.sessions() as session:
        return {
            i.tenant: (
                i.status,
                i.tripletex_company_id,
                i.svenn_tenant_id,
                i.employee_token_encrypted,
                i.svenn_api_key_encrypted,
            )
            for i in list_integrations(session)
        }


def one_sentence(text: str) -> bool:
    return len(re.findall(r"[.!?](?:\s|$)", text)) == 1 and text.endswith(".")


def assert_refused(refusal, code, *names):
    assert isinstance(refusal, Refusal), refusal
    assert refusal.code == code
    assert one_sentence(refusal.message), refusal.message
    for name in names:
        assert name in refusal.message
    for secret in ("demo-employee-token", OTHER_COMPANY_TOKEN, "svenn-demo-key", OTHER_SVENN_KEY):
        assert secret not in refusal.message


def test_the_keys_decide_who_the_integration_is_for(sync_env, sandboxes, state_store):
    accepted = take_keys(sandboxes)
    assert isinstance(accepted, Accepted)
    assert accepted.parties.tripletex_company_id == sandboxes.company_id
    assert accepted.parties.svenn_tenant_id == sandboxes.tenant
    with state_store.sessions() as session:
        integration = get_integration(session, sandboxes.tenant)
        assert (integration.svenn_tenant_id, integration.svenn_tenant_name) == (
            sandboxes.tenant,
            accepted.parties.svenn_tenant_name,
        )
        assert integration.tripletex_company_name == accepted.parties.tripletex_company_name


def test_a_svenn_key_of_another_tenant_is_refused(
    sync_env, sandboxes, state_store, second_accounts
):
    assert isinstance(take_keys(sandboxes), Accepted)
    before = rows(state_store)
    refusal = intake(sandboxes, sandboxes.tenant, sandboxes.employee_token, OTHER_SVENN_KEY)
    assert_refused(refusal, "FOREIGN_SVENN_KEY", "Annen Kunde AS (t-other)", sandboxes.tenant)
    assert rows(state_store) == before  # the stored keys were not replaced


def test_a_company_already_connected_is_refused_naming_the_holder(
    sync_env, sandboxes, state_store, second_accounts
):
    assert isinstance(take_keys(sandboxes), Accepted)
    before = rows(state_store)
    refusal = intake(sandboxes, OTHER_TENANT, sandboxes.employee_token, OTHER_SVENN_KEY)
    assert_refused(
        refusal, "COMPANY_ALREADY_CONNECTED", f"({sandboxes.company_id})", "t-demo (review)"
    )
    assert rows(state_store) == before  # nothing stored for t-other


def test_a_svenn_tenant_already_connected_is_refused_naming_the_holder(
    sync_env, sandboxes, state_store, second_accounts
):
    assert isinstance(take_keys(sandboxes), Accepted)
    before = rows(state_store)
    refusal = intake(sandboxes, "t-demo-again", OTHER_COMPANY_TOKEN, sandboxes.svenn_api_key)
    assert_refused(refusal, "SVENN_TENANT_ALREADY_CONNECTED", "(t-demo)", "t-demo (review)")
    assert rows(state_store) == before


def test_keys_of_another_company_do_not_replace_those_in_review(
    sync_env, sandboxes, state_store, second_accounts
):
    assert isinstance(take_keys(sandboxes), Accepted)
    before = rows(state_store)
    refusal = intake(sandboxes, sandboxes.tenant, OTHER_COMPANY_TOKEN, sandboxes.svenn_api_key)
    assert_refused(refusal, "OTHER_COMPANY_IN_REVIEW", "Annen Bygg AS (2002)", "reject")
    assert rows(state_store) == before


def test_the_same_keys_again_in_review_are_taken(sync_env, sandboxes, state_store):
    assert isinstance(take_keys(sandboxes), Accepted)
    assert isinstance(take_keys(sandboxes), Accepted)
    assert rows(state_store)[sandboxes.tenant][0] == "review"


def test_a_rejected_integration_frees_its_company(
    sync_env, sandboxes, state_store, second_accounts
):
    assert isinstance(take_keys(sandboxes), Accepted)
    decide(state_store, sandboxes.tenant, "reject", "ola@ops", "wrong label")
    accepted = intake(sandboxes, OTHER_TENANT, sandboxes.employee_token, OTHER_SVENN_KEY)
    assert isinstance(accepted, Accepted), accepted
    assert rows(state_store)[OTHER_TENANT][:3] == ("review", sandboxes.company_id, OTHER_TENANT)


def test_two_intakes_racing_for_one_company_leave_one_integration(
    sync_env, sandboxes, state_store, second_accounts
):
    outcomes: dict[str, object] = {}
    labels = {"t-one": sandboxes.svenn_api_key, "t-two": OTHER_SVENN_KEY}
    threads = [
        threading.Thread(
            target=lambda label=label, key=key: outcomes.update(
                {label: intake(sandboxes, label, sandboxes.employee_token, key)}
            )
        )
        for label, key in labels.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    accepted = [label for label, outcome in outcomes.items() if isinstance(outcome, Accepted)]
    refused = [o for o in outcomes.values() if isinstance(o, Refusal)]
    assert len(accepted) == 1 and len(refused) == 1, outcomes
    assert refused[0].code == "COMPANY_ALREADY_CONNECTED"
    assert set(rows(state_store)) == set(accepted)


def test_the_database_holds_one_live_integration_per_company(state_store):
    with pytest.raises(IntegrityError), state_store.sessions.begin() as session:
        for tenant in ("t-a", "t-b"):
            session.add(Integration(tenant=tenant, status="active", tripletex_company_id=7))
            session.flush()
    with state_store.sessions.begin() as session:  # a rejected one holds nothing
        session.add(Integration(tenant="t-a", status="active", tripletex_company_id=7))
        session.add(Integration(tenant="t-b", status="rejected", tripletex_company_id=7))
