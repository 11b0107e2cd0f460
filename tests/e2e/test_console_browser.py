"""A person signs in to the console in Chromium and sees the operator's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.importer import IMPORT_ORDER, run_import
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_viewer_signs_in_and_sees_counts(live_server, small_network: Path) -> None:  # type: ignore[no-untyped-def]
    # All database work happens before Playwright starts its event loop in this thread.
    for kind in IMPORT_ORDER:
        run_import(kind, small_network / f"{kind}.csv", actor="test")
    staff_user_set(actor="test", username="vic", role=Role.VIEWER, password="pw-123456-x")
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{live_server.url}/")
        assert page.url.startswith(f"{live_server.url}/login/")
        page.get_by_label("User name").fill("vic")
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Sign in").click()
        assert page.get_by_role("alert").inner_text().startswith("Your user name and password")
        page.get_by_label("Password").fill("pw-123456-x")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview").wait_for()
        assert page.locator("#count-customers").inner_text() == "3"
        assert page.locator("#count-services").inner_text() == "4"
        assert page.locator("#count-outages").inner_text() == "0"
        page.screenshot(path=str(ARTIFACTS / "console-home-phone.png"), full_page=True)
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in").wait_for()
        browser.close()
