"""The program report: what a remediation lead hands a regulator. Who was affected and who is
owed (by segment), what has been paid, what is outstanding and what went to the residual
ledger, who has not been told of their credit or could not be reached, the consequential-loss
claims, and the timeline from the outage to the program's close.

Read-only. Every figure is an aggregate query (``GROUP BY`` / filtered counts) over the
program's entitlements, payouts and claims; the timeline comes from the outages' own times and
the audit log. The figures describe the approved calculation, or the latest one while none is
approved (``calculation_approved`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from amends.core.models import AuditEntry
from amends.network.models import Segment
from amends.remedy.models import (
    Calculation,
    Claim,
    ClaimStatus,
    Entitlement,
    Payout,
    PayoutStatus,
    Program,
)
from amends.remedy.services.credit_notices import Telling, telling
from amends.remedy.services.review import Components, components

SEGMENT_LABELS = dict(Segment.choices)
UNPAID = (PayoutStatus.PENDING, PayoutStatus.EFFORTS, PayoutStatus.EXPORTED, PayoutStatus.REJECTED)
UNDECIDED = (ClaimStatus.SUBMITTED, ClaimStatus.ASSESSING, ClaimStatus.PENDING_APPROVAL)
APPROVED_CLAIMS = (ClaimStatus.APPROVED, ClaimStatus.PARTLY_APPROVED, ClaimStatus.PAID)

# Audit actions shown on the timeline, in words. Others of the program are shown by name.
TIMELINE_WORDS = {
    "remedy.program_create": "Program created",
    "remedy.program_set_policy": "Policy changed",
    "remedy.calculate": "Calculated",
    "remedy.program_submit": "Submitted for approval",
    "remedy.program_reject": "Sent back by the approver",
    "remedy.program_approve": "Approved",
    "remedy.payouts_create": "Payments started",
    "remedy.batch_export": "Exported to billing",
    "remedy.confirmations_import": "Billing confirmed",
    "remedy.credit_notices_send": "Credit notices sent",
    "remedy.apology_send": "Apology sent",
    "remedy.residual_record": "Moved to the residual ledger",
    "remedy.payouts_requeue": "Rejected payouts queued again",
    "remedy.claims_paid": "Claims paid",
    "remedy.program_close": "Closed",
}


@dataclass(frozen=True)
class SegmentLine:
    segment: str
    label: str
    affected: int
    eligible: int
    amount_cents: int
    paid_cents: int


@dataclass(frozen=True)
class Payments:
    """Money owed under the program (entitlements and approved claims) and where it stands.
    ``owed = paid + outstanding + residual``, interest on late refunds included once paid."""

    owed_cents: int
    paid_cents: int
    outstanding_cents: int
    residual_cents: int
    paid_customers: int
    outstanding_customers: int
    residual_customers: int


@dataclass(frozen=True)
class ClaimFigures:
    received: int
    undecided: int
    approved: int  # in full or in part, paid or not
    declined: int
    paid: int
    claimed_cents: int
    approved_cents: int
    paid_cents: int

    @property
    def decided(self) -> int:
        return self.approved + self.declined


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str
    who: str
    detail: str = ""


@dataclass(frozen=True)
class ProgramReport:
    program: Program
    calculation: Calculation | None
    calculation_approved: bool
    outages: list[str]  # "OUT-2026-0001 Exchange fire"
    affected: int
    eligible: int
    entitled_cents: int
    segments: list[SegmentLine]
    components: Components
    payments: Payments
    telling: Telling
    claims: ClaimFigures
    timeline: list[Event]
    generated_at: datetime
    currency: str  # ISO 4217, of every amount: the reported calculation's policy's


def program_report(program: Program) -> ProgramReport:
    """Everything the report page, its CSV, the API and the CLI show."""
    calculation = _reported_calculation(program)
    segments = segment_lines(program, calculation)
    return ProgramReport(
        program=program,
        calculation=calculation,
        calculation_approved=calculation is not None
        and calculation.pk == program.approved_calculation_id,
        outages=[f"{o.reference} {o.title}" for o in program.outages.order_by("started_at")],
        affected=sum(line.affected for line in segments),
        eligible=sum(line.eligible for line in segments),
        entitled_cents=sum(line.amount_cents for line in segments),
        segments=segments,
        components=components(calculation),
        payments=payments(program, calculation),
        telling=telling(program),
        claims=claim_figures(program),
        timeline=timeline(program),
        generated_at=timezone.now(),
        currency=(calculation or program).policy_version.currency,
    )


def _reported_calculation(program: Program) -> Calculation | None:
    if program.approved_calculation_id is not None:
        return program.approved_calculation
    return program.calculations.order_by("-version").first()


def segment_lines(program: Program, calculation: Calculation | None) -> list[SegmentLine]:
    """Affected and eligible customers and their amounts by segment (one GROUP BY), with what
    has been paid to each segment (another)."""
    if calculation is None:
        return []
    eligible = Q(eligible=True)
    rows = (
        Entitlement.objects.filter(calculation=calculation)
        .values("customer__segment")
        .annotate(
            affected=Count("id"),
            eligible_n=Count("id", filter=eligible),
            amount=Sum("total_cents", filter=eligible),
        )
        .order_by("customer__segment")
    )
    paid = dict(
        Payout.objects.filter(program=program, status=PayoutStatus.PAID)
        .values("customer__segment")
        .annotate(total=Sum("amount_cents"))
        .values_list("customer__segment", "total")
    )
    order = {segment: i for i, segment in enumerate(Segment.values)}
    lines = [
        SegmentLine(
            segment=str(row["customer__segment"]),
            label=SEGMENT_LABELS.get(row["customer__segment"], str(row["customer__segment"])),
            affected=int(row["affected"]),
            eligible=int(row["eligible_n"]),
            amount_cents=int(row["amount"] or 0),
            paid_cents=int(paid.get(row["customer__segment"]) or 0),
        )
        for row in rows
    ]
    return sorted(lines, key=lambda line: order.get(line.segment, len(order)))


def payments(program: Program, calculation: Calculation | None) -> Payments:
    """Paid, outstanding and residual, from the payouts (one aggregate); entitlements of the
    reported calculation that have no payout yet are outstanding too (another)."""
    paid, unpaid, residual = (
        Q(status=PayoutStatus.PAID),
        Q(status__in=UNPAID),
        Q(status=PayoutStatus.RESIDUAL),
    )
    row = Payout.objects.filter(program=program).aggregate(
        paid=Sum("amount_cents", filter=paid),
        paid_n=Count("customer", filter=paid, distinct=True),
        unpaid=Sum("amount_cents", filter=unpaid),
        unpaid_n=Count("customer", filter=unpaid, distinct=True),
        residual=Sum("amount_cents", filter=residual),
        residual_n=Count("customer", filter=residual, distinct=True),
    )
    waiting = {"total": 0, "n": 0}
    if calculation is not None:
        waiting = (
            Entitlement.objects.filter(calculation=calculation, eligible=True, total_cents__gt=0)
            .exclude(Exists(Payout.objects.filter(entitlement=OuterRef("pk"))))
            .aggregate(total=Sum("total_cents"), n=Count("id"))
        )
    outstanding = int(row["unpaid"] or 0) + int(waiting["total"] or 0)
    return Payments(
        owed_cents=int(row["paid"] or 0) + outstanding + int(row["residual"] or 0),
        paid_cents=int(row["paid"] or 0),
        outstanding_cents=outstanding,
        residual_cents=int(row["residual"] or 0),
        paid_customers=int(row["paid_n"]),
        outstanding_customers=int(row["unpaid_n"]) + int(waiting["n"] or 0),
        residual_customers=int(row["residual_n"]),
    )


def claim_figures(program: Program) -> ClaimFigures:
    """Claims about the program's outages (linked to it or not yet linked to any program)."""
    claims = Claim.objects.filter(
        Q(program=program) | Q(program__isnull=True, outage__in=program.outages.all())
    )
    approved = Q(status__in=APPROVED_CLAIMS)
    row = claims.aggregate(
        received=Count("id"),
        undecided=Count("id", filter=Q(status__in=UNDECIDED)),
        approved=Count("id", filter=approved),
        declined=Count("id", filter=Q(status=ClaimStatus.DECLINED)),
        paid=Count("id", filter=Q(status=ClaimStatus.PAID)),
        claimed=Sum("amount_claimed_cents"),
        approved_total=Sum("amount_approved_cents", filter=approved),
        paid_total=Sum("amount_approved_cents", filter=Q(status=ClaimStatus.PAID)),
    )
    return ClaimFigures(
        received=int(row["received"]),
        undecided=int(row["undecided"]),
        approved=int(row["approved"]),
        declined=int(row["declined"]),
        paid=int(row["paid"]),
        claimed_cents=int(row["claimed"] or 0),
        approved_cents=int(row["approved_total"] or 0),
        paid_cents=int(row["paid_total"] or 0),
    )


