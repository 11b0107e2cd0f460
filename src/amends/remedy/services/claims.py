"""Consequential-loss claims from the public form: matching the claimant to an affected business
account, checking and storing the evidence, the per-client rate limit, the claim reference, and
the answers the claimant gets through the communications pipeline.

Assessment and decisions are in ``claim_decisions``. The public form never learns whether an
account exists: every failure to match gives the same ``NO_MATCH`` message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import filetype
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from amends.comms.models import Notice
from amends.comms.services import notice_create, notice_submit
from amends.core import audit
from amends.core.errors import AmendsError
from amends.core.money import format_cents
from amends.core.references import create_with_reference
from amends.core.roles import Role
from amends.network.models import Customer, Segment
from amends.outages.models import Impact, Outage
from amends.remedy.models import Claim, ClaimAttempt, ClaimEvidence

NO_MATCH = (
    "We could not match these details. Check the account number and the postcode of the "
    "service address as they appear on your bill, and the outage you chose."
)
CLAIMING_SEGMENTS = (Segment.SMALL_BUSINESS, Segment.ENTERPRISE)
# Sniffed type → the extension the stored file gets. Nothing else is accepted.
EVIDENCE_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
}
SNIFF_BYTES = 8192  # more than any of these formats needs to be recognised
MAX_CLAIM_CENTS = 100_000_000_00  # $100 million: anything above is a typing mistake
CLAIMS_DESK = "claims-desk"  # the account that sends claimants their answers
RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ClaimDetails:
    """What the claimant typed, already parsed (the form or API checks formats)."""

    account_number: str
    postcode: str
    business_name: str
    contact_name: str
    email: str
    phone: str
    outage: Outage
    description: str
    amount_claimed_cents: int


@dataclass(frozen=True)
class CheckedEvidence:
    upload: UploadedFile[bytes]
    content_type: str
    extension: str


# Reads used by the form ----------------------------------------------------------------------


def claimable_outages(*, now: datetime | None = None) -> QuerySet[Outage]:
    """Outages a claim can be made for: public ones that started within the claim window."""
    since = (now or timezone.now()) - timedelta(days=settings.AMENDS_CLAIM_OUTAGE_DAYS)
    return (
        Outage.objects.exclude(reference__startswith="PREVIEW-")
        .filter(started_at__gte=since)
        .order_by("-started_at", "-id")
    )


def max_file_bytes() -> int:
    return int(settings.AMENDS_CLAIM_MAX_FILE_MB) * 1024 * 1024


# Evidence ------------------------------------------------------------------------------------


def _sniffed_type(upload: UploadedFile[bytes]) -> str | None:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head) if head else None
    mime = kind.mime if kind is not None else None
    return mime if mime in EVIDENCE_TYPES else None


def check_evidence(files: Sequence[UploadedFile[bytes]]) -> list[CheckedEvidence]:
    """Each file's type from its content (never its name or the browser's word for it) and its
    size, against the limits in settings. Raises one error naming every file that fails."""
    most = settings.AMENDS_CLAIM_MAX_FILES
    if len(files) > most:
        raise AmendsError(f"attach at most {most} files (you chose {len(files)})", field="evidence")
    problems: list[str] = []
    checked: list[CheckedEvidence] = []
    for upload in files:
        name = upload.name or "a file"
        size = upload.size or 0
        mime = _sniffed_type(upload) if 0 < size <= max_file_bytes() else None
        if size == 0:
            problems.append(f"{name} is empty")
        elif size > max_file_bytes():
            problems.append(
                f"{name} is {size / 1048576:.1f} MB; each file may be at most "
                f"{settings.AMENDS_CLAIM_MAX_FILE_MB} MB"
            )
        elif mime is None:
            problems.append(f"{name} is not a PDF, JPEG, PNG or HEIC file")
        else:
            checked.append(CheckedEvidence(upload, mime, EVIDENCE_TYPES[mime]))
    if problems:
        raise AmendsError("; ".join(problems), field="evidence")
    return checked


def _store_evidence(claim: Claim, item: CheckedEvidence) -> ClaimEvidence:
    """Save under a random name (the claimant's name is kept only as text) with its SHA-256."""
    digest = hashlib.sha256()
    for chunk in item.upload.chunks():
        digest.update(chunk)
    item.upload.seek(0)
    evidence = ClaimEvidence(
        claim=claim,
        original_name=(item.upload.name or "evidence")[:255],
        content_type=item.content_type,
        size=item.upload.size or 0,
        sha256=digest.hexdigest(),
    )
    evidence.file.save(f"{secrets.token_hex(16)}.{item.extension}", item.upload, save=True)
    return evidence


# Rate limit ----------------------------------------------------------------------------------


def client_key(address: str) -> str:
    """A keyed hash of the client address: enough to count, useless to anyone reading it."""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def claim_attempt_allow(*, client_address: str, now: datetime | None = None) -> bool:
    """Count one submission from this client; False (and not counted) over the hourly limit.

    Bookkeeping for the limiter, like a session row, not a change to any claim: not audited.
    Two simultaneous requests may both pass at the limit; one extra attempt is harmless.
    """
    now = now or timezone.now()
    key = client_key(client_address)
    with transaction.atomic():
        ClaimAttempt.objects.filter(at__lt=now - RATE_WINDOW).delete()
        recent = ClaimAttempt.objects.filter(client=key, at__gte=now - RATE_WINDOW).count()
        if recent >= settings.AMENDS_CLAIM_ATTEMPTS_PER_HOUR:
            return False
        ClaimAttempt.objects.create(client=key, at=now)
    return True


# Submission ----------------------------------------------------------------------------------


def _matched_customer(details: ClaimDetails) -> Customer | None:
    """The business account with this number that had a service at this postcode in the
    outage; None for every other case alike (unknown, wrong postcode, consumer, unaffected)."""
    affected_here = Impact.objects.filter(
        outage=details.outage, customer=OuterRef("pk"), service__postcode=details.postcode
    )
    return (
        Customer.objects.filter(external_id=details.account_number, segment__in=CLAIMING_SEGMENTS)
        .filter(Exists(affected_here))
        .first()
    )


def _check_details(details: ClaimDetails) -> None:
    if not 0 < details.amount_claimed_cents <= MAX_CLAIM_CENTS:
        raise AmendsError(
            f"the amount must be more than $0 and at most {format_cents(MAX_CLAIM_CENTS)}",
            field="amount_claimed",
        )
    if not claimable_outages().filter(pk=details.outage.pk).exists():
        raise AmendsError("choose one of the outages listed", field="outage")


def claim_submit(*, details: ClaimDetails, evidence: Sequence[UploadedFile[bytes]]) -> Claim:
    """Store a claim and its evidence and acknowledge it to the claimant, or change nothing.

    Files are written inside the transaction; if anything fails they are deleted again.
    """
    _check_details(details)
    checked = check_evidence(evidence)
    customer = _matched_customer(details)
    if customer is None:
        raise AmendsError(NO_MATCH)
    stored: list[ClaimEvidence] = []
    try:
        with transaction.atomic():
            claim = create_with_reference(
                Claim,
                f"CLM-{timezone.localdate().year}-",
                digits=5,
                customer=customer,
                outage=details.outage,
                account_number=details.account_number,
                postcode=details.postcode,
                business_name=details.business_name,
                contact_name=details.contact_name,
                email=details.email,
                phone=details.phone,
                description=details.description,
                amount_claimed_cents=details.amount_claimed_cents,
            )
            for item in checked:
                stored.append(_store_evidence(claim, item))
            notice = claim_answer(claim, acknowledgement_text(claim, len(stored)))
            audit.record(
                "claim form",
                "remedy.claim_submit",
                claim,
                after={
                    "reference": claim.reference,
                    "customer": customer.external_id,
                    "outage": details.outage.reference,
                    "amount_claimed_cents": claim.amount_claimed_cents,
                    "evidence": [
                        {"sha256": e.sha256, "size": e.size, "type": e.content_type} for e in stored
                    ],
                    "notice": notice.pk,
                },
            )
    except BaseException:
        for saved in stored:
            if saved.file.name:
                saved.file.storage.delete(saved.file.name)
        raise
    return claim


# Answers to the claimant ---------------------------------------------------------------------


def claims_desk() -> User:
    """The account that sends claimants their answers (communications role, no password: it
    cannot sign in). Notices need an author with a role that may write them; the analyst or
    approver behind each decision is in the audit log."""
    desk = User.objects.filter(username=CLAIMS_DESK).first()
    if desk is not None:
        return desk
    try:
        with transaction.atomic():
            desk = User(username=CLAIMS_DESK, first_name="Claims desk")
            desk.set_unusable_password()
            desk.save()
            desk.groups.add(Group.objects.get(name=Role.COMMUNICATIONS))
            audit.record(
                "system", "remedy.claims_desk_create", desk, after={"role": "communications"}
            )
    except IntegrityError:  # created by a simultaneous first claim
        return User.objects.get(username=CLAIMS_DESK)
    return desk


def claim_answer(claim: Claim, message: str) -> Notice:
    """Tell the claimant ``message`` through the pipeline (a custom notice to their account)."""
    assert claim.customer is not None  # every stored claim was matched to an account
    desk = claims_desk()
    notice = notice_create(
        actor=desk,
        kind="custom",
        audience="list",
        outage=claim.outage,
        customers=[claim.customer.external_id],
        message=message,
    )
    return notice_submit(actor=desk, notice=notice)


def acknowledgement_text(claim: Claim, files: int) -> str:
    outage = claim.outage
    about = f" about the outage {outage.reference} ({outage.title})" if outage else ""
    attached = f" with {files} file{'s' if files != 1 else ''} of evidence" if files else ""
    return (
        f"We have received your claim {claim.reference}{about} for "
        f"{format_cents(claim.amount_claimed_cents)}{attached}. We will assess it and write to "
        f"you with our decision and the reasons for it. Please quote {claim.reference} if you "
        "contact us about it."
    )
