"""The program report as a page (a standalone, print-friendly document that the CLI also
writes to a file), as the same document in PDF, and as CSV. Charts are inline SVG bars drawn
from the same figures as the data table beside each, so a screen reader, a printer and a
spreadsheet all get the numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from amends.core.errors import NotFound
from amends.core.money import format_money
from amends.core.pdf import PdfUnavailable, html_to_pdf
from amends.core.permissions import role_required
from amends.remedy.services import review
from amends.remedy.services.credit_notices import NOT_REACHED_WHY
from amends.remedy.services.report import ProgramReport, program_report
from amends.remedy.services.review import program_by_reference

CHART_WIDTH = 520
LABEL_WIDTH = 140
VALUE_WIDTH = 110
BAR_HEIGHT = 26
BAR_GAP = 10


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    y: int
    width: int  # pixels; at least 1 when the value is not zero

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + self.width + 8


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * (BAR_HEIGHT + BAR_GAP)

    @property
    def width(self) -> int:
        return CHART_WIDTH

    @property
    def label_width(self) -> int:
        return LABEL_WIDTH - 8

    @property
    def bar_x(self) -> int:
        return LABEL_WIDTH

    @property
    def bar_height(self) -> int:
        return BAR_HEIGHT


def bar_chart(key: str, title: str, items: Sequence[tuple[str, int, str]]) -> Chart:
    """Horizontal bars for (label, value, value as text), scaled to the largest value."""
    room = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((value for _, value, _ in items), default=0)
    bars = [
        Bar(
            label=label,
            value=text,
            y=i * (BAR_HEIGHT + BAR_GAP),
            width=max(1, round(room * value / largest)) if value and largest else 0,
        )
        for i, (label, value, text) in enumerate(items)
    ]
    return Chart(key, title, bars)


def charts(report: ProgramReport) -> list[Chart]:
    shown = partial(format_money, currency=report.currency)
    money = report.payments
    claims = report.claims
    return [
        bar_chart(
            "segments",
            "Amount owed by segment",
            [(s.label, s.amount_cents, shown(s.amount_cents)) for s in report.segments],
        ),
        bar_chart(
            "payments",
            "Where the money is",
            [
                ("Paid", money.paid_cents, shown(money.paid_cents)),
                ("Outstanding", money.outstanding_cents, shown(money.outstanding_cents)),
                ("Residual ledger", money.residual_cents, shown(money.residual_cents)),
            ],
        ),
        bar_chart(
            "claims",
            "Claims",
            [
                (label, n, f"{n:,}")
                for label, n in (
                    ("Received", claims.received),
                    ("Decided", claims.decided),
                    ("Approved", claims.approved),
                    ("Declined", claims.declined),
                    ("Paid", claims.paid),
                )
            ],
        ),
    ]


def report_context(report: ProgramReport) -> dict[str, Any]:
    """The figures worded for the page: counts with separators, money in the policy's
    currency as the console writes it ("$1,234.56", "GBP 1,234.56")."""
    shown = partial(format_money, currency=report.currency)
    money, claims = report.payments, report.claims
    return {
        "report": report,
        "charts": {chart.key: chart for chart in charts(report)},
        "totals": [
            ("Affected customers", f"{report.affected:,}"),
            ("Eligible customers", f"{report.eligible:,}"),
            ("Owed", shown(money.owed_cents)),
            ("Paid", shown(money.paid_cents)),
            ("Outstanding", shown(money.outstanding_cents)),
            ("Residual ledger", shown(money.residual_cents)),
        ],
        "segments": [
            (
                s.label,
                f"{s.affected:,}",
                f"{s.eligible:,}",
                shown(s.amount_cents),
                shown(s.paid_cents),
            )
            for s in report.segments
        ],
        "components": [
            (label, shown(cents)) for _, label, cents in review.component_amounts(report.components)
        ],
        "payments": [
            ("Paid", f"{money.paid_customers:,}", shown(money.paid_cents)),
            (
                "Outstanding",
                f"{money.outstanding_customers:,}",
                shown(money.outstanding_cents),
            ),
            (
                "Residual ledger",
                f"{money.residual_customers:,}",
                shown(money.residual_cents),
            ),
            ("Owed in total", "", shown(money.owed_cents)),
        ],
        "telling": [
            ("Paid, not told yet", f"{report.telling.untold:,}", ""),
            (
                "Not reached",
                f"{report.telling.not_reached:,}",
                NOT_REACHED_WHY,
            ),
        ],
        "claims": [
            ("Received", f"{claims.received:,}", shown(claims.claimed_cents) + " claimed"),
            ("Not yet decided", f"{claims.undecided:,}", ""),
            ("Decided", f"{claims.decided:,}", ""),
            (
                "Approved (in full or part)",
                f"{claims.approved:,}",
                shown(claims.approved_cents),
            ),
            ("Declined", f"{claims.declined:,}", ""),
            ("Paid", f"{claims.paid:,}", shown(claims.paid_cents)),
        ],
        "timeline": report.timeline,
    }


def render_report_html(report: ProgramReport, *, links: bool = False) -> str:
    """The report as one self-contained HTML document (inline style and SVG, no script);
    ``links`` adds the console's links (not in a file written by the CLI)."""
    context = {**report_context(report), "links": links}
    return render_to_string("remedy/report/report.html", context)


