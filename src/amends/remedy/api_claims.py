"""REST endpoints for consequential-loss claims (list, detail, decide, second approval) and
the program report as JSON or PDF, mounted at ``/api/v1/claims``. Reads need ``remedy:read``
and a remediation role; decisions ``remedy:write`` and the analyst (or, to approve, the
approver) role, acting as the token's user."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from amends.api.auth import caller
from amends.api.pagination import paged
from amends.core.errors import AmendsError, NotFound
from amends.core.money import parse_amount
from amends.remedy.models import DECIDED_CLAIM_STATUSES, Claim, ClaimStatus
from amends.remedy.services import claim_decisions
from amends.remedy.services.approval import ANALYSTS, APPROVERS
from amends.remedy.services.report import program_report
from amends.remedy.services.review import program_by_reference
from amends.remedy.views.report import render_report_pdf, report_download

router = Router(tags=["claims"])
READ, WRITE = "remedy:read", "remedy:write"
READERS = (*ANALYSTS, *APPROVERS)


class EvidenceOut(Schema):
    id: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ClaimOut(Schema):
    reference: str
    status: str
    business_name: str
    contact_name: str
    email: str
    phone: str
    customer: str | None = Field(None, alias="customer.external_id")
    outage: str | None = Field(None, alias="outage.reference")
    program: str | None = Field(None, alias="program.reference")
    amount_claimed_cents: int
    amount_approved_cents: int | None
    payout_method: str
    decision_reasons: str
    assessor: str | None = Field(None, alias="assessor.username")
    approver: str | None = Field(None, alias="approver.username")
    created_at: datetime
    decided_at: datetime | None
    approved_at: datetime | None


class ClaimDetailOut(ClaimOut):
    description: str
    evidence: list[EvidenceOut]

    @staticmethod
    def resolve_evidence(claim: Claim) -> list[Any]:
        return list(claim.evidence.order_by("uploaded_at", "id"))


class DecisionIn(Schema):
    outcome: str  # approved | partly_approved | declined
    reasons: str
    amount: str | None = None  # dollars approved, for a partial approval: "400.00"
    program: str | None = None  # program reference that pays it
    method: str = ""  # bill_credit | refund; empty: bill credit, refund for a former customer


def _claims() -> QuerySet[Claim]:
    return Claim.objects.select_related("outage", "program", "customer", "assessor", "approver")


def _claim(reference: str) -> Claim:
    claim = _claims().filter(reference=reference.strip().upper()).first()
    if claim is None:
        raise NotFound(f"no claim {reference}", field="reference")
    return claim


@router.get("", response=list[ClaimOut], summary="Claims, oldest first")
@paged
def list_claims(
    request: HttpRequest, status: ClaimStatus | Literal["open"] | None = None, outage: str = ""
) -> Any:
    """``status``: a claim status, or ``open`` for those not yet decided; ``outage``: its
    reference."""
    caller(request).require(READ, *READERS)
    claims = _claims()
    if status == "open":
        claims = claims.exclude(status__in=DECIDED_CLAIM_STATUSES)
    elif status:
        claims = claims.filter(status=status)
    if outage:
        claims = claims.filter(outage__reference__iexact=outage)
    return claims.order_by("created_at", "id")


# Before the JSON report, whose {reference} would otherwise take "REM-2026-0001.pdf" whole.
@router.get("/reports/{reference}.pdf", summary="A program's report as PDF, as the console prints")
def program_report_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    caller(request).require(READ)
    report = program_report(program_by_reference(reference))
    pdf = render_report_pdf(report)
    return report_download(report, pdf, content_type="application/pdf", suffix="pdf")


@router.get("/reports/{reference}", summary="A program's report: affected, owed, paid, claims")
def program_report_json(request: HttpRequest, reference: str) -> dict[str, Any]:
    caller(request).require(READ)
    report = program_report(program_by_reference(reference))
    calculation = report.calculation
    return {
        "program": {
            "reference": report.program.reference,
            "name": report.program.name,
            "status": report.program.status,
        },
        "calculation": {
            "version": calculation.version,
            "approved": report.calculation_approved,
            "as_of": calculation.as_of,
        }
        if calculation
        else None,
        "outages": report.outages,
        "affected": report.affected,
        "eligible": report.eligible,
        "entitled_cents": report.entitled_cents,
        "segments": [asdict(line) for line in report.segments],
        "components": asdict(report.components),
        "payments": asdict(report.payments),
        "credit_notices": asdict(report.telling),
        "claims": {**asdict(report.claims), "decided": report.claims.decided},
        "timeline": [asdict(event) for event in report.timeline],
        "generated_at": report.generated_at,
    }


@router.get("/{reference}", response=ClaimDetailOut, summary="One claim with its evidence")
def claim_detail(request: HttpRequest, reference: str) -> Claim:
    caller(request).require(READ, *READERS)
    return _claim(reference)


def _cents(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise AmendsError(str(exc), field="amount") from None


@router.post("/{reference}/decide", response=ClaimOut, summary="Decide a claim with reasons")
def decide_claim(request: HttpRequest, reference: str, body: DecisionIn) -> Claim:
    who = caller(request)
    who.require(WRITE, *ANALYSTS)
    claim_decisions.claim_decide(
        actor=who.user,
        claim=_claim(reference),
        outcome=body.outcome,
        reasons=body.reasons,
        amount_cents=_cents(body.amount),
        program=program_by_reference(body.program) if body.program else None,
        method=body.method,
    )
    return _claim(reference)


@router.post("/{reference}/approve", response=ClaimOut, summary="Second person's approval")
def approve_claim(request: HttpRequest, reference: str) -> Claim:
    who = caller(request)
    who.require(WRITE, *APPROVERS)
    claim_decisions.claim_approve(actor=who.user, claim=_claim(reference))
    return _claim(reference)
