"""The Logg page's buttons in a real browser (Debian's Chromium through Playwright) on a real
activation: a held-back customer shows its candidates side by side; "Dette er samme kunde"
links the pair in the store and resolves the row, "Dette er ulike kunder" keeps a pair apart,
"Behold denne verdien" keeps the other side's value of a conflict; a forged or missing form
token and a link of another tenant are refused in Norwegian and change nothing."""

from __future__ import annotations

import os

import httpx
import pytest
from playwright.sync_api import Page, expect

from sandboxes.live_edits import svenn_edit, tripletex_edit, tripletex_records
from sandboxes.pair import SandboxPair
from store.decisions import Pair, standing_on
from store.failures import open_failures
from store.links import link_holding, links_for
from store.models import FailedRecord
from tests.flows.realtime_support import tick
from tests.flows.tenant_side.conftest import TenantSide, chromium_page

pytestmark = pytest.mark.scenario

PERSON = "kari@tenant.no"
SHARED_EMAIL = "post@tvillingror.no"
WAIT = 90_000  # ms: an action may wait for the tenant's lease (a tick, a retry) to be free
TWINS = {"Tvilling Rør AS": "913000005", "Tvilling Rør Vest AS": "913000013"}


@pytest.fixture
def twins(sandboxes: SandboxPair) -> dict[str, str]:
    """One Svenn customer whose e-mail two Tripletex customers (different org numbers) share:
    the sync cannot tell which one it is and holds it back (planted before the activation)."""
    svenn = svenn_edit(sandboxes, "customer", None, {"name": "Tvilling Rør", "email": SHARED_EMAIL})
    assert svenn is not None
    planted = {"svenn": svenn["id"]}
    for name, org in TWINS.items():
        body = {"name": name, "email": SHARED_EMAIL, "organizationNumber": org}
        made = tripletex_edit(sandboxes, "customer", None, body)
        assert made is not None
        planted[name] = str(made["id"])
    return planted


def held_back_row(store, tenant: str, svenn_id: str):
    with store.sessions() as session:
        rows = [r for r in open_failures(session, tenant) if r.record_key == f"svenn:{svenn_id}"]
    assert [r.reason_code for r in rows] == ["AMBIGUOUS_MATCH"], rows
    return rows[0]


def row_status(store, row_id: int) -> tuple[str, str | None]:
    with store.sessions() as session:
        row = session.get(FailedRecord, row_id)
        return row.status, row.resolved_by


def press(page: Page, row_id: int, other: str, button: str, by: str = PERSON) -> None:
    card = page.locator(f"#rad-{row_id} .kort[data-id='{other}']")
    form = card.locator("form").filter(has=page.get_by_role("button", name=button))
    form.locator("input[name=by]").fill(by)
    form.get_by_role("button", name=button).click()


def test_a_held_back_customer_is_linked_by_its_button_in_the_browser(
    twins, tenant_side: TenantSide, state_store
):
    tenant = tenant_side.pair.tenant
    row = held_back_row(state_store, tenant, twins["svenn"])
    first = twins["Tvilling Rør AS"]
    with chromium_page() as page:
        page.goto(tenant_side.logg_url())
        page.get_by_role("searchbox").fill("tvilling")
        page.get_by_role("button", name="Søk").click()
        shown = page.locator(f"#rad-{row.id}")
        expect(shown.locator(".kort")).to_have_count(3)  # this one, then both candidates
        expect(shown.locator(".kort .kort-navn")).to_have_text(["Tvilling Rør", *TWINS])
        expect(shown.locator(f".kort[data-id='{first}']")).to_contain_text(TWINS["Tvilling Rør AS"])
        expect(shown.locator(f".kort[data-id='{first}']")).to_contain_text(SHARED_EMAIL)
        if os.environ.get("LOGG_BUTTONS_SCREENSHOT"):  # the README's picture, on request
            shown.screenshot(path=os.environ["LOGG_BUTTONS_SCREENSHOT"])

        press(page, row.id, first, "Dette er samme kunde")
        expect(page.locator("#utfall")).to_contain_text("samme oppføring", timeout=WAIT)
        assert "sig=" in page.url and "/logg/" not in page.url  # post/redirect/get
        expect(page.locator(f"#rad-{row.id}")).to_have_count(0)  # no longer open
    assert row_status(state_store, row.id) == ("resolved", PERSON)
    with state_store.sessions() as session:
        link = link_holding(session, tenant, "customer", "svenn", twins["svenn"])
        assert link is not None and link.tripletex_id == first


