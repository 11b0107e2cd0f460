"""A program's amounts are in its policy's currency everywhere they are shown or exported.

The same 14-hour outage as the payments tests, under the same rules in pounds: the console
(en_AU) writes "GBP 29.96" where an Australian-dollar program shows "$29.96".
"""

from __future__ import annotations

import csv
import io
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from amends.comms import dispatch
from amends.comms.channels import registry
from amends.core.money import format_money
from amends.core.roles import Role
from amends.remedy.credit_links import credit_url
from amends.remedy.services import credit_notices, payment_files, payments
from amends.remedy.services.report import program_report
from amends.remedy.views.report import render_report_csv, render_report_html
from tests.remedy.conftest import PASSWORD, staff
from tests.remedy.payments_support import AS_OF, DOCUMENT, approved, calculated
from tests.remedy.test_credit_notices import pay_credits, sent_texts
from tests.remedy.test_payments_api import api

pytestmark = pytest.mark.django_db

POUNDS = {**DOCUMENT, "currency": "GBP"}
GBP = "GBP\u00a0"


def remedy(*args: str) -> str:
    out = StringIO()
    call_command("remedy", *args, stdout=out)
    return out.getvalue()


def test_money_is_written_by_babel_in_the_readers_locale() -> None:
    assert format_money(2996) == "$29.96"
    assert format_money(-50) == "-$0.50"
    assert format_money(123456, "GBP") == "GBP\u00a01,234.56"
    assert format_money(123456, "GBP", "en_GB") == "£1,234.56"
    assert format_money(123456, "EUR", "vi") == "1.234,56\u00a0€"
    assert format_money(500000, "USD", whole=True) == "USD\u00a05,000"


def test_calculate_and_review_print_pounds() -> None:
    setup = calculated(POUNDS)
    ref = setup.program.reference
    line = remedy("calculate", ref, "--as-of", AS_OF.isoformat(), "--as", "ana")
    assert f"6 of 6 customers eligible, {GBP}29.96 in total" in line
    text = remedy("review", ref)
    assert f"affected 6, eligible 6, excluded 0; total {GBP}29.96" in text
    assert f"median {GBP}1.72, 95th percentile {GBP}21.73, largest {GBP}21.73" in text
    assert f"Goodwill {GBP}20.00" in text and f"{GBP}20 to under {GBP}50" in text
    assert "$" not in line + text


def test_the_review_page_shows_pounds() -> None:
    setup = calculated(POUNDS)
    client = Client()
    assert client.login(username="ana", password=PASSWORD)
    page = client.get(f"/remedy/{setup.program.reference}/review/").content.decode()
    assert f"{GBP}29.96" in page and f"{GBP}20 to under {GBP}50" in page
    assert "$29.96" not in page


def test_an_australian_program_reads_as_before() -> None:
    setup = calculated()
    assert "total $29.96" in remedy("review", setup.program.reference)
    rows = list(csv.DictReader(io.StringIO(render_report_csv(program_report(setup.program)))))
    total = next(r for r in rows if r["section"] == "total")
    assert (total["amount"], total["currency"]) == ("29.96", "AUD")


def test_the_report_and_billing_export_of_a_pound_program() -> None:
    setup = approved(POUNDS)
    payments.payouts_create(actor=setup.analyst, program=setup.program)
    report = program_report(setup.program)
    assert report.currency == "GBP"
    html = render_report_html(report)
    assert f"{GBP}29.96" in html and "$29.96" not in html

    rows = list(csv.DictReader(io.StringIO(render_report_csv(report))))
    assert list(rows[0]) == [
        "section",
        "item",
        "customers",
        "eligible_customers",
        "amount",
        "paid",
        "currency",
        "at",
        "detail",
    ]
    total = next(r for r in rows if r["section"] == "total")
    assert (total["amount"], total["currency"]) == ("29.96", "GBP")
    reference = next(r for r in rows if r["item"] == "reference")
    assert reference["currency"] == ""  # a row without an amount names no currency

    staff("vic", Role.VIEWER)
    client = Client()
    assert client.login(username="vic", password=PASSWORD)
    downloaded = client.get(reverse("remedy:program-report-csv", args=[setup.program.reference]))
    assert downloaded.content.decode().splitlines()[0].endswith("amount,paid,currency,at,detail")

    for method, file_format in (("bill_credit", "csv"), ("refund", "jsonl")):
        batch = payments.batch_export(
            actor=setup.analyst, program=setup.program, method=method, file_format=file_format
        ).batch
        text = b"".join(payment_files.encoded(batch)).decode()
        if file_format == "csv":
            lines = list(csv.DictReader(io.StringIO(text)))
        else:
            lines = [json.loads(line) for line in text.splitlines()]
        assert lines and {line["currency"] for line in lines} == {"GBP"}


def test_a_credit_notice_of_a_pound_program_says_pounds(tmp_path: Path) -> None:
    setup = approved(POUNDS)
    registry.reset()
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=1000):
        pay_credits(setup, tmp_path)
        cleo = staff("cleo", Role.COMMUNICATIONS)
        (notice,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
        assert dispatch.run_notice(notice.pk) == "done"
        texts = sent_texts(tmp_path / "outbox", notice)
    registry.reset()
    text = texts[setup.customer("C2").pk]
    assert f"we've credited your account {GBP}21.73 for the outage of " in text
    page = Client().get(credit_url(setup.payout("C2").pk).removeprefix(settings.SITE_URL))
    assert f'id="credit-amount">{GBP}21.73</strong>' in page.content.decode()


def test_the_api_names_the_currency_next_to_its_amounts() -> None:
    setup = approved(POUNDS)
    payments.payouts_create(actor=setup.analyst, program=setup.program)
    client, auth = api("abe")
    url = f"/api/v1/remedy/programs/{setup.program.reference}"
    review = client.get(f"{url}/review", **auth).json()
    assert (review["currency"], review["totals"]["total_cents"]) == ("GBP", 2996)
    program = client.get(url, **auth).json()
    assert program["currency"] == "GBP"
    assert {c["currency"] for c in program["calculations"]} == {"GBP"}
    payouts = client.get(f"{url}/payouts", **auth).json()["items"]
    assert payouts and {p["currency"] for p in payouts} == {"GBP"}
