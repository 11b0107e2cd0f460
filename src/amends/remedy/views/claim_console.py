"""The claims queue in the console (under ``/remedy/claims/``): the list with its filters, a
claim with its evidence and history, and the analyst's and approver's actions. Evidence is
never served to the public: only staff download it, and each download is audited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from amends.core import audit
from amends.core.errors import AmendsError
from amends.core.models import AuditEntry
from amends.core.money import format_cents
from amends.core.permissions import role_required
from amends.core.roles import has_role
from amends.remedy.models import Claim, ClaimEvidence, ClaimStatus
from amends.remedy.services import claim_decisions
from amends.remedy.services.approval import ANALYSTS, APPROVERS
from amends.remedy.views.claim_forms import ClaimFilterForm, DecisionForm, ReturnForm

CLAIM_READERS = (*ANALYSTS, *APPROVERS)
PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _claim(reference: str) -> Claim:
    return get_object_or_404(
        Claim.objects.select_related(
            "outage", "program", "customer", "assessor", "approver", "payout"
        ),
        reference=reference,
    )


@login_required
@role_required(*CLAIM_READERS)
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    filters = ClaimFilterForm(request.GET or None)
    page = Paginator(filters.apply(Claim.objects.all()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        (claim, format_cents(claim.amount_claimed_cents), _money_or_blank(claim))
        for claim in page.object_list
    ]
    return render(
        request,
        "remedy/claims/list.html",
        {"filters": filters, "page": page, "rows": rows, "query": query.urlencode()},
    )


def _money_or_blank(claim: Claim) -> str:
    cents = claim.amount_approved_cents
    return "" if cents is None else format_cents(cents)


HISTORY_WORDS = {
    "remedy.claim_submit": "submitted the claim; acknowledgement sent",
    "remedy.claim_assess": "took the claim",
    "remedy.claim_decide": "decided",
    "remedy.claim_approve": "approved the decision (second person); claimant told",
    "remedy.claim_return": "returned the decision to the analyst",
    "remedy.claims_paid": "billing confirmed the payment",
}


def _history(claim: Claim) -> list[tuple[AuditEntry, str]]:
    """The claim's audit entries, worded (a decision says what it decided)."""
    entries = AuditEntry.objects.filter(
        object_type="remedy.claim", object_id=str(claim.pk)
    ).order_by("seq")
    worded = []
    for entry in entries:
        what = HISTORY_WORDS.get(entry.action, entry.action)
        status = (entry.after or {}).get("status") if isinstance(entry.after, dict) else None
        if entry.action == "remedy.claim_decide" and status:
            what = f"decided: {ClaimStatus(status).label.lower()}"
        worded.append((entry, what))
    return worded


def _detail_context(request: HttpRequest, claim: Claim) -> dict[str, Any]:
    user = request.user
    pending = claim.status == ClaimStatus.PENDING_APPROVAL
    payout = getattr(claim, "payout", None)
    money = {
        "claimed": format_cents(claim.amount_claimed_cents),
        "approved": _money_or_blank(claim),
        "payout": format_cents(payout.amount_cents) if payout else "",
    }
    return {
        "claim": claim,
        "money": money,
        "evidence": list(claim.evidence.order_by("uploaded_at", "id")),
        "history": _history(claim),
        "payout": payout,
        "can_assess": has_role(user, *ANALYSTS) and claim.status == ClaimStatus.SUBMITTED,
        "can_decide": has_role(user, *ANALYSTS) and claim.status in claim_decisions.UNDECIDED,
        "can_approve": has_role(user, *APPROVERS) and pending and claim.assessor_id != user.pk,
        "own_decision": pending and claim.assessor_id == user.pk,
        "threshold": format_cents(settings.AMENDS_CLAIM_APPROVAL_THRESHOLD * 100),
    }


@login_required
@role_required(*CLAIM_READERS)
@require_GET
def claim_detail(request: HttpRequest, reference: str) -> HttpResponse:
    claim = _claim(reference)
    context = _detail_context(request, claim)
    context |= {"decision": DecisionForm(claim=claim), "return_form": ReturnForm()}
    return render(request, "remedy/claims/detail.html", context)


