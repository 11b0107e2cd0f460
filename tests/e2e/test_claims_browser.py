"""A small business claims for its loss in Chromium: the form works with JavaScript off (an
upload included), shows each field's message, answers with a reference, and axe-core finds no
WCAG 2.2 AA violation on the form, its error state, the answer page (light and dark), the
analyst's claim page and the program report. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, sync_playwright

from amends.core.roles import Role
from amends.remedy.models import Claim
from amends.remedy.services.calculation import calculate
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.e2e.test_statuspage_browser import axe_source, violations
from tests.factories import build_operator
from tests.remedy.conftest import PASSWORD, outage_row, program, staff, window

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fill_claim(page: Page, reference: str) -> None:
    page.get_by_label("Account number", exact=True).fill("C2")
    page.get_by_label("Postcode of the service address", exact=True).fill("2000")
    page.get_by_label("Business name", exact=True).fill("Harbour Café")
    page.get_by_label("Your name", exact=True).fill("Mia Chen")
    page.get_by_label("Email", exact=True).fill("mia@harbour.example")
    page.get_by_label("Phone", exact=True).fill("02 9999 0000")
    page.get_by_label("The outage", exact=True).select_option(value=reference)
    page.get_by_label("What did the outage cost your business?", exact=True).fill(
        "40 lost card sales."
    )
    page.get_by_label("Amount claimed, in dollars", exact=True).fill("1250.00")
    page.get_by_label("Evidence (optional)", exact=True).set_input_files(
        [{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )


def claim_without_script(browser: Browser, base: str, reference: str) -> str:
    """Submit with mistakes, then correctly, with JavaScript off; return the answer's text."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/claims/")
    fill_claim(page, reference)
    page.get_by_label("Postcode of the service address", exact=True).fill("20")
    page.get_by_label("Email", exact=True).fill("not an email")
    page.get_by_role("button", name="Send claim").click()
    page.get_by_role("heading", name="There is a problem").wait_for()
    assert page.title().startswith("Error: ")
    page.screenshot(path=str(ARTIFACTS / "claim-form-errors-phone.png"), full_page=True)
    fill_claim(page, reference)  # a file input is never refilled by the browser
    page.get_by_role("button", name="Send claim").click()
    page.get_by_role("heading", name="Claim received").wait_for()
    answer = page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "claim-received-phone.png"), full_page=True)
    context.close()
    return answer


def check_public_pages(browser: Browser, base: str, axe: str, scheme: str) -> None:
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{base}/claims/")
    assert violations(page, axe) == [], f"form ({scheme})"
    page.screenshot(path=str(ARTIFACTS / f"claim-form-desktop-{scheme}.png"), full_page=True)
    page.get_by_role("button", name="Send claim").click()  # everything missing
    page.get_by_role("heading", name="There is a problem").wait_for()
    assert violations(page, axe) == [], f"form with errors ({scheme})"
    context.close()


def check_console(browser: Browser, base: str, axe: str, claim: str, report: str) -> None:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("User name", exact=True).fill("ana")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/remedy/claims/{claim}/")
    page.get_by_role("heading", name=f"Claim {claim}").wait_for()
    assert violations(page, axe) == [], "claim page"
    page.screenshot(path=str(ARTIFACTS / "claim-console-desktop.png"), full_page=True)
    page.goto(f"{base}/remedy/programs/{report}/report/")
    assert violations(page, axe) == [], "report"
    page.screenshot(path=str(ARTIFACTS / "program-report-desktop.png"), full_page=True)
    context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_business_claims_without_script_on_an_accessible_form(
    live_server: Any, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # All database work happens before Playwright starts its event loop in this thread.
    op = build_operator()
    started = timezone.now() - timedelta(hours=30)
    outage = outage_row(title="Exchange fire in Sydney", started_at=started)
    for service in op.services.values():
        window(outage, service, started, started + timedelta(hours=20))
    analyst = staff("ana", Role.REMEDIATION_ANALYST)
    made = program(analyst, [outage], name="Exchange fire remediation")
    calculate(analyst, made, as_of=timezone.now())
    ARTIFACTS.mkdir(exist_ok=True)
    axe = axe_source()
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        answer = claim_without_script(browser, base, outage.reference)
        for scheme in ("light", "dark"):
            check_public_pages(browser, base, axe, scheme)
        reference = answer.split("Your claim reference is")[1].split()[0]
        check_console(browser, base, axe, reference, made.reference)
        browser.close()

    claim = Claim.objects.get()
    assert claim.reference == reference and claim.customer == op.customers["C2"]
    assert claim.evidence.get().content_type == "application/pdf"
    assert "Customer C2" not in answer  # the public page says nothing from our records
