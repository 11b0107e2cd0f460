"""The program's review page (totals, charts, exclusions; submit, approve, reject) and its
payments page (payouts, billing batches, confirmations, residual ledger, notices, closing).

Views are thin: each write has its own URL, calls one service, turns an ``AmendsError`` into a
message and redirects back. Charts are inline SVG drawn by the templates from the bar widths
computed here, each with a table of the same numbers beside it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path, PurePath
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from amends.comms.models import Notice
from amends.core.errors import AmendsError, NotFound
from amends.core.money import format_money
from amends.core.permissions import role_required
from amends.core.roles import has_role
from amends.remedy.models import (
    BatchFormat,
    Payout,
    PayoutBatch,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
    ResidualDestination,
)
from amends.remedy.services import (
    approval,
    confirmations,
    credit_notices,
    payment_files,
    payments,
    review,
)

BAR_WIDTH = 240  # px of the longest bar


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _program(reference: str) -> Program:
    try:
        return review.program_by_reference(reference)
    except NotFound:
        raise Http404(f"no program {reference}") from None


def _bars(rows: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    """(label, value, shown) → rows with their bar width and vertical position."""
    top = max((value for _, value, _ in rows), default=0) or 1
    return [
        {"label": label, "shown": shown, "width": round(BAR_WIDTH * value / top), "y": 24 * i}
        for i, (label, value, shown) in enumerate(rows)
    ]


def _money(currency: str) -> Callable[[int], str]:
    """Cents as the console writes money in ``currency`` (the program's policy's)."""
    return partial(format_money, currency=currency)


def _charts(found: review.Review) -> dict[str, Any]:
    money = _money(found.calculation.policy_version.currency)
    return {
        "histogram": _bars([(b.label, b.customers, f"{b.customers:,}") for b in found.histogram]),
        "segments": _bars(
            [(g.label, g.total_cents, money(g.total_cents)) for g in found.by_segment]
        ),
    }


def _money_rows(groups: list[review.Group], money: Callable[[int], str]) -> list[dict[str, Any]]:
    return [{**g.__dict__, "total": money(g.total_cents)} for g in groups]


def _presented(found: review.Review) -> dict[str, Any]:
    """The review's figures as the page prints them (money formatted once, here)."""
    totals = found.totals
    money = _money(found.calculation.policy_version.currency)
    return {
        "totals_money": {
            "total": money(totals.total_cents),
            "mean": money(totals.mean_cents),
            "median": money(totals.median_cents),
            "p95": money(totals.p95_cents),
            "max": money(totals.max_cents),
        },
        "components": [
            (label, money(cents))
            for _, label, cents in review.component_amounts(found.components, total=False)
        ],
        "histogram": [
            {"label": b.label, "customers": b.customers, "total": money(b.total_cents)}
            for b in found.histogram
        ],
        "by_segment": _money_rows(found.by_segment, money),
        "by_product": _money_rows(found.by_product, money),
        "by_state": _money_rows(found.by_state, money),
        "largest": [
            {
                "external_id": e.customer.external_id,
                "segment": e.customer.get_segment_display(),
                "amount": money(e.total_cents),
                "explanation": e.explanation,
            }
            for e in found.largest
        ],
    }


def _review_actions(user: Any, program: Program) -> dict[str, bool]:
    analyst = has_role(user, *approval.ANALYSTS)
    approver = has_role(user, *approval.APPROVERS)
    in_review = program.status == ProgramStatus.IN_REVIEW
    return {
        "submit": analyst and program.status == ProgramStatus.CALCULATED,
        "approve": approver and in_review and program.author_id != user.pk,
        "reject": approver and in_review,
        "payments": program.status in (ProgramStatus.APPROVED, ProgramStatus.PAYING)
        or program.status == ProgramStatus.CLOSED,
    }


