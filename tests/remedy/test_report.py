"""The program report: figures checked against the rows they summarise (entitlements by
segment, payouts paid / outstanding / residual, claims), the timeline from the audit log, the
HTML page with its charts beside data tables, the CSV, the JSON API and the CLI."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from amends.core.roles import Role
from amends.core.tokens import token_create
from amends.remedy.models import Entitlement, Payout, PayoutMethod, PayoutStatus, Program
from amends.remedy.services import claims, payment_files, payments
from amends.remedy.services.claim_decisions import claim_decide, claims_mark_paid
from amends.remedy.services.confirmations import confirmations_import
from amends.remedy.services.report import program_report
from amends.remedy.views.report import (
    CHART_WIDTH,
    LABEL_WIDTH,
    VALUE_WIDTH,
    bar_chart,
    render_report_csv,
)
from tests.conftest import write_csv
from tests.remedy.conftest import PASSWORD, staff
from tests.remedy.payments_support import Setup, approved

EFFORTS = "Emailed on 3 March and 10 March, wrote on 12 March; no reply."


def claim(setup: Setup, cents: int, account: str = "C2", postcode: str = "2000") -> Any:
    details = claims.ClaimDetails(
        account_number=account,
        postcode=postcode,
        business_name=f"Business {account}",
        contact_name="Mia Chen",
        email="mia@example.com",
        phone="+61299990000",
        outage=setup.outage,
        description="Lost sales.",
        amount_claimed_cents=cents,
    )
    return claims.claim_submit(details=details, evidence=[])


def paying_program(tmp_path: Path, settings: Any) -> Setup:
    """Approved program; an approved claim ($300 of $450), a declined one ($90) and an open one
    ($1,000); bill credits exported with the claim's payout, all paid but one rejected; C3's
    unpaid refund in the residual ledger."""
    settings.AMENDS_CLAIM_OUTAGE_DAYS = 3650  # the shared outage is from March
    settings.MEDIA_ROOT = tmp_path / "media"
    setup = approved({"basis": {"kind": "pro_rata"}, "goodwill_cents": {"small_business": 2000}})
    first = claim(setup, 45000)
    claim_decide(
        actor=setup.analyst,
        claim=first,
        outcome="partly_approved",
        amount_cents=30000,
        reasons="Only Monday's takings are shown.",
        program=setup.program,
    )
    claim_decide(actor=setup.analyst, claim=claim(setup, 9000), outcome="declined", reasons="No")
    claim(setup, 100000, account="C5", postcode="3000")
    batch = payments.batch_export(
        actor=setup.analyst, program=setup.program, method=PayoutMethod.BILL_CREDIT
    ).batch
    handle = io.BytesIO()
    payment_files.write(batch, handle)
    ids = [int(row["payout_id"]) for row in csv.DictReader(io.StringIO(handle.getvalue().decode()))]
    rejected = setup.payout("C1").pk
    rows = [
        {"payout_id": pid, "status": "rejected" if pid == rejected else "paid", "reason": "closed"}
        for pid in ids
    ]
    path = write_csv(tmp_path / "answer.csv", rows)
    confirmations_import(actor=setup.analyst, program=setup.program, path=path)
    claims_mark_paid(actor="billing", program=setup.program)
    payments.residual_record(
        actor=setup.analyst,
        program=setup.program,
        efforts=EFFORTS,
        destination_kind="charity",
        destination="Foodbank Australia",
    )
    setup.program.refresh_from_db()
    return setup


def payout_total(program: Program, *statuses: str) -> int:
    found = Payout.objects.filter(program=program, status__in=statuses).aggregate(
        t=Sum("amount_cents")
    )
    return int(found["t"] or 0)


@pytest.mark.django_db
def test_report_figures_match_the_rows_they_summarise(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    report = program_report(setup.program)
    assert report.calculation == setup.program.approved_calculation and report.calculation_approved

    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in Entitlement.objects.filter(calculation=report.calculation).select_related("customer"):
        line = expected[e.customer.segment]
        line[0] += 1
        line[1] += int(e.eligible)
        line[2] += e.total_cents if e.eligible else 0
    assert {s.segment: [s.affected, s.eligible, s.amount_cents] for s in report.segments} == dict(
        expected
    )
    assert report.affected == 6 and report.eligible == sum(v[1] for v in expected.values())

    eligible = Entitlement.objects.filter(calculation=report.calculation, eligible=True)
    parts = report.components
    assert parts.total_cents == sum(e.total_cents for e in eligible) == report.entitled_cents
    assert parts.bonus_cents == sum(e.bonus_cents for e in eligible) > 0
    assert parts.base_cents == sum(e.base_cents for e in eligible) > 0
    assert parts.total_cents == (
        parts.base_cents
        + parts.sla_cents
        + parts.bonus_cents
        + parts.interest_cents
        + parts.adjustment_cents
    )

    money = report.payments
    program = setup.program
    assert money.paid_cents == payout_total(program, PayoutStatus.PAID) > 0
    assert money.residual_cents == payout_total(program, PayoutStatus.RESIDUAL) > 0
    unpaid = (PayoutStatus.PENDING, PayoutStatus.EFFORTS, PayoutStatus.EXPORTED, "rejected")
    assert money.outstanding_cents == payout_total(program, *unpaid) > 0
    assert money.owed_cents == money.paid_cents + money.outstanding_cents + money.residual_cents
    small_business = next(s for s in report.segments if s.segment == "small_business")
    assert small_business.paid_cents == payout_total(program, PayoutStatus.PAID) - sum(
        s.paid_cents for s in report.segments if s.segment != "small_business"
    )

    c = report.claims
    assert (c.received, c.undecided, c.approved, c.declined, c.paid) == (3, 1, 1, 1, 1)
    assert (c.claimed_cents, c.approved_cents, c.paid_cents) == (
        45000 + 9000 + 100000,
        30000,
        30000,
    )
    assert c.decided == 2


@pytest.mark.django_db
def test_the_timeline_follows_the_audit_log(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    events = program_report(setup.program).timeline
    whats = [event.what for event in events]
    for step in (
        "Outage started",
        "Service restored" if setup.outage.restored_at else "Outage started",
        "Program created",
        "Calculated",
        "Submitted for approval",
        "Approved",
        "Payments started",
        "Exported to billing",
        "Billing confirmed",
        "Claims paid",
        "Moved to the residual ledger",
    ):
        assert step in whats, step
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert (
        whats.index("Program created")
        < whats.index("Approved")
        < whats.index("Exported to billing")
    )
    approval = next(e for e in events if e.what == "Approved")
    assert approval.who == "abe"
    assert next(e for e in events if e.what == "Calculated").detail == "version 1"


@pytest.mark.django_db
def test_report_page_and_csv(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference
    viewer = staff("vic", Role.VIEWER)
    client = Client()
    page = reverse("remedy:program-report", args=[ref])
    assert client.get(page)["Location"].startswith(reverse("login"))
    assert client.login(username=viewer.username, password=PASSWORD)
    html = client.get(page).content.decode()
    assert html.count('role="img"') == 3 and html.count("<table>") == 4
    assert "Amount owed by segment" in html and "Foodbank" not in html
    assert "Small business" in html and "<script" not in html
    assert client.get(reverse("remedy:program-report", args=["REM-1999-0001"])).status_code == 404

    response = client.get(reverse("remedy:program-report-csv", args=[ref]))
    assert response["Content-Disposition"].startswith(f'attachment; filename="{ref}-report-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    report = program_report(setup.program)
    segments = {r["item"]: r for r in rows if r["section"] == "segment"}
    for line in report.segments:
        assert segments[line.label]["amount"] == f"{line.amount_cents / 100:.2f}"
        assert int(segments[line.label]["eligible_customers"]) == line.eligible
    parts = {r["item"]: r["amount"] for r in rows if r["section"] == "components"}
    assert list(parts) == ["base", "sla", "bonus", "interest", "adjustment", "total"]
    assert parts["total"] == f"{report.components.total_cents / 100:.2f}"
    assert "What the amount owed is made of" in html and "Goodwill" in html
    paid = next(r for r in rows if r["section"] == "payments" and r["item"] == "paid")
    assert paid["amount"] == f"{report.payments.paid_cents / 100:.2f}"
    assert sum(r["section"] == "timeline" for r in rows) == len(report.timeline)
    assert response.content.decode() == render_report_csv(report)


def test_bars_are_scaled_to_the_largest_value() -> None:
    chart = bar_chart("x", "X", [("a", 50, "50"), ("b", 200, "200"), ("c", 0, "0"), ("d", 1, "1")])
    room = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    widths = [bar.width for bar in chart.bars]
    assert widths == [round(room / 4), room, 0, max(1, round(room / 200))]
    step = chart.bars[1].y
    assert step > 0 and [bar.y for bar in chart.bars] == [0, step, 2 * step, 3 * step]
    assert chart.height == 4 * step
    assert bar_chart("e", "E", []).bars == []


@pytest.mark.django_db
def test_report_json(tmp_path: Path, settings: Any) -> None:
    setup = paying_program(tmp_path, settings)
    user: User = setup.analyst
    _token, secret = token_create(
        actor="test", name="reports", username=user.username, scopes=["remedy:read"]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = Client().get(f"/api/v1/claims/reports/{setup.program.reference}", **auth).json()
    report = program_report(setup.program)
    assert body["payments"]["paid_cents"] == report.payments.paid_cents
    assert body["components"]["total_cents"] == report.components.total_cents
    assert body["claims"]["decided"] == 2 and body["calculation"]["approved"] is True
    assert [s["segment"] for s in body["segments"]] == [s.segment for s in report.segments]
    assert Client().get("/api/v1/claims/reports/REM-1999-0001", **auth).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_cli_writes_the_report_and_lists_claims(tmp_path: Path, settings: Any, cli: Any) -> None:
    setup = paying_program(tmp_path, settings)
    ref = setup.program.reference
    out = tmp_path / "report.csv"
    done = cli("remedy", "report", ref, "--format", "csv", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].startswith("section,item,customers")
    html = cli("remedy", "report", ref)
    assert html.returncode == 0 and "<svg" in html.stdout and "/remedy/claims/" not in html.stdout

    listed = cli("remedy", "claims", "list", "--status", "open")
    assert listed.returncode == 0 and "1 claim" in listed.stdout and "submitted" in listed.stdout
    open_ref = listed.stdout.split()[0]
    refused = cli(
        "remedy",
        "claims",
        "decide",
        open_ref,
        "--outcome",
        "approved",
        "--reasons",
        "ok",
        "--program",
        ref,
        "--as",
        "abe",
    )
    assert refused.returncode == 1 and "no role that may decide claims" in refused.stderr
    decided = cli(
        "remedy",
        "claims",
        "decide",
        open_ref,
        "--outcome",
        "declined",
        "--reasons",
        "Not in the affected area.",
        "--as",
        "ana",
    )
    assert decided.returncode == 0 and f"{open_ref}: declined" in decided.stdout
    shown = cli("remedy", "claims", "show", open_ref, "--json")
    assert '"decision_reasons": "Not in the affected area."' in shown.stdout
