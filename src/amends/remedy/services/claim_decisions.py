"""Assessing claims: an analyst takes a claim, decides it with reasons (approved in full,
partly approved with an amount, or declined) and links it to the program that pays it. An
approval above ``AMENDS_CLAIM_APPROVAL_THRESHOLD`` dollars waits for a second person with the
approver role, who approves it or returns it to the analyst with a note.

A final approval creates the claim's ``Payout`` in its program (pending export), so it is paid
through the same billing export as the program's entitlements; every final decision is sent to
the claimant with its reasons. Every step is audited.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from amends.core import audit
from amends.core.errors import AmendsError, Conflict
from amends.core.money import format_cents
from amends.remedy.models import (
    Claim,
    ClaimStatus,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Program,
    ProgramStatus,
)
from amends.remedy.services.approval import ANALYSTS, APPROVERS, require_role
from amends.remedy.services.claims import claim_answer

UNDECIDED = (ClaimStatus.SUBMITTED, ClaimStatus.ASSESSING)
APPROVED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PARTLY_APPROVED)
PAYABLE_METHODS = (PayoutMethod.BILL_CREDIT, PayoutMethod.REFUND)


class Outcome(StrEnum):
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    DECLINED = "declined"


def _locked(claim: Claim, *expected: str) -> Claim:
    current = Claim.objects.select_for_update().get(pk=claim.pk)
    if current.status not in expected:
        raise Conflict(
            f"claim {current.reference} is {current.get_status_display().lower()}",
            field="status",
        )
    return current


def _snapshot(claim: Claim) -> dict[str, Any]:
    return {
        "status": claim.status,
        "amount_approved_cents": claim.amount_approved_cents,
        "program": claim.program.reference if claim.program else None,
        "payout_method": claim.payout_method,
        "assessor": claim.assessor.get_username() if claim.assessor else None,
    }


def claim_assess(*, actor: User, claim: Claim) -> Claim:
    """An analyst takes a submitted claim (submitted → being assessed)."""
    require_role(actor, ANALYSTS, "assess claims")
    with transaction.atomic():
        claim = _locked(claim, ClaimStatus.SUBMITTED)
        before = _snapshot(claim)
        claim.status, claim.assessor = ClaimStatus.ASSESSING, actor
        claim.save(update_fields=["status", "assessor"])
        audit.record(actor, "remedy.claim_assess", claim, before=before, after=_snapshot(claim))
    return claim


def _approved_amount(claim: Claim, outcome: Outcome, amount_cents: int | None) -> int:
    if outcome == Outcome.APPROVED:
        if amount_cents not in (None, claim.amount_claimed_cents):
            raise AmendsError(
                "approving in full pays the amount claimed; choose partly approved for less",
                field="amount",
            )
        return claim.amount_claimed_cents
    if amount_cents is None:
        raise AmendsError("give the amount approved", field="amount")
    if not 0 < amount_cents < claim.amount_claimed_cents:
        raise AmendsError(
            f"a partial approval is more than $0 and less than the "
            f"{format_cents(claim.amount_claimed_cents)} claimed",
            field="amount",
        )
    return amount_cents


def _paying_program(claim: Claim, program: Program | None) -> Program:
    if program is None:
        raise AmendsError("choose the program that pays this claim", field="program")
    if program.status == ProgramStatus.CLOSED:
        raise Conflict(f"program {program.reference} is closed", field="program")
    if claim.outage_id is not None and not program.outages.filter(pk=claim.outage_id).exists():
        raise AmendsError(
            f"program {program.reference} does not cover outage {claim.outage}", field="program"
        )
    return program


def _payout_method(claim: Claim, method: str) -> str:
    assert claim.customer is not None
    if not method:
        return PayoutMethod.REFUND if claim.customer.is_former else PayoutMethod.BILL_CREDIT
    if method not in PAYABLE_METHODS:
        raise AmendsError("pay a claim as a bill credit or a refund", field="method")
    if method == PayoutMethod.BILL_CREDIT and claim.customer.is_former:
        raise AmendsError("a former customer has no bill to credit: refund it", field="method")
    return method


def claim_decide(
    *,
    actor: User,
    claim: Claim,
    outcome: str,
    reasons: str,
    amount_cents: int | None = None,
    program: Program | None = None,
    method: str = "",
) -> Claim:
    """Decide a claim with reasons. A decline or an approval up to the threshold is final at
    once (payout, answer to the claimant); a larger approval waits for a second person."""
    require_role(actor, ANALYSTS, "decide claims")
    if outcome not in {o.value for o in Outcome}:
        raise AmendsError("choose approved, partly approved or declined", field="outcome")
    reasons = reasons.strip()
    if not reasons:
        raise AmendsError("give the reasons for the decision", field="reasons")
    with transaction.atomic():
        claim = _locked(claim, *UNDECIDED)
        before = _snapshot(claim)
        claim.assessor, claim.decision_reasons, claim.decided_at = actor, reasons, timezone.now()
        if program is not None or outcome != Outcome.DECLINED:
            claim.program = _paying_program(claim, program)
        if outcome == Outcome.DECLINED:
            claim.status, claim.amount_approved_cents = ClaimStatus.DECLINED, 0
        else:
            claim.amount_approved_cents = _approved_amount(claim, Outcome(outcome), amount_cents)
            claim.payout_method = _payout_method(claim, method)
            claim.status = ClaimStatus.PENDING_APPROVAL
        claim.save()
        after = _snapshot(claim)
        if claim.status == ClaimStatus.PENDING_APPROVAL and not _needs_second_person(claim):
            after.update(_finalise_approval(claim))
        elif claim.status == ClaimStatus.DECLINED:
            after["notice"] = claim_answer(claim, decision_text(claim)).pk
        audit.record(actor, "remedy.claim_decide", claim, before=before, after=after)
    return claim


def _needs_second_person(claim: Claim) -> bool:
    threshold_cents = settings.AMENDS_CLAIM_APPROVAL_THRESHOLD * 100
    return (claim.amount_approved_cents or 0) > threshold_cents


def _finalise_approval(claim: Claim) -> dict[str, Any]:
    """Approved or partly approved: the payout in its program, and the answer to the claimant."""
    assert claim.customer is not None and claim.program is not None
    full = claim.amount_approved_cents == claim.amount_claimed_cents
    claim.status = ClaimStatus.APPROVED if full else ClaimStatus.PARTLY_APPROVED
    claim.save(update_fields=["status"])
    # As for entitlements (services.payments): a refund without payment details waits for them.
    refund = claim.payout_method == PayoutMethod.REFUND
    reference = claim.customer.payment_reference if refund else ""
    payout = Payout.objects.create(
        program=claim.program,
        claim=claim,
        customer=claim.customer,
        method=claim.payout_method,
        amount_cents=claim.amount_approved_cents or 0,
        payment_reference=reference,
        status=PayoutStatus.EFFORTS if refund and not reference else PayoutStatus.PENDING,
    )
    notice = claim_answer(claim, decision_text(claim))
    return {"status": claim.status, "payout": payout.pk, "notice": notice.pk}


def claim_approve(*, actor: User, claim: Claim) -> Claim:
    """A second person approves a large claim decision (pending approval → approved)."""
    require_role(actor, APPROVERS, "approve claims")
    with transaction.atomic():
        claim = _locked(claim, ClaimStatus.PENDING_APPROVAL)
        if claim.assessor_id == actor.pk:
            raise AmendsError("a second person must approve a claim you decided", status=403)
        before = _snapshot(claim)
        claim.approver, claim.approved_at = actor, timezone.now()
        claim.save(update_fields=["approver", "approved_at"])
        after = {**_snapshot(claim), **_finalise_approval(claim)}
        audit.record(actor, "remedy.claim_approve", claim, before=before, after=after)
    return claim


def claim_return(*, actor: User, claim: Claim, note: str) -> Claim:
    """The approver sends a decision back to the analyst (pending approval → being assessed)."""
    require_role(actor, APPROVERS, "return claim decisions")
    note = note.strip()
    if not note:
        raise AmendsError("say why the decision goes back", field="note")
    with transaction.atomic():
        claim = _locked(claim, ClaimStatus.PENDING_APPROVAL)
        before = _snapshot(claim)
        claim.status, claim.decided_at = ClaimStatus.ASSESSING, None
        claim.save(update_fields=["status", "decided_at"])
        audit.record(
            actor,
            "remedy.claim_return",
            claim,
            before=before,
            after={**_snapshot(claim), "note": note},
        )
    return claim


def claims_mark_paid(*, actor: audit.Actor, program: Program | None = None) -> int:
    """Approved claims whose payout billing has confirmed paid become paid (set-based); for the
    payments confirmation import to call. Returns how many changed."""
    paid = Payout.objects.filter(claim=OuterRef("pk"), status=PayoutStatus.PAID)
    claims = Claim.objects.filter(status__in=APPROVED_STATUSES).filter(Exists(paid))
    if program is not None:
        claims = claims.filter(program=program)
    with transaction.atomic():
        references = list(claims.select_for_update().values_list("reference", flat=True))
        if not references:
            return 0
        changed = Claim.objects.filter(reference__in=references).update(status=ClaimStatus.PAID)
        audit.record(
            actor,
            "remedy.claims_paid",
            ("remedy.program", str(program.pk)) if program else None,
            after={"claims": references, "status": ClaimStatus.PAID},
        )
    return changed


# What the claimant is told -------------------------------------------------------------------

_HOW_PAID = {
    PayoutMethod.BILL_CREDIT: "We will credit it to your account; it will show on your bill.",
    PayoutMethod.REFUND: "We will refund it to the payment details on your account.",
}


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def decision_text(claim: Claim) -> str:
    """The decision in plain words, with the reasons, as the claimant receives it."""
    reference, reasons = claim.reference, _sentence(claim.decision_reasons)
    disagree = (
        f"If you disagree with this decision, call us on {settings.AMENDS_HELP_LINE} "
        f"quoting {reference}."
    )
    if claim.status == ClaimStatus.DECLINED:
        return (
            f"We have assessed your claim {reference} and are unable to approve it. "
            f"Our reasons: {reasons} {disagree}"
        )
    amount = format_cents(claim.amount_approved_cents or 0)
    how = _HOW_PAID[PayoutMethod(claim.payout_method)]
    if claim.status == ClaimStatus.APPROVED:
        return (
            f"We have assessed your claim {reference} and approved it in full: {amount}. "
            f"{how} Our reasons: {reasons}"
        )
    claimed = format_cents(claim.amount_claimed_cents)
    return (
        f"We have assessed your claim {reference} and approved {amount} of the {claimed} you "
        f"claimed. {how} Our reasons: {reasons} {disagree}"
    )