@login_required
@role_required()
@require_GET
def review_page(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    calculation = approval.latest_calculation(program)
    context: dict[str, Any] = {
        "program": program,
        "calculation": calculation,
        "actions": _review_actions(request.user, program),
        "rejection": review.latest_rejection(program),
    }
    if calculation is not None:
        found = review.review(calculation)
        exclusion = request.GET.get("exclusion", "")
        context.update(
            found=found,
            charts=_charts(found),
            **_presented(found),
            chart_height=24 * max(len(found.histogram), len(found.by_segment), 1),
            exclusion=exclusion,
            excluded=review.excluded_page(calculation, exclusion, request.GET.get("page")),
            ran_it=calculation.calculated_by == _user(request).get_username(),
        )
    return render(request, "remedy/payments/review.html", context)


def _act(
    request: HttpRequest, reference: str, done: Callable[[Program], str], page: str
) -> HttpResponse:
    """Run one write; its message or the error goes to the next page."""
    program = _program(reference)
    try:
        messages.success(request, done(program))
    except AmendsError as exc:
        messages.error(request, exc.message)
    return redirect(page, reference=program.reference)


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def submit(request: HttpRequest, reference: str) -> HttpResponse:
    def run(program: Program) -> str:
        approval.program_submit(actor=_user(request), program=program)
        return "Submitted: a second person with the approver role must now approve it."

    return _act(request, reference, run, "remedy:review")


@login_required
@role_required(*approval.APPROVERS)
@require_POST
def approve(request: HttpRequest, reference: str) -> HttpResponse:
    version = request.POST.get("version", "")

    def run(program: Program) -> str:
        program = approval.program_approve(
            actor=_user(request),
            program=program,
            version=int(version) if version.isdigit() else None,
        )
        return f"Approved calculation v{program.approved_calculation.version}: ready to pay."  # type: ignore[union-attr]

    return _act(request, reference, run, "remedy:review")


@login_required
@role_required(*approval.APPROVERS)
@require_POST
def reject(request: HttpRequest, reference: str) -> HttpResponse:
    def run(program: Program) -> str:
        approval.program_reject(
            actor=_user(request), program=program, reasons=request.POST.get("reasons", "")
        )
        return "Sent back to draft with your reasons."

    return _act(request, reference, run, "remedy:review")


@login_required
@role_required()
@require_GET
def payments_page(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    batches = list(PayoutBatch.objects.filter(program=program).order_by("-created_at", "-pk"))
    summary = payments.payout_summary(program)
    money = _money(program.policy_version.currency)
    return render(
        request,
        "remedy/payments/payments.html",
        {
            "program": program,
            "summary": summary,
            "summary_rows": [
                {
                    "method": PayoutMethod(line.method).label,
                    "status": PayoutStatus(line.status).label,
                    "payouts": line.payouts,
                    "total": money(line.total_cents),
                }
                for line in summary
            ],
            "batches": batches,
            "batch_rows": [
                {
                    "batch_id": b.batch_id,
                    "method": b.get_method_display(),
                    "items": b.items,
                    "total": money(b.total_cents),
                    "created_at": b.created_at,
                    "created_by": b.created_by,
                    "confirmed_at": b.confirmed_at,
                }
                for b in batches
            ],
            "residual": [
                {
                    "customer": entry.customer.external_id,
                    "amount": money(entry.amount_cents),
                    "destination": f"{entry.get_destination_kind_display()}: {entry.destination}",
                    "efforts": entry.efforts,
                    "created_at": entry.created_at,
                    "recorded_by": entry.recorded_by,
                }
                for entry in payments.residual_entries(program).order_by("-created_at")[:50]
            ],
            "rejected": Payout.objects.filter(program=program, status=PayoutStatus.REJECTED)
            .select_related("customer")
            .order_by("pk")[:50],
            "telling": credit_notices.telling(program),
            "notices": program.credit_notices.select_related("notice").order_by("-created_at"),
            "can_pay": has_role(request.user, *approval.ANALYSTS),
            "methods": [(m, PayoutMethod(m).label) for m in payments.EXPORTABLE],
            "formats": BatchFormat.choices,
            "destinations": ResidualDestination.choices,
            "paying": program.status in (ProgramStatus.APPROVED, ProgramStatus.PAYING),
        },
    )


def _attachment(batch: PayoutBatch) -> HttpResponse:
    # A streamed response, typed as the plain one the role decorator's signature expects.
    return cast(HttpResponse, payment_files.download(batch))


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def export(request: HttpRequest, reference: str) -> HttpResponse:
    program = _program(reference)
    try:
        exported = payments.batch_export(
            actor=_user(request),
            program=program,
            method=request.POST.get("method", ""),
            file_format=request.POST.get("format", BatchFormat.CSV),
        )
        return _attachment(exported.batch)
    except AmendsError as exc:
        messages.error(request, exc.message)
    return redirect("remedy:payments", reference=program.reference)


@login_required
@role_required(*approval.ANALYSTS)
@require_GET
def download(request: HttpRequest, reference: str, batch_id: str) -> HttpResponse:
    program = _program(reference)
    batch = PayoutBatch.objects.filter(program=program, batch_id=batch_id).first()
    if batch is None:
        messages.error(request, f"no batch {batch_id}")
        return redirect("remedy:payments", reference=program.reference)
    try:
        return _attachment(batch)
    except AmendsError as exc:
        messages.error(request, exc.message)
    return redirect("remedy:payments", reference=program.reference)


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def confirm(request: HttpRequest, reference: str) -> HttpResponse:
    upload = request.FILES.get("file")

    def run(program: Program) -> str:
        if upload is None:
            raise AmendsError("choose billing's confirmation file", field="file")
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / PurePath(upload.name or "confirmations.csv").name
            with target.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            done = confirmations.confirmations_import(
                actor=_user(request), program=program, path=target
            )
        return (
            f"{done.batch.batch_id}: {done.paid:,} paid, {done.rejected:,} rejected, "
            f"{done.unchanged:,} unchanged."
        )

    return _act(request, reference, run, "remedy:payments")


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def requeue(request: HttpRequest, reference: str) -> HttpResponse:
    def run(program: Program) -> str:
        count = payments.payouts_requeue(actor=_user(request), program=program)
        return f"{count:,} rejected payout(s) will go in the next batch."

    return _act(request, reference, run, "remedy:payments")


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def residual(request: HttpRequest, reference: str) -> HttpResponse:
    ids = [int(v) for v in request.POST.get("payouts", "").replace(",", " ").split() if v.isdigit()]

    def run(program: Program) -> str:
        count = payments.residual_record(
            actor=_user(request),
            program=program,
            payout_ids=ids or None,
            efforts=request.POST.get("efforts", ""),
            destination_kind=request.POST.get("kind", ""),
            destination=request.POST.get("destination", ""),
        )
        return f"{count:,} payout(s) moved to the residual ledger."

    return _act(request, reference, run, "remedy:payments")


def _notice_sender(
    send: Callable[..., list[Notice]], what: str, **options: Any
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A view that submits the program's notices of one kind, ``options`` passed on (comms
    roles are checked by the notice services themselves)."""

    @login_required
    @role_required()
    @require_POST
    def view(request: HttpRequest, reference: str) -> HttpResponse:
        def run(program: Program) -> str:
            sent = send(
                actor=_user(request),
                program=program,
                message=request.POST.get("message", ""),
                **options,
            )
            return f"{len(sent)} {what} notice(s) submitted: see Notices for approval and sending."

        return _act(request, reference, run, "remedy:payments")

    return view


notify = _notice_sender(credit_notices.credit_notices_send, "credit")
notify_unreached = _notice_sender(
    credit_notices.credit_notices_send, "credit", retry_unreached=True
)
apologise = _notice_sender(credit_notices.apology_send, "apology")


@login_required
@role_required(*approval.ANALYSTS)
@require_POST
def close(request: HttpRequest, reference: str) -> HttpResponse:
    def run(program: Program) -> str:
        payments.program_close(actor=_user(request), program=program)
        return "Closed: every payout is paid or in the residual ledger."

    return _act(request, reference, run, "remedy:payments")


urlpatterns = [
    path("<str:reference>/review/", review_page, name="review"),
    path("<str:reference>/review/submit/", submit, name="submit"),
    path("<str:reference>/review/approve/", approve, name="approve"),
    path("<str:reference>/review/reject/", reject, name="reject"),
    path("<str:reference>/payments/", payments_page, name="payments"),
    path("<str:reference>/payments/export/", export, name="export"),
    path("<str:reference>/payments/batches/<str:batch_id>/", download, name="batch"),
    path("<str:reference>/payments/confirm/", confirm, name="confirm"),
    path("<str:reference>/payments/requeue/", requeue, name="requeue"),
    path("<str:reference>/payments/residual/", residual, name="residual"),
    path("<str:reference>/payments/notify/", notify, name="notify"),
    path("<str:reference>/payments/notify/unreached/", notify_unreached, name="notify-unreached"),
    path("<str:reference>/payments/apologise/", apologise, name="apologise"),
    path("<str:reference>/payments/close/", close, name="close"),
]
