"""`amends demo` tells the whole story end to end on a small operator."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client, override_settings
from django.utils.html import escape

from amends.core.money import format_cents
from amends.outages.models import Impact, Outage
from amends.remedy.credit_links import credit_url
from amends.remedy.models import (
    CreditNotice,
    Payout,
    PayoutBatch,
    PayoutStatus,
    Program,
    ProgramStatus,
)


@pytest.mark.django_db
def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    out = StringIO()
    # The demo tells a day in a minute: without the hourly cap (AMENDS_CUSTOMER_HOURLY_CAP)
    # the survey reaches customers outside their quiet hours, so one can answer it.
    with override_settings(DATA_DIR=tmp_path, AMENDS_CUSTOMER_HOURLY_CAP=100):
        call_command("demo", customers=600, no_serve=True, stdout=out)
    text = out.getvalue()
    assert "customers       600 rows: 600 created" in text
    assert (tmp_path / "demo" / "services.csv").exists()

    outage = Outage.objects.get()
    assert outage.reference in text and "still out" in text  # until the exchange came back
    assert not Impact.objects.filter(outage=outage, window_end__isnull=True).exists()
    assert outage.etr is not None and outage.status == "resolved"  # all back at the end
    assert outage.resolution_summary.startswith("A routing change")  # what happened

    from amends.comms.models import Delivery, DeliveryStatus, Notice, SurveyResponse

    notices = list(Notice.objects.order_by("id"))
    kinds = [n.kind for n in notices]
    assert kinds == [
        "acknowledge",
        "update",
        "etr_changed",
        "restored",
        "restored",
        "apology",
        "credit_applied",
        "survey",
    ]
    # Out-of-date messages never went, and were counted; nobody was told "it's back" twice.
    superseded = Delivery.objects.filter(status=DeliveryStatus.SUPERSEDED).count()
    assert superseded > 0 and f"{superseded:,} messages that had not gone yet" in text
    first, second = (n for n in notices if n.kind == "restored")
    told_twice = Delivery.objects.filter(
        notice=second, customer__in=first.deliveries.values("customer")
    )
    assert first.recipients > 0 and not told_twice.exists()
    assert f"{first.recipients:,} already told — excluded" in text
    # A survey answered, and a Chinese customer's credit message shown in their language.
    assert SurveyResponse.objects.filter(notice=notices[-1], score=4).count() == 1
    assert "1 answered so far, average 4.0 of 5" in text
    assert "who reads zh, gets by SMS:" in text and "您好" in text
    for notice in notices:  # mass sends were approved by a second person
        if notice.recipients > settings.AMENDS_APPROVAL_THRESHOLD:
            assert notice.approved_by is not None and notice.approved_by.username == "approver"
    assert Delivery.objects.filter(status="sent").count() > 0
    assert any((tmp_path / "outbox" / "email").glob("*.eml"))

    password = next(
        line.split()[1] for line in text.splitlines() if line.strip().startswith("commander ")
    )
    client = Client()
    assert client.login(username="commander", password=password)
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert outage.title in page
    home = client.get("/").content.decode()
    assert '<dd id="count-outages">0</dd>' in home  # resolved: none open any more
    made_good(tmp_path, text)


def made_good(tmp_path: Path, text: str) -> None:
    """The last chapters: a program approved by a second person, every payout paid through a
    billing file and its confirmation, each customer's own amount in the outbox, and the
    program's report as PDF."""
    program = Program.objects.get()
    assert program.status == ProgramStatus.PAYING and program.reference in text
    assert program.approver is not None and program.approver != program.author
    assert (program.author.username, program.approver.username) == ("analyst", "approver")
    calculation = program.approved_calculation
    assert calculation is not None and calculation.calculated_by == "analyst"
    assert program.policy_version.preset == "pro_rata"
    assert program.policy_version.document["goodwill_cents"] == {"small_business": 2000}
    # Business and enterprise services were out longer than their tier's target.
    credited = calculation.entitlements.filter(sla_cents__gt=0)
    assert credited.exists()
    assert all("SLA credit, " in e.explanation for e in credited)

    payouts = Payout.objects.filter(program=program)
    assert payouts.count() == calculation.eligible_customers > 0
    assert not payouts.exclude(status=PayoutStatus.PAID).exists()  # every payout paid
    assert payouts.aggregate(total=Sum("amount_cents"))["total"] == calculation.total_cents
    assert format_cents(calculation.total_cents) in text

    exported = tmp_path / "demo" / f"{program.reference}-BC-001.csv"
    batch = PayoutBatch.objects.get(batch_id=exported.stem)
    assert hashlib.sha256(exported.read_bytes()).hexdigest() == batch.sha256
    assert batch.confirmed_at is not None and str(exported) in text

    (link,) = CreditNotice.objects.filter(program=program)
    notice = link.notice
    assert notice.approved_by is not None and notice.approved_by.username == "approver"
    assert not payouts.filter(credit_notice__isnull=True).exists()  # everyone told
    small_business = payouts.filter(customer__segment="small_business").first()
    assert small_business is not None and small_business.amount_cents >= 2000  # the goodwill
    sms_files = (tmp_path / "outbox" / "sms").glob(f"n{notice.pk}-c*-sms.txt")
    sms = {path.name.split("-")[1]: path.read_text() for path in sms_files}
    assert sms, "credit notices by SMS in the outbox"
    told = payouts.filter(customer_id__in=[int(c[1:]) for c in sms]).select_related("entitlement")
    for payout in told:
        message = sms[f"c{payout.customer_id}"]
        dollars = f"{payout.amount_cents // 100:,}.{payout.amount_cents % 100:02d}"
        vietnamese = dollars.translate(str.maketrans(",.", ".,"))
        assert dollars in message or vietnamese in message  # the customer's own, any language
        # The SMS fits: the amount and the customer's own page, where the formula is.
        url = credit_url(payout.pk)
        assert url in message and "×" not in message
        page = Client().get(url.removeprefix(settings.SITE_URL)).content.decode()
        assert payout.entitlement is not None
        assert escape(payout.entitlement.explanation.split("; ")[0]) in page
    emails = list((tmp_path / "outbox" / "email").glob(f"n{notice.pk}-c*.eml"))
    assert emails and "REM-" in emails[0].read_text()  # the program to quote

    report = tmp_path / "demo" / f"{program.reference}-report.pdf"
    assert report.read_bytes().startswith(b"%PDF-") and str(report) in text  # for the regulator
