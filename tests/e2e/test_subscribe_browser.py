"""A person subscribes from the published status page in Chromium with JavaScript off:
follows the page's link, gets the form back with the wrong field named, subscribes, confirms
with the link from a real email (an SMTP server on 127.0.0.1), receives the next public update
through the dispatch pipeline and unsubscribes with its link. axe-core finds no WCAG 2.2 AA
violation on the form, its error state and the answers. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright

from amends.comms.dispatch import run_notice
from amends.comms.models import Subscriber
from amends.comms.subscriber_messages import notify_subscribers, send_confirmation
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_post_update
from amends.statuspage import publish
from tests.comms.servers import SmtpServer
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.e2e.test_statuspage_browser import axe_source, violations
from tests.factories import build_operator
from tests.statuspage.smtp import smtp_channel

T = TypeVar("T")


def in_thread(work: Callable[[], T]) -> T:
    """Database work while Playwright's loop runs in this thread goes to a thread of its own
    (Django refuses synchronous queries beside a running event loop)."""

    def run() -> T:
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    yield from smtp_channel(settings)


def link(message: EmailMessage, kind: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"http://\S+/status/{kind}/[A-Za-z0-9_-]+", text)
    assert found is not None, text
    return found.group(0)


def axe_clean(browser: Browser, url: str, axe: str, *, submit_empty: bool = False) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    if submit_empty:
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_text("Please correct the fields marked below.").wait_for()
    assert violations(page, axe) == [], url
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"subscribe-{name}-phone.png"), full_page=True)


def publish_site_with_outage() -> Outage:
    build_operator()
    outage = outage_declare(
        actor="nmc",
        title="Sydney CBD outage",
        scope_items=[ScopeSpec(kind="postcode", postcode="2000")],
        cause_public="A cut fibre cable.",
    ).outage
    assert publish.publish_site(trigger="test").status == "succeeded"
    return outage


def tell_subscribers(outage: Outage) -> None:
    update = outage_post_update(actor="nmc", outage=outage, message="Crews are splicing.")
    notice = notify_subscribers(update=update, change="update")
    assert notice is not None and notice.recipients == 1
    assert run_notice(notice.pk) == "done"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_subscribe_confirm_and_unsubscribe_in_a_browser(
    live_server: Any, tmp_path: Path, settings: Any, smtp: SmtpServer
) -> None:
    settings.SITE_URL = live_server.url
    settings.AMENDS_STATUSPAGE_DIR = tmp_path / "statuspage"
    settings.AMENDS_STATUSPAGE_URL = f"{live_server.url}/status/"
    outage = publish_site_with_outage()  # before Playwright's loop starts in this thread
    ARTIFACTS.mkdir(exist_ok=True)
    axe = axe_source()
    form_url = f"{live_server.url}/status/subscribe"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        axe_clean(browser, form_url, axe)
        axe_clean(browser, form_url, axe, submit_empty=True)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 390, "height": 900}
        )
        page = context.new_page()

        page.goto(f"{live_server.url}/status/")
        page.get_by_role("link", name="Get outage updates by email or text").click()
        page.get_by_role("heading", name="Get outage updates").wait_for()
        page.get_by_label("Email address", exact=True).fill("neighbour@example")
        page.get_by_label("Postcode", exact=True).fill("2000")
        page.get_by_role("button", name="Subscribe").click()
        error = page.locator("#email-error")
        assert "Enter an email address" in error.inner_text()
        assert (
            page.get_by_label("Postcode", exact=True).input_value() == "2000"
        )  # what was typed stays
        shot(page, "error")
        assert in_thread(Subscriber.objects.count) == 0

        page.get_by_label("Email address", exact=True).fill("neighbour@example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your messages").wait_for()
        shot(page, "sent")
        subscriber = in_thread(Subscriber.objects.get)
        assert in_thread(lambda: send_confirmation(subscriber.pk)).ok  # what the task does
        [(_, confirmation)] = smtp.received

        page.goto(link(confirmation, "confirm"))
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name="You are subscribed").wait_for()
        assert "outages in postcode 2000" in page.locator("main").inner_text()
        shot(page, "confirmed")

        in_thread(lambda: tell_subscribers(outage))
        [_, (recipients, update)] = smtp.received
        assert recipients == ["neighbour@example.com"]
        assert "Crews are splicing." in update.get_body(("plain",)).get_content()

        page.goto(link(update, "unsubscribe"))
        page.get_by_role("button", name="Unsubscribe").click()
        page.get_by_role("heading", name="Unsubscribed").wait_for()
        shot(page, "unsubscribed")
        context.close()
        for answer in (link(confirmation, "confirm"), link(update, "unsubscribe")):
            axe_clean(browser, answer, axe)
        browser.close()

    assert in_thread(lambda: Subscriber.objects.get().status) == "unsubscribed"
