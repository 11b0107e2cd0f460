"""The review and payments pages: who may see and do what, from the console's own forms."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect, sync_playwright

from amends.core.money import format_cents
from amends.core.roles import Role, sync_role_permissions
from amends.remedy.models import Payout, PayoutStatus, ProgramStatus, ResidualEntry
from amends.remedy.services import approval
from tests.e2e.test_console_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.remedy.conftest import PASSWORD, staff
from tests.remedy.payments_support import approved, calculated

pytestmark = pytest.mark.django_db


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def signed_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_review_page_shows_totals_charts_with_tables_and_exclusions() -> None:
    setup = calculated()
    page = signed_in("ana").get(f"/remedy/{setup.program.reference}/review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="total-amount">$29.96<' in html
    assert "Made of: Basis, per affected service $9.95; SLA credits $0.00; Goodwill $20.00;" in html
    assert html.count("<svg") == 2 and html.count('role="img"') == 2
    assert "$20 to under $50" in html  # the histogram's table
    assert "Submit version 1 for approval" in html
    assert "Every affected customer has an entitlement row" in html


def test_four_eyes_from_the_console() -> None:
    setup = calculated()
    reference = setup.program.reference
    analyst = signed_in("ana")
    analyst.post(f"/remedy/{reference}/review/submit/")
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.IN_REVIEW
    # The analyst has no approver role: the approve URL is refused outright.
    assert analyst.post(f"/remedy/{reference}/review/approve/").status_code == 403
    page = signed_in("abe").get(f"/remedy/{reference}/review/")
    assert "Approve version 1: 6 customers, $29.96" in page.content.decode()
    done = signed_in("abe").post(
        f"/remedy/{reference}/review/approve/", {"version": "1"}, follow=True
    )
    assert "Approved calculation v1" in done.content.decode()
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.APPROVED


def test_the_program_pages_link_to_each_other() -> None:
    setup = approved()
    ref = setup.program.reference
    links = {
        "program": f'href="/remedy/programs/{ref}/"',
        "review": f'href="/remedy/{ref}/review/"',
        "payments": f'href="/remedy/{ref}/payments/"',
        "report": f'href="/remedy/programs/{ref}/report/"',
    }
    client = signed_in("ana")
    for page, url in links.items():
        html = client.get(url.removeprefix('href="').removesuffix('"')).content.decode()
        missing = [other for other, link in links.items() if other != page and link not in html]
        assert not missing, f"the {page} page has no link to {missing}"
    assert 'href="/remedy/">Remediation</a>' in client.get("/").content.decode()  # the nav


def test_rejecting_without_reasons_is_refused_with_a_message() -> None:
    setup = calculated()
    reference = setup.program.reference
    signed_in("ana").post(f"/remedy/{reference}/review/submit/")
    page = signed_in("abe").post(
        f"/remedy/{reference}/review/reject/", {"reasons": ""}, follow=True
    )
    assert "say why, so the analyst knows what to change" in page.content.decode()
    setup.program.refresh_from_db()
    assert setup.program.status == ProgramStatus.IN_REVIEW


def test_export_downloads_the_batch_and_confirm_applies_billings_answer(tmp_path: Path) -> None:
    setup = approved()
    reference = setup.program.reference
    client = signed_in("ana")
    response = client.post(
        f"/remedy/{reference}/payments/export/", {"method": "bill_credit", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{reference}-BC-001.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 4
    answer = "payout_id,status,billing_reference,reason\n" + "".join(
        f"{row['payout_id']},paid,INV-{row['payout_id']},\n" for row in rows
    )
    upload = io.BytesIO(answer.encode())
    upload.name = "answer.csv"
    page = client.post(f"/remedy/{reference}/payments/confirm/", {"file": upload}, follow=True)
    assert f"{reference}-BC-001: 4 paid, 0 rejected, 0 unchanged." in page.content.decode()
    assert Payout.objects.filter(status=PayoutStatus.PAID).count() == 4


def test_a_bad_confirmation_file_shows_its_lines_and_changes_nothing() -> None:
    setup = approved()
    reference = setup.program.reference
    client = signed_in("ana")
    client.post(f"/remedy/{reference}/payments/export/", {"method": "bill_credit"})
    upload = io.BytesIO(b"payout_id,status\n424242,paid\n")
    upload.name = "answer.csv"
    page = client.post(f"/remedy/{reference}/payments/confirm/", {"file": upload}, follow=True)
    assert f"answer.csv:2: payout_id: no payout 424242 in program {reference}" in (
        page.content.decode()
    )
    assert not Payout.objects.filter(status=PayoutStatus.PAID).exists()


def test_viewers_see_payments_but_cannot_pay() -> None:
    setup = approved()
    staff("vic", Role.VIEWER)
    viewer = signed_in("vic")
    reference = setup.program.reference
    page = viewer.get(f"/remedy/{reference}/payments/")
    assert page.status_code == 200 and "Download batch file" not in page.content.decode()
    assert (
        viewer.post(f"/remedy/{reference}/payments/export/", {"method": "refund"}).status_code
        == 403
    )
    assert not Payout.objects.exists()


def test_pages_need_a_signed_in_staff_member() -> None:
    setup = calculated()
    page = Client().get(f"/remedy/{setup.program.reference}/review/")
    assert page.status_code == 302 and "/login" in page["Location"]


def test_the_residual_ledger_form_records_efforts_and_lists_the_entry() -> None:
    setup = approved()
    reference = setup.program.reference
    client = signed_in("ana")
    client.post(f"/remedy/{reference}/payments/export/", {"method": "refund"})
    page = client.post(
        f"/remedy/{reference}/payments/residual/",
        {
            "efforts": "Emailed 2 and 16 May; letter to the last address; no answer.",
            "kind": "charity",
            "destination": "Foodbank Australia",
        },
        follow=True,
    )
    html = page.content.decode()
    assert "1 payout(s) moved to the residual ledger." in html
    entry = ResidualEntry.objects.get()
    assert f'<td class="num">{format_cents(entry.amount_cents)}</td>' in html
    assert "Donated to charity: Foodbank Australia" in html


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_approve_and_export_in_a_real_browser(live_server) -> None:  # type: ignore[no-untyped-def]
    # All database work happens before Playwright starts its event loop in this thread.
    sync_role_permissions()
    setup = calculated()
    approval.program_submit(actor=setup.analyst, program=setup.program)
    reference = setup.program.reference
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 390, "height": 900})
        sign_in(page, f"{live_server.url}/remedy/{reference}/review/", "abe")
        expect(page.get_by_role("img", name="Eligible customers by amount")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "remedy-review-phone.png"), full_page=True)
        page.get_by_role("button", name="Approve version 1").click()
        expect(page.get_by_text("Approved calculation v1: ready to pay.")).to_be_visible()
        page.get_by_role("link", name="Payments").click()
        page.context.clear_cookies()
        sign_in(page, f"{live_server.url}/remedy/{reference}/payments/", "ana")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download batch file").click()
        assert download.value.suggested_filename == f"{reference}-BC-001.csv"
        page.goto(f"{live_server.url}/remedy/{reference}/payments/")
        expect(page.get_by_role("link", name=f"{reference}-BC-001")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "remedy-payments-phone.png"), full_page=True)
        browser.close()
