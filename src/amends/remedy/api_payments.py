"""REST endpoints for reviewing, approving and paying a program (/api/v1/remedy/programs/{ref}/…):
review, submit, approve, reject, payouts, export (a file download), confirm (a file upload),
residual, credit notices, close. Thin calls onto the services, which check roles and state.

Tokens need the ``remedy:read`` scope to read and ``remedy:write`` to act; the services check
the user's role and the program's state.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile

from amends.api.auth import caller
from amends.api.pagination import paged
from amends.core.errors import AmendsError
from amends.remedy.models import BatchFormat, Payout, PayoutMethod, PayoutStatus, Program
from amends.remedy.services import approval, confirmations, credit_notices, payment_files, payments
from amends.remedy.services import review as reviews

router = Router(tags=["remediation payments"])
READ, WRITE = "remedy:read", "remedy:write"
MAX_CONFIRMATION_BYTES = 200 * 1024 * 1024


class ProgramOut(Schema):
    reference: str
    name: str
    status: str
    approver: str | None
    approved_at: datetime | None
    approved_version: int | None
    closed_at: datetime | None

    @staticmethod
    def resolve_approver(program: Program) -> str | None:
        return program.approver.get_username() if program.approver else None

    @staticmethod
    def resolve_approved_version(program: Program) -> int | None:
        calculation = program.approved_calculation
        return calculation.version if calculation else None


class TotalsOut(Schema):
    affected: int
    eligible: int
    excluded: int
    total_cents: int
    mean_cents: int
    median_cents: int
    p95_cents: int
    max_cents: int
    non_monetary: int


class ComponentsOut(Schema):
    """The parts of the eligible customers' total (they add up to ``total_cents``)."""

    base_cents: int
    sla_cents: int
    bonus_cents: int
    interest_cents: int
    adjustment_cents: int
    total_cents: int


class GroupOut(Schema):
    key: str
    label: str
    customers: int
    eligible: int
    total_cents: int


class BucketOut(Schema):
    low_cents: int
    high_cents: int | None
    customers: int
    total_cents: int


class LargestOut(Schema):
    customer: str
    total_cents: int
    explanation: str


class MissingOut(Schema):
    reason: str
    customers: int
    examples: list[str]


class ReviewOut(Schema):
    program: ProgramOut
    version: int
    currency: str = Field(description="ISO 4217 code of every amount (the policy's).")
    calculated_by: str
    as_of: datetime
    totals: TotalsOut
    components: ComponentsOut
    by_segment: list[GroupOut]
    by_product: list[GroupOut]
    by_state: list[GroupOut]
    histogram: list[BucketOut]
    largest: list[LargestOut]
    exclusions: list[GroupOut]
    missing: list[MissingOut]


class ApproveIn(Schema):
    version: int | None = None


class RejectIn(Schema):
    reasons: str


class ResidualIn(Schema):
    payouts: list[int] | None = None
    efforts: str
    kind: str
    destination: str


class RequeueIn(Schema):
    payouts: list[int] | None = None


class MessageIn(Schema):
    message: str = ""


class CreditNoticesIn(MessageIn):
    retry_unreached: bool = Field(
        False,
        description="also tell again the customers an earlier notice did not reach (every "
        "channel failed or no way to reach them), with anyone not told yet; refused (409) "
        "when there are none, or none of them can be reached yet",
    )


class PayoutOut(Schema):
    id: int
    customer: str
    method: str
    status: str
    amount_cents: int
    interest_cents: int
    currency: str = Field(description="ISO 4217 code of the amounts (the program's policy's).")
    batch: str | None
    billing_reference: str
    rejection_reason: str
    paid_at: datetime | None

    @staticmethod
    def resolve_customer(payout: Payout) -> str:
        return payout.customer.external_id

    @staticmethod
    def resolve_currency(payout: Payout) -> str:
        return payout.program.policy_version.currency

    @staticmethod
    def resolve_batch(payout: Payout) -> str | None:
        return payout.batch.batch_id if payout.batch else None


class ConfirmedOut(Schema):
    batch: str
    paid: int
    rejected: int
    unchanged: int
    batch_complete: bool


class CountOut(Schema):
    count: int


class NoticesOut(Schema):
    notices: list[int]


def _program(reference: str) -> Program:
    return reviews.program_by_reference(reference)


@router.get("/programs/{reference}/review", response=ReviewOut, summary="Review a calculation")
def review_program(request: HttpRequest, reference: str, version: int | None = None) -> Any:
    caller(request).require(READ)
    program = _program(reference)
    calculation = (
        program.calculations.filter(version=version).first()
        if version
        else approval.latest_calculation(program)
    )
    if calculation is None:
        raise AmendsError(f"program {reference} has no such calculation", field="version")
    found = reviews.review(calculation)
    return {
        **found.__dict__,
        "version": calculation.version,
        "currency": calculation.policy_version.currency,
        "calculated_by": calculation.calculated_by,
        "as_of": calculation.as_of,
        "largest": [
            {
                "customer": e.customer.external_id,
                "total_cents": e.total_cents,
                "explanation": e.explanation,
            }
            for e in found.largest
        ],
    }


