"""Reads other apps show about remediation (the console's home page)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from amends.remedy.models import (
    Claim,
    ClaimStatus,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
)
from amends.remedy.services.claim_decisions import UNDECIDED


def open_programs() -> QuerySet[Program]:
    """Programs not closed yet, newest first."""
    return Program.objects.exclude(status=ProgramStatus.CLOSED).order_by("-created_at")


@dataclass(frozen=True)
class ClaimQueue:
    to_assess: int  # submitted or being assessed
    to_approve: int  # decided above the threshold, waiting for a second person


def claim_queue() -> ClaimQueue:
    """How many claims wait for an assessor and how many for a second approval (one query)."""
    counts = Claim.objects.aggregate(
        to_assess=Count("id", filter=Q(status__in=UNDECIDED)),
        to_approve=Count("id", filter=Q(status=ClaimStatus.PENDING_APPROVAL)),
    )
    return ClaimQueue(to_assess=counts["to_assess"], to_approve=counts["to_approve"])


def told_credit(payout_id: int | None) -> Payout | None:
    """The confirmed credit or refund of an entitlement a personal link names, with what its
    page shows (its customer's language, the program's outages); None for anything else."""
    if payout_id is None:
        return None
    return (
        Payout.objects.select_related("entitlement", "customer", "program")
        .prefetch_related("program__outages")
        .filter(
            pk=payout_id,
            entitlement__isnull=False,
            status=PayoutStatus.PAID,
            method__in=(PayoutMethod.BILL_CREDIT, PayoutMethod.REFUND),
        )
        .first()
    )
