"""The Logg page in a real browser (Debian's Chromium through Playwright), opened through a
signed link on a real activation's log: search by part of a name, page, follow "what to do",
tenant data shown as text, and refused links."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from store.failures import find_failures
from tests.flows.conftest import take_keys
from tests.flows.tenant_side.conftest import (
    HANSEN,
    INTAKE_TOKEN,
    LINK_KEY,
    SCRIPT_NAME,
    TenantSide,
    chromium_page,
)

pytestmark = pytest.mark.scenario

TITLE = "Tripletex – Logg"
INVALID = "Lenken til Loggen er ikke gyldig"
EXPIRED = "Lenken til Loggen er utløpt"


def open_rows(store, tenant) -> int:
    with store.sessions() as session:
        return find_failures(session, tenant)[1]


def search(page, text: str) -> None:
    page.get_by_role("searchbox").fill(text)
    page.get_by_role("button", name="Søk").click()


def test_the_logg_page_pages_finds_explains_and_escapes_a_real_activations_log(
    tenant_side: TenantSide, state_store, tmp_path
):
    total = open_rows(state_store, tenant_side.pair.tenant)
    assert total > 50
    with chromium_page() as page:
        page.goto(tenant_side.logg_url())
        expect(page).to_have_title(TITLE)
        expect(page.locator("#status")).to_have_text("Aktiv")
        expect(page.locator("#antall")).to_contain_text(f"{total} oppføringer · side 1 av 2")
        expect(page.locator("article.rad")).to_have_count(50)
        first_page = page.locator("article.rad").evaluate_all("rows => rows.map(r => r.id)")
        page.screenshot(path=tmp_path / "logg.png", full_page=False)
        if os.environ.get("LOGG_SCREENSHOT"):  # the README's picture, on request
            shutil.copy(tmp_path / "logg.png", os.environ["LOGG_SCREENSHOT"])

        page.get_by_role("link", name="Eldre →").click()
        expect(page.locator("#antall")).to_contain_text("side 2 av 2")
        expect(page.locator("article.rad")).to_have_count(total - 50)
        second_page = page.locator("article.rad").evaluate_all("rows => rows.map(r => r.id)")
        assert not set(first_page) & set(second_page)
        page.get_by_role("link", name="← Nyere").click()
        expect(page.locator("#antall")).to_contain_text("side 1 av 2")

        search(page, "hansen")
        rows = page.locator("article.rad")
        expect(rows).to_have_count(1)
        expect(rows.locator(".navn")).to_have_text(HANSEN)
        expect(rows.locator(".hva")).to_contain_text("Hva gjør jeg?")
        assert "sig=" in page.url  # the search keeps the link's signature
        what_to_do = rows.locator(".hva").inner_text()
        rows.get_by_role("link", name="Mer om dette").click()
        anchor = urlsplit(page.url).fragment
        assert anchor.startswith("hva-")
        explained = page.locator(f"#{anchor}")
        expect(explained).to_be_in_viewport()
        assert explained.locator("p").inner_text() in what_to_do

        search(page, "rør as")  # tenant data is shown as text, never run
        expect(page.locator("article.rad .navn")).to_have_text([SCRIPT_NAME])
        expect(page).to_have_title(TITLE)
        assert page.locator("script").count() == 0


def test_expired_altered_and_other_tenants_links_are_refused_in_norwegian(
    sync_env, sandboxes, state_store, monkeypatch
):
    from config.settings import load_settings
    from intake.app import create_app
    from sandboxes.runner import serve_in_thread

    take_keys(sandboxes)  # the tenant exists (in review): its own link opens its page
    monkeypatch.setenv("SVENN_SYNC_INTAKE_TOKEN", INTAKE_TOKEN)
    monkeypatch.setenv("SVENN_SYNC_LOGG_LINK_KEY", LINK_KEY)
    load_settings.cache_clear()
    with serve_in_thread(create_app(run_on="process")) as root, chromium_page() as page:
        side = TenantSide(root, sandboxes, {})
        good = side.logg_url()
        assert page.goto(good).status == 200
        expect(page.locator("#status")).to_have_text("Gjennomgang")

        sig = good.split("sig=")[1]
        altered = good[:-1] + ("0" if good[-1] != "0" else "1")
        refused = {
            good.replace(f"/tenants/{sandboxes.tenant}/", "/tenants/t-other/"): INVALID,
            altered: INVALID,
            good.split("?")[0]: INVALID,
            good.replace(sig, str(int(sig.split(".")[0]) + 60) + "." + sig.split(".")[1]): INVALID,
            side.logg_url(valid_for=-1): EXPIRED,
        }
        for url, sentence in refused.items():
            answer = page.goto(url)
            assert answer is not None and answer.status == 403, url
            expect(page.get_by_role("alert")).to_contain_text(sentence)
            expect(page.locator("article.rad")).to_have_count(0)

        # A well-signed link to a tenant without an integration says so, in Norwegian too.
        answer = page.goto(side.logg_url("t-nobody"))
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("alert")).to_have_text(
            "Integrasjonen med Tripletex er ikke slått på."
        )