@router.post("/programs/{reference}/submit", response=ProgramOut, summary="Ask for approval")
def submit_program(request: HttpRequest, reference: str) -> Program:
    who = caller(request)
    who.require(WRITE)
    return approval.program_submit(actor=who.user, program=_program(reference))


@router.post(
    "/programs/{reference}/approve", response=ProgramOut, summary="Second person's approval"
)
def approve_program(request: HttpRequest, reference: str, body: ApproveIn) -> Program:
    who = caller(request)
    who.require(WRITE)
    return approval.program_approve(
        actor=who.user, program=_program(reference), version=body.version
    )


@router.post("/programs/{reference}/reject", response=ProgramOut, summary="Back to draft")
def reject_program(request: HttpRequest, reference: str, body: RejectIn) -> Program:
    who = caller(request)
    who.require(WRITE)
    return approval.program_reject(
        actor=who.user, program=_program(reference), reasons=body.reasons
    )


@router.get("/programs/{reference}/payouts", response=list[PayoutOut], summary="Payouts")
@paged
def list_payouts(
    request: HttpRequest,
    reference: str,
    status: PayoutStatus | None = None,
    method: PayoutMethod | None = None,
) -> Any:
    caller(request).require(READ)
    query = Payout.objects.filter(program=_program(reference)).select_related(
        "customer", "batch", "program__policy_version"
    )
    if status:
        query = query.filter(status=status)
    if method:
        query = query.filter(method=method)
    return query.order_by("id")


@router.post(
    "/programs/{reference}/export",
    summary="Export pending payouts of one method as a billing file (the same unconfirmed "
    "batch again when nothing new is pending)",
)
def export_batch(
    request: HttpRequest, reference: str, method: str, format: str = BatchFormat.CSV
) -> StreamingHttpResponse:
    who = caller(request)
    who.require(WRITE)
    exported = payments.batch_export(
        actor=who.user, program=_program(reference), method=method, file_format=format
    )
    response = payment_files.download(exported.batch)
    batch = exported.batch
    response["X-Batch-Sha256"] = batch.sha256
    response["X-Batch-Reused"] = "true" if exported.reused else "false"
    return response


@router.post("/programs/{reference}/confirm", response=ConfirmedOut, summary="Import confirmations")
def confirm_batch(request: HttpRequest, reference: str, file: File[UploadedFile]) -> Any:
    who = caller(request)
    who.require(WRITE)
    name = PurePath(file.name or "confirmations.csv").name
    if file.size and file.size > MAX_CONFIRMATION_BYTES:
        raise AmendsError("is larger than 200 MB", field="file")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            for chunk in file.chunks():
                handle.write(chunk)
        done = confirmations.confirmations_import(
            actor=who.user, program=_program(reference), path=path
        )
    return {**done.__dict__, "batch": done.batch.batch_id}


@router.post("/programs/{reference}/requeue", response=CountOut, summary="Queue rejected again")
def requeue_payouts(request: HttpRequest, reference: str, body: RequeueIn) -> Any:
    who = caller(request)
    who.require(WRITE)
    count = payments.payouts_requeue(
        actor=who.user, program=_program(reference), payout_ids=body.payouts
    )
    return {"count": count}


@router.post("/programs/{reference}/residual", response=CountOut, summary="To the residual ledger")
def record_residual(request: HttpRequest, reference: str, body: ResidualIn) -> Any:
    who = caller(request)
    who.require(WRITE)
    count = payments.residual_record(
        actor=who.user,
        program=_program(reference),
        payout_ids=body.payouts,
        efforts=body.efforts,
        destination_kind=body.kind,
        destination=body.destination,
    )
    return {"count": count}


@router.post("/programs/{reference}/credit-notices", response=NoticesOut, summary="Tell them")
def send_credit_notices(request: HttpRequest, reference: str, body: CreditNoticesIn) -> Any:
    who = caller(request)
    who.require(WRITE)
    notices = credit_notices.credit_notices_send(
        actor=who.user,
        program=_program(reference),
        message=body.message,
        retry_unreached=body.retry_unreached,
    )
    return {"notices": [n.pk for n in notices]}


@router.post("/programs/{reference}/close", response=ProgramOut, summary="Close when all settled")
def close_program(request: HttpRequest, reference: str) -> Program:
    who = caller(request)
    who.require(WRITE)
    return payments.program_close(actor=who.user, program=_program(reference))