@login_required
@role_required(*CLAIM_READERS)
@require_GET
def claim_evidence(request: HttpRequest, reference: str, evidence_id: int) -> HttpResponse:
    """One evidence file, as a download (never shown inline), audited. Files are at most
    AMENDS_CLAIM_MAX_FILE_MB, so they are read whole."""
    evidence = get_object_or_404(ClaimEvidence, pk=evidence_id, claim__reference=reference)
    audit.record(
        request.user,
        "remedy.claim_evidence_download",
        evidence,
        after={"claim": reference, "sha256": evidence.sha256},
    )
    with evidence.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type=evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=evidence.original_name
    )
    return response


def _done(request: HttpRequest, claim: Claim, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("remedy:claim", reference=claim.reference)


def _refused(request: HttpRequest, claim: Claim, exc: AmendsError) -> HttpResponse:
    messages.error(request, exc.message[:1].upper() + exc.message[1:] + ".")
    return redirect("remedy:claim", reference=claim.reference)


@login_required
@role_required(*ANALYSTS)
@require_POST
def claim_assess(request: HttpRequest, reference: str) -> HttpResponse:
    claim = _claim(reference)
    try:
        claim_decisions.claim_assess(actor=_user(request), claim=claim)
    except AmendsError as exc:
        return _refused(request, claim, exc)
    return _done(request, claim, f"You are assessing {claim.reference}.")


DECIDED_MESSAGES = {
    ClaimStatus.PENDING_APPROVAL: "Decision recorded: above {threshold}, a second person with "
    "the approver role must approve it before the claimant is told.",
    ClaimStatus.DECLINED: "Declined; the claimant is being told the reasons.",
    ClaimStatus.APPROVED: "Approved; the payout is waiting in {program} and the claimant is "
    "being told.",
    ClaimStatus.PARTLY_APPROVED: "Partly approved; the payout is waiting in {program} and the "
    "claimant is being told.",
}


@login_required
@role_required(*ANALYSTS)
@require_POST
def claim_decide(request: HttpRequest, reference: str) -> HttpResponse:
    claim = _claim(reference)
    form = DecisionForm(request.POST, claim=claim)
    if form.is_valid():
        try:
            claim = claim_decisions.claim_decide(
                actor=_user(request), claim=claim, **form.decide_arguments()
            )
        except AmendsError as exc:
            form.add_amends_error(exc)
        else:
            message = DECIDED_MESSAGES[ClaimStatus(claim.status)].format(
                threshold=format_cents(settings.AMENDS_CLAIM_APPROVAL_THRESHOLD * 100),
                program=claim.program.reference if claim.program else "",
            )
            return _done(request, claim, message)
    context = {**_detail_context(request, claim), "decision": form, "return_form": ReturnForm()}
    return render(request, "remedy/claims/detail.html", context, status=400)


@login_required
@role_required(*APPROVERS)
@require_POST
def claim_approve(request: HttpRequest, reference: str) -> HttpResponse:
    claim = _claim(reference)
    try:
        claim = claim_decisions.claim_approve(actor=_user(request), claim=claim)
    except AmendsError as exc:
        return _refused(request, claim, exc)
    return _done(request, claim, "Approved; the payout is waiting and the claimant is being told.")


@login_required
@role_required(*APPROVERS)
@require_POST
def claim_return(request: HttpRequest, reference: str) -> HttpResponse:
    claim = _claim(reference)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            claim_decisions.claim_return(
                actor=_user(request), claim=claim, note=form.cleaned_data["note"]
            )
        except AmendsError as exc:
            form.add_amends_error(exc)
        else:
            return _done(request, claim, "Returned to the analyst with your note.")
    context = {**_detail_context(request, claim), "decision": DecisionForm(claim=claim)}
    context["return_form"] = form
    return render(request, "remedy/claims/detail.html", context, status=400)


urlpatterns = [
    path("claims/", claim_list, name="claims"),
    path("claims/<str:reference>/", claim_detail, name="claim"),
    path(
        "claims/<str:reference>/evidence/<int:evidence_id>/",
        claim_evidence,
        name="claim-evidence",
    ),
    path("claims/<str:reference>/assess/", claim_assess, name="claim-assess"),
    path("claims/<str:reference>/decide/", claim_decide, name="claim-decide"),
    path("claims/<str:reference>/approve/", claim_approve, name="claim-approve"),
    path("claims/<str:reference>/return/", claim_return, name="claim-return"),
]
