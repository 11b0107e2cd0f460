"""A commander declares an outage in Chromium, watching the live impact preview, then restores
it; screenshots of each page at phone and desktop widths go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect, sync_playwright

from amends.core.roles import Role
from amends.core.services import staff_user_set
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.factories import build_operator

WIDTHS = {"phone": 390, "desktop": 1280}


def snap(page: Page, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"outage-{name}-{label}.png"), full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_commander_declares_previews_and_restores(live_server) -> None:  # type: ignore[no-untyped-def]
    # All database work happens before Playwright starts its event loop in this thread.
    # An earlier transactional test may have flushed the role groups the migration created.
    for role in Role.ALL:
        Group.objects.get_or_create(name=role)
    build_operator()
    staff_user_set(actor="test", username="cora", role=Role.COMMANDER, password="pw-123456-x")
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/outages/")
        page.get_by_label("User name").fill("cora")
        page.get_by_label("Password").fill("pw-123456-x")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Outages", exact=True).click()
        page.get_by_role("heading", name="Outages").wait_for()
        page.get_by_role("link", name="Declare an outage").click()
        page.get_by_role("heading", name="Declare an outage").wait_for()
        page.wait_for_load_state("load")  # htmx, a deferred script, drives the preview

        page.get_by_label("Title").fill("Exchange X1 fibre cut")
        page.get_by_label("Public summary").fill("Internet and mobile are out in Sydney CBD.")
        line = page.get_by_role("group", name="Scope line 1")
        line.get_by_label("Kind").select_option("element")
        line.get_by_label("Value").fill("X1")
        line.get_by_label("Value").press("Tab")  # the change event drives the preview
        preview = page.locator("#preview")
        expect(preview).to_contain_text("3 services, 2 customers would be affected (NSW 3)")

        # A mistake in a line shows in the preview; correcting it brings the count back.
        line.get_by_label("Value").fill("X9")
        line.get_by_label("Value").press("Tab")
        expect(preview).to_contain_text("unknown network element 'X9'")
        line.get_by_label("Value").fill("X1")
        line.get_by_label("Value").press("Tab")
        expect(preview).to_contain_text("3 services")
        snap(page, "declare")

        page.get_by_role("button", name="Declare outage").click()
        page.wait_for_url(re.compile(r".*/outages/OUT-\d{4}-0001/$"))
        expect(page.locator("#outage-reference")).to_have_text(re.compile(r"OUT-\d{4}-0001"))
        expect(page.locator("#impact-services")).to_have_text("3")
        expect(page.get_by_role("status")).to_contain_text("Declared OUT-")
        expect(page.locator("#outage-status")).to_have_text("Investigating")
        snap(page, "detail")

        page.get_by_role("button", name="Restore all").click()
        expect(page.locator("#outage-status")).to_have_text("Monitoring")
        expect(page.locator("#impact-still")).to_have_text("0")
        expect(page.get_by_role("status")).to_contain_text("3 services back")
        snap(page, "detail-restored")

        page.get_by_role("link", name="Outages", exact=True).first.click()
        expect(page.get_by_role("cell", name="Exchange X1 fibre cut")).to_be_visible()
        snap(page, "list")
        browser.close()
