"""``svenn-sync disable|enable|keys replace`` as real subprocesses: the same rules as the
tenant API, keys from the environment (never on the command line), one line per refusal."""

from __future__ import annotations

import pytest

from cli.operate import decide
from store.integrations import history
from tests.flows.conftest import OTHER_COMPANY_TOKEN, run_activation
from tests.flows.test_cli_operations import status_of, svenn_sync
from tests.flows.test_tenancy import rows

pytestmark = pytest.mark.scenario


def test_ops_turn_a_tenant_off_and_on_again_and_replace_its_key(
    pipeline, sandboxes, state_store, second_accounts
):
    pair, store = sandboxes, state_store
    run_activation(pair)
    assert decide(store, pair.tenant, "approve", "kari@ops", "ok").endswith("active")
    keys = {"TRIPLETEX_EMPLOYEE_TOKEN": pair.employee_token, "SVENN_API_KEY": pair.svenn_api_key}

    off = svenn_sync("disable", pair.tenant, "--by", "kari@ops", "--reason", "kunden ba om det")
    assert off.returncode == 0, off.stderr
    assert "erased" in off.stdout and status_of(store, pair.tenant) == "disabled"
    assert rows(store)[pair.tenant][3:] == (None, None)
    with store.sessions() as session:
        last = history(session, pair.tenant)[-1]
    assert (last.actor, last.reason) == ("kari@ops", "kunden ba om det")

    refused = svenn_sync("keys", "replace", pair.tenant, **keys)
    assert refused.returncode == 1 and "error: NOT_ON" in refused.stderr

    on = svenn_sync("enable", pair.tenant, "--by", "kari@ops", **keys)
    assert on.returncode == 0, on.stderr
    assert on.stdout.strip().endswith(f"{pair.tenant}: active")
    assert status_of(store, pair.tenant) == "active"

    foreign = svenn_sync(
        "keys", "replace", pair.tenant, TRIPLETEX_EMPLOYEE_TOKEN=OTHER_COMPANY_TOKEN
    )
    assert foreign.returncode == 1 and "error: OTHER_COMPANY" in foreign.stderr
    assert OTHER_COMPANY_TOKEN not in foreign.stdout + foreign.stderr
    before = rows(store)[pair.tenant][3]
    same = svenn_sync("keys", "replace", pair.tenant, "--by", "kari@ops", **keys)
    assert same.returncode == 0, same.stderr
    assert "erased" in same.stdout and pair.employee_token not in same.stdout
    assert rows(store)[pair.tenant][3] not in (None, before)
    again = svenn_sync("enable", pair.tenant, "--by", "kari@ops", **keys)
    assert again.returncode == 1 and "error: NOT_TURNED_OFF" in again.stderr