def render_report_pdf(report: ProgramReport) -> bytes:
    """The same document as PDF, paginated by its print rules (raises PdfUnavailable)."""
    return html_to_pdf(render_report_html(report))


def _dollars(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:.2f}"


CSV_HEADER = (
    "section",
    "item",
    "customers",
    "eligible_customers",
    "amount",
    "paid",
    "currency",
    "at",
    "detail",
)


def report_rows(report: ProgramReport) -> Iterator[tuple[object, ...]]:
    """The report as CSV rows (``CSV_HEADER``): one row per figure, amounts in units of the
    policy's currency (dollars, pounds), named by its ISO code on each row with an amount."""
    for row in _figures(report):
        amounts = row[4:6]
        currency = report.currency if any(amount != "" for amount in amounts) else ""
        yield (*row[:6], currency, *row[6:])


def _figures(report: ProgramReport) -> Iterator[tuple[object, ...]]:
    """The rows without their currency."""
    program, calc = report.program, report.calculation
    yield ("program", "reference", "", "", "", "", "", program.reference)
    yield ("program", "name", "", "", "", "", "", program.name)
    yield ("program", "status", "", "", "", "", "", program.get_status_display())
    if calc is not None:
        state = "approved" if report.calculation_approved else "not approved"
        yield ("program", "calculation", "", "", "", "", "", f"version {calc.version} ({state})")
    for outage in report.outages:
        yield ("program", "outage", "", "", "", "", "", outage)
    yield (
        "total",
        "all segments",
        report.affected,
        report.eligible,
        _dollars(report.entitled_cents),
        _dollars(sum(s.paid_cents for s in report.segments)),
        "",
        "",
    )
    for s in report.segments:
        amounts = (_dollars(s.amount_cents), _dollars(s.paid_cents))
        yield ("segment", s.label, s.affected, s.eligible, *amounts, "", "")
    for name, _, cents in review.component_amounts(report.components):
        yield ("components", name.removesuffix("_cents"), "", "", _dollars(cents), "", "", "")
    money = report.payments
    for item, customers, cents in (
        ("owed", "", money.owed_cents),
        ("paid", money.paid_customers, money.paid_cents),
        ("outstanding", money.outstanding_customers, money.outstanding_cents),
        ("residual", money.residual_customers, money.residual_cents),
    ):
        yield ("payments", item, customers, "", _dollars(cents), "", "", "")
    yield ("credit_notices", "not_told", report.telling.untold, "", "", "", "", "")
    yield (
        "credit_notices",
        "not_reached",
        report.telling.not_reached,
        "",
        "",
        "",
        "",
        NOT_REACHED_WHY,
    )
    claims = report.claims
    claim_lines: list[tuple[str, int, int | None]] = [
        ("received", claims.received, claims.claimed_cents),
        ("undecided", claims.undecided, None),
        ("decided", claims.decided, None),
        ("approved", claims.approved, claims.approved_cents),
        ("declined", claims.declined, None),
        ("paid", claims.paid, claims.paid_cents),
    ]
    for item, count, amount in claim_lines:
        yield ("claims", item, count, "", _dollars(amount), "", "", "")
    for event in report.timeline:
        who = f" by {event.who}" if event.who else ""
        detail = f"{event.detail}{who}".strip()
        yield ("timeline", event.what, "", "", "", "", event.at.isoformat(), detail)


def render_report_csv(report: ProgramReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(report_rows(report))
    return out.getvalue()


def _report(reference: str) -> ProgramReport:
    try:
        return program_report(program_by_reference(reference))
    except NotFound:
        raise Http404(f"no program {reference}") from None


@login_required
@role_required()
@require_GET
def report_page(request: HttpRequest, reference: str) -> HttpResponse:
    return HttpResponse(render_report_html(_report(reference), links=True))


@login_required
@role_required()
@require_GET
def report_csv(request: HttpRequest, reference: str) -> HttpResponse:
    report = _report(reference)
    csv_text = render_report_csv(report)
    return report_download(report, csv_text, content_type="text/csv; charset=utf-8", suffix="csv")


@login_required
@role_required()
@require_GET
def report_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    report = _report(reference)
    try:
        pdf = render_report_pdf(report)
    except PdfUnavailable as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    return report_download(report, pdf, content_type="application/pdf", suffix="pdf")


def report_download(
    report: ProgramReport, content: str | bytes, *, content_type: str, suffix: str
) -> HttpResponse:
    """A file to save: ``REM-2026-0001-report-2026-03-09.<suffix>`` (the local day)."""
    response = HttpResponse(content, content_type=content_type)
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{report.program.reference}-report-{day}.{suffix}"'
    )
    return response


urlpatterns = [
    path("programs/<str:reference>/report/", report_page, name="program-report"),
    path("programs/<str:reference>/report.csv", report_csv, name="program-report-csv"),
    path("programs/<str:reference>/report.pdf", report_pdf, name="program-report-pdf"),
]