def test_forged_missing_and_other_tenants_forms_change_nothing_then_keep_apart_works(
    twins, tenant_side: TenantSide, state_store
):
    tenant = tenant_side.pair.tenant
    row = held_back_row(state_store, tenant, twins["svenn"])
    first = twins["Tvilling Rør AS"]
    with state_store.sessions() as session:
        before = len(links_for(session, tenant, "customer"))
    with chromium_page() as page:
        page.goto(tenant_side.logg_url() + "&q=tvilling")
        form = page.locator(f"#rad-{row.id} .kort[data-id='{first}'] form.valg-samme")
        fields = {
            name: form.locator(f"input[name={name}]").get_attribute("value")
            for name in ("sig", "token", "action", "other")
        }
    url = f"{tenant_side.url}/tenants/{tenant}/logg/rad/{row.id}"
    good = {**fields, "by": PERSON}
    other_sig = tenant_side.logg_url("t-other").split("sig=")[1]
    refused = {
        "Skjemaet mangler et gyldig sikkerhetsmerke": [
            {k: v for k, v in good.items() if k != "token"},
            {**good, "token": "0" * 64},
            {**good, "other": twins["Tvilling Rør Vest AS"]},  # the token is for another choice
            {**good, "action": "ulike"},
        ],
        "Lenken til Loggen er ikke gyldig": [{**good, "sig": other_sig}, {**good, "sig": ""}],
        "Skriv navnet ditt": [{**good, "by": " "}],
    }
    for sentence, bodies in refused.items():
        for body in bodies:
            answer = httpx.post(url, data=body, timeout=60, follow_redirects=False)
            assert answer.status_code in (403, 422), (body, answer.status_code)
            assert sentence in answer.text, (body, answer.text)
    # Another tenant's path with this tenant's form: the link does not open it.
    other = httpx.post(url.replace(f"/tenants/{tenant}/", "/tenants/t-other/"), data=good)
    assert other.status_code == 403 and "Lenken til Loggen er ikke gyldig" in other.text
    assert row_status(state_store, row.id) == ("open", None)
    with state_store.sessions() as session:
        assert len(links_for(session, tenant, "customer")) == before
        assert link_holding(session, tenant, "customer", "svenn", twins["svenn"]) is None

    second = twins["Tvilling Rør Vest AS"]
    with chromium_page() as page:  # the genuine form of the other candidate is taken
        page.goto(tenant_side.logg_url() + "&q=tvilling")
        press(page, row.id, second, "Dette er ulike kunder")
        expect(page.locator("#utfall")).to_contain_text("holdes adskilt", timeout=WAIT)
    with state_store.sessions() as session:
        pair = Pair(svenn_id=twins["svenn"], tripletex_id=second)
        decided = standing_on(session, tenant, "customer", pair)
        assert [(d.kind, d.decided_by) for d in decided] == [("keep_apart", PERSON)]


def test_a_conflict_keeps_the_other_value_by_its_button(tenant_side: TenantSide, state_store):
    pair, tenant = tenant_side.pair, tenant_side.pair.tenant
    with state_store.sessions() as session:
        link = links_for(session, tenant, "customer")[0]
    tripletex_edit(pair, "customer", link.tripletex_id, {"phoneNumber": "+47 22 00 00 01"})
    svenn_edit(pair, "customer", link.svenn_id, {"phone": "+47 99 00 00 02"})
    tick(pair, state_store)
    with state_store.sessions() as session:
        rows = [
            r
            for r in open_failures(session, tenant)
            if r.reason_code == "FIELD_CONFLICT" and r.svenn_id == link.svenn_id
        ]
    assert len(rows) == 1, rows
    row = rows[0]
    with chromium_page() as page:
        page.goto(tenant_side.logg_url() + "&entity=customer")
        svenn_side = page.locator(f"#rad-{row.id} .kort[data-system=svenn]")
        expect(svenn_side.locator(".verdi")).to_contain_text(["+47 99 00 00 02"])
        press(page, row.id, link.svenn_id, "Behold denne verdien")
        expect(page.locator("#utfall")).to_contain_text("verdien du valgte", timeout=WAIT)
    assert row_status(state_store, row.id) == ("resolved", PERSON)
    phone = tripletex_records(pair, "customer")[str(link.tripletex_id)].get("phoneNumber")
    assert phone and phone.replace(" ", "").endswith("99000002")