def _outage_events(program: Program) -> list[Event]:
    events = []
    for outage in program.outages.order_by("started_at"):
        events.append(Event(outage.started_at, "Outage started", "", outage.reference))
        for at, what in (
            (outage.restored_at, "Service restored"),
            (outage.resolved_at, "Outage resolved"),
        ):
            if at is not None:
                events.append(Event(at, what, "", outage.reference))
    return events


def timeline(program: Program) -> list[Event]:
    """The outages' start and end, then every audited step of the program, its calculations
    and its billing batches, in time order."""
    calculations = [str(pk) for pk in program.calculations.values_list("pk", flat=True)]
    batches = [str(pk) for pk in program.batches.values_list("pk", flat=True)]
    entries = AuditEntry.objects.filter(
        Q(object_type="remedy.program", object_id=str(program.pk))
        | Q(object_type="remedy.calculation", object_id__in=calculations)
        | Q(object_type="remedy.payoutbatch", object_id__in=batches)
    ).order_by("seq")
    events = _outage_events(program)
    for entry in entries:
        after = entry.after if isinstance(entry.after, dict) else {}
        version = after.get("version")
        detail = str(after.get("batch_id") or (f"version {version}" if version else ""))
        what = TIMELINE_WORDS.get(entry.action, entry.action)
        events.append(Event(entry.at, what, entry.actor, detail))
    return sorted(events, key=lambda event: event.at)
