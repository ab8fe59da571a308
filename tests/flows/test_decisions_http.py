"""The tenant API's decisions over real HTTP: the bearer gate, one sentence per refusal with
nothing changed, undo and link again, a repeat answered as nothing to do, and every answer
documented in /openapi.json."""

from __future__ import annotations

import httpx
import pytest

from cli.operate import decide
from intake.app import create_app
from sandboxes.runner import serve_in_thread
from store.links import links_for
from tests.flows.conftest import run_activation

pytestmark = pytest.mark.scenario

TOKEN = "intake-bearer-for-tests"


@pytest.fixture
def intake_url(sync_env, monkeypatch):
    from config.settings import load_settings

    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", TOKEN)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root:
        yield root


def post(url: str, path: str, body: object, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}{path}", json=body, headers=headers, timeout=120)


def _links(store, tenant):
    with store.sessions() as session:
        return sorted(
            (lk.svenn_id, lk.tripletex_id) for lk in links_for(session, tenant, "customer")
        )


def test_links_endpoints_refuse_in_one_sentence_undo_and_repeat_as_no_ops(
    pipeline, sandboxes, state_store, intake_url
):
    tenant = sandboxes.tenant
    run_activation(sandboxes)
    assert decide(state_store, tenant, "approve", "ops", "ok").endswith("active")
    before = _links(state_store, tenant)
    svenn_id, tripletex_id = before[0]
    pair = {"entity": "customer", "svennId": svenn_id, "tripletexId": tripletex_id, "by": "kari"}

    assert post(intake_url, f"/tenants/{tenant}/unlink", pair, token=None).status_code == 401
    for path, body in (
        (f"/tenants/{tenant}/links", {**pair, "tripletexId": "999999"}),
        (f"/tenants/{tenant}/links", {**pair, "entity": "employee"}),
        (f"/tenants/{tenant}/keep-apart", pair),  # linked: unlink first
        (f"/tenants/{tenant}/links", {"entity": "customer"}),
        ("/tenants/t-nobody/links", pair),
    ):
        refused = post(intake_url, path, body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "REFUSED" and refused.json()["message"].count(". ") == 0
        assert _links(state_store, tenant) == before

    undone = post(intake_url, f"/tenants/{tenant}/unlink", pair)
    assert undone.json()["code"] == "DONE" and "nothing was deleted" in undone.json()["message"]
    assert (svenn_id, tripletex_id) not in _links(state_store, tenant)
    assert post(intake_url, f"/tenants/{tenant}/unlink", pair).json()["code"] == "NOTHING_TO_DO"
    linked = post(intake_url, f"/tenants/{tenant}/links", pair)
    assert linked.status_code == 200 and linked.json()["code"] == "DONE", linked.text
    assert _links(state_store, tenant) == before
    assert post(intake_url, f"/tenants/{tenant}/links", pair).json()["code"] == "NOTHING_TO_DO"

    spec = httpx.get(f"{intake_url}/openapi.json").json()
    for path in ("/links", "/keep-apart", "/unlink", "/failures/{row_id}/keep"):
        answers = spec["paths"][f"/tenants/{{tenant}}{path}"]["post"]["responses"]
        assert {"200", "401", "422"} <= set(answers), path
