"""Reads other apps show about remediation (the console's home page)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from amends.remedy.models import Claim, ClaimStatus, Program, ProgramStatus
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
