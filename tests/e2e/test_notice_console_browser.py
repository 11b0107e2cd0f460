"""A communications lead composes an acknowledge notice in Chromium, checks its preview and a
real recipient's message, tries a template's wording live, and submits; an approver signs in
and approves; the delivery dashboard shows the queued messages. Screenshots of each page at
phone and desktop widths go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from amends.core.roles import Role, sync_role_permissions
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.factories import build_operator

WIDTHS = {"phone": 390, "desktop": 1280}
PASSWORD = "pw-123456-x"  # noqa: S105


def snap(page: Page, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"notice-{name}-{label}.png"), full_page=True)
        # Wide tables scroll inside their own box; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, label)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_compose_preview_submit_and_approve(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    # All database work happens before Playwright starts its event loop in this thread.
    # An earlier transactional test may have flushed the role groups the migration created.
    sync_role_permissions()
    settings.AMENDS_APPROVAL_THRESHOLD = 1  # three recipients need a second person
    build_operator()
    Customer.objects.filter(external_id="C2").update(email="c2@example.com", language="vi")
    Customer.objects.filter(external_id="C3").update(language="zh")
    Customer.objects.filter(external_id="C4").update(mobile="")
    outage = outage_declare(
        actor="nmc",
        title="NSW core routing fault",
        summary="Mobile and internet services are down across NSW.",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
    ).outage
    staff_user_set(actor="test", username="cleo", role=Role.COMMUNICATIONS, password=PASSWORD)
    staff_user_set(actor="test", username="abe", role=Role.APPROVER, password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, f"{live_server.url}/notices/", "cleo")
        page.get_by_role("heading", name="Notices").wait_for()
        page.get_by_role("link", name="New notice").click()
        page.get_by_role("heading", name="New notice").wait_for()
        page.get_by_label("Outage").select_option(outage.reference)
        page.get_by_label("Kind of notice").select_option("acknowledge")
        page.get_by_label("Who receives it").select_option("all_affected")
        page.get_by_label("Message of its own").fill("Engineers are on site in the exchange.")
        snap(page, "compose")
        page.get_by_role("button", name="Save draft and preview").click()

        page.wait_for_url(re.compile(r".*/notices/\d+/$"))
        expect(page.get_by_role("status")).to_contain_text("it would reach 3 customers")
        expect(page.locator("#notice-status")).to_have_text("Draft")
        expect(page.locator("#preview-customers")).to_have_text("4")
        expect(page.locator("#preview-reachable")).to_have_text("3")
        expect(page.locator("#preview-held")).to_have_text("1")
        expect(page.locator("#preview-unreachable")).to_have_text("1")
        # The acknowledge SMS has no room for the notice's own words: the author is told.
        expect(page.locator("#preview-words-left-out")).to_contain_text(
            "Your own words are not in the SMS message"
        )
        expect(page.locator("#by-channel")).to_contain_text("SMS")
        expect(page.locator("#sms-cost")).to_contain_text("UCS-2")
        sms = page.locator("article.sample", has_text="SMS to Customer C1")
        expect(sms.locator("pre")).to_contain_text("000 works with any network")
        email = page.locator("article.sample", has_text="Email to Customer C2")
        frame = email.locator("iframe[sandbox='']")
        expect(frame).to_be_visible()
        expect(page.frame_locator("article.sample iframe").locator("body")).to_contain_text("000")
        snap(page, "draft-preview")
        # Chromium does not paint an iframe that is off screen in a full-page screenshot.
        frame.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "notice-draft-samples-desktop.png"))
        notice_url = page.url

        # The wording of the SMS in Vietnamese, tried live before anything is sent.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Notices").click()
        page.get_by_role("link", name="Message templates").click()
        page.get_by_role("heading", name="Message templates").wait_for()
        snap(page, "templates")
        page.get_by_role("link", name="Shipped: Acknowledge, SMS, vi").click()
        page.get_by_role("heading", name=re.compile("Acknowledge")).wait_for()
        # htmx is a deferred script: an edit made before it has run would go unseen.
        page.wait_for_load_state("load")
        text = page.get_by_label("Text")
        text.fill("Xin chào {{ customer.first_name }}, mạng ở {{ outage.areas|join_and }} bị lỗi.")
        result = page.locator("#preview-sms")
        expect(result).to_contain_text("UCS-2")
        expect(result).to_contain_text("1 segment")
        expect(page.locator("#preview-ucs2")).to_contain_text("U+1EA1")
        snap(page, "template-editor")
        text.fill("Xin chào {{ custmer.first_name }}")
        expect(page.locator("#template-preview")).to_contain_text("did you mean 'customer'")
        page.get_by_role("button", name="Save new version").click()
        expect(page.get_by_role("alert")).to_contain_text("Not saved")
        expect(page.locator("#id_body_error")).to_contain_text("Line 1: unknown variable")

        page.goto(notice_url)
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#notice-status")).to_have_text("Awaiting approval")
        expect(page.get_by_role("status")).to_contain_text("a second person must approve it")
        expect(page.get_by_role("button", name="Approve and send")).to_have_count(0)
        expect(page.get_by_text("You wrote this notice")).to_be_visible()
        snap(page, "awaiting-approval")
        page.get_by_role("button", name="Sign out").click()

        sign_in(page, notice_url, "abe")
        expect(page.locator("#notice-status")).to_have_text("Awaiting approval")
        page.get_by_role("button", name="Approve and send").click()
        expect(page.get_by_role("status")).to_contain_text("Approved: sending to 3 recipients")
        expect(page.locator("#notice-status")).to_have_text("Sending")
        expect(page.locator("#delivery-total")).to_have_text("3")
        expect(page.locator("#delivery-queued")).to_have_text("2")
        expect(page.locator("#delivery-held")).to_have_text("1")
        expect(page.locator("#delivery-done")).to_have_text("0")
        expect(page.locator("table.by-channel")).to_contain_text("Email")
        with page.expect_response(re.compile(r"/notices/\d+/dashboard/$"), timeout=8000):
            pass  # htmx polls the dashboard every 5 s while the notice is sending
        expect(page.locator("#delivery-total")).to_have_text("3")
        expect(page.locator("#notice-status")).to_have_text("Sending")
        snap(page, "sending")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Notices").click()
        expect(page.get_by_role("cell", name="Sending")).to_be_visible()
        snap(page, "list")
        browser.close()
