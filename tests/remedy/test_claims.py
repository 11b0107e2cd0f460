"""The public claim form at /claims/: validation with each field's message, evidence limits and
content sniffing, nothing stored on bad input, the per-client rate limit, matching without
revealing accounts, CSRF; and decisions (four eyes above the threshold) with their payout and
the notices that answer the claimant."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.comms.models import Notice, NoticeStatus
from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.remedy.models import (
    Claim,
    ClaimAttempt,
    ClaimEvidence,
    ClaimStatus,
    Payout,
    PayoutMethod,
    PayoutStatus,
    Program,
)
from amends.remedy.services import claims
from amends.remedy.services.claim_decisions import (
    claim_approve,
    claim_assess,
    claim_decide,
    claim_return,
    claims_mark_paid,
)
from tests.factories import Operator
from tests.remedy.conftest import hours, outage_row, program, window

pytestmark = pytest.mark.django_db

FORM = reverse("claims:form")
DETAILS: dict[str, Any] = {
    "account_number": "C2",
    "postcode": "2000",
    "business_name": "Harbour Café",
    "contact_name": "Mia Chen",
    "email": "mia@harbour.example",
    "phone": "+61299990000",
    "description": "Lost sales.",
    "amount_claimed_cents": 125000,
}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def threshold(settings: Any) -> None:
    """Claims up to $5,000 need one person (the tests of four eyes lower it)."""
    settings.AMENDS_CLAIM_APPROVAL_THRESHOLD = 5000


@pytest.fixture
def outage(op: Operator) -> Outage:
    """A recent outage: C1 (consumer), C2 (small business, 2000) and C3 out; C5 (enterprise,
    3000) is not in it."""
    started = timezone.now() - hours(30)
    found = outage_row(title="Exchange fire in Sydney", started_at=started)
    for service_id in ("S1", "S2", "S3", "S4"):
        window(found, op.services[service_id], started, started + hours(20))
    return found


def fields(chosen: Outage, **overrides: Any) -> dict[str, Any]:
    return {
        "account_number": "C2",
        "postcode": "2000",
        "business_name": "Harbour Café",
        "contact_name": "Mia Chen",
        "email": "mia@harbour.example",
        "phone": "02 9999 0000",
        "outage": chosen.reference,
        "description": "No card payments for a day: 40 lost sales.",
        "amount_claimed": "1250.00",
        **overrides,
    }


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


def post(client: Client, data: dict[str, Any], *, ip: str = "203.0.113.5") -> Any:
    return client.post(FORM, data, REMOTE_ADDR=ip)


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def assert_nothing_stored(media: Path) -> None:
    assert not Claim.objects.exists()
    assert not ClaimEvidence.objects.exists()
    assert not Notice.objects.exists()
    assert stored_files(media) == []


# The form ------------------------------------------------------------------------------------


def test_form_lists_recent_public_outages_only(client: Client, outage: Outage) -> None:
    old = outage_row(title="Last year's cable cut", started_at=timezone.now() - timedelta(days=400))
    Outage.objects.create(
        reference="PREVIEW-abc",
        title="A preview",
        detected_at=timezone.now(),
        started_at=timezone.now(),
    )
    page = client.get(FORM)
    html = page.content.decode()
    assert page.status_code == 200
    assert outage.title in html and old.title not in html and "A preview" not in html
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert "script-src" not in page["Content-Security-Policy"]
    assert "default-src 'none'" in page["Content-Security-Policy"]


def test_a_matched_claim_is_stored_with_its_evidence_and_acknowledged(
    client: Client, outage: Outage, media: Path
) -> None:
    data = fields(
        outage,
        evidence=[upload("invoice.pdf", PDF), upload("till.png", PNG), upload("r.heic", HEIC)],
    )
    response = post(client, data)
    assert response.status_code == 302 and response["Location"] == reverse("claims:received")

    claim = Claim.objects.get()
    year = timezone.localdate().year
    assert claim.reference == f"CLM-{year}-00001"
    assert claim.customer == Customer.objects.get(external_id="C2")
    assert (claim.outage, claim.amount_claimed_cents) == (outage, 125000)
    assert claim.phone == "+61299990000" and claim.status == ClaimStatus.SUBMITTED

    evidence = {e.original_name: e for e in claim.evidence.all()}
    assert {n: e.content_type for n, e in evidence.items()} == {
        "invoice.pdf": "application/pdf",
        "till.png": "image/png",
        "r.heic": "image/heic",
    }
    pdf = evidence["invoice.pdf"]
    on_disk = media / pdf.file.name
    assert on_disk.read_bytes() == PDF and pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert on_disk.parent.parent.parent.name == "claims"
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", on_disk.name)  # random, not the claimant's name
    assert len(stored_files(media)) == 3

    notice = Notice.objects.get()
    assert (notice.kind, notice.audience, notice.audience_list) == ("custom", "list", ["C2"])
    assert notice.status == NoticeStatus.SENDING and notice.author.username == claims.CLAIMS_DESK
    assert claim.reference in notice.message and "$1,250.00" in notice.message
    entry = AuditEntry.objects.get(action="remedy.claim_submit")
    assert entry.after["notice"] == notice.pk and len(entry.after["evidence"]) == 3

    answer = client.get(reverse("claims:received"))
    assert claim.reference in answer.content.decode()


def test_the_answer_page_needs_a_claim_of_this_session(client: Client) -> None:
    assert client.get(reverse("claims:received"))["Location"] == FORM


def test_bad_input_shows_every_field_message_and_stores_nothing(
    client: Client, outage: Outage, media: Path
) -> None:
    data = fields(
        outage,
        account_number="",
        postcode="20",
        email="not-an-email",
        phone="12",
        amount_claimed="12.345",
        outage="OUT-1999-0001",
        evidence=[upload("invoice.pdf", PDF)],
    )
    response = post(client, data)
    html = response.content.decode()
    assert response.status_code == 400
    for message in (
        "This field is required.",
        "Enter the 4-digit postcode, like 2650",
        "Enter a valid email address.",
        "Enter a phone number, like 02 9999 0000",
        "Enter an amount in dollars and cents, like 1250.00",
        "Select a valid choice.",
    ):
        assert message in html, message
    assert 'aria-describedby="id_postcode_error"' in html
    assert 'value="Harbour Café"' in html  # what was typed is kept
    assert "We did not keep the files you chose: choose them again" in html
    assert_nothing_stored(media)


def test_files_are_judged_by_their_content_not_their_name(
    client: Client, outage: Outage, media: Path
) -> None:
    disguised = upload("invoice.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
    response = post(client, fields(outage, evidence=[upload("ok.png", PNG), disguised]))
    assert response.status_code == 400
    assert "invoice.pdf is not a PDF, JPEG, PNG or HEIC file" in response.content.decode()
    assert_nothing_stored(media)

    response = post(client, fields(outage, evidence=[upload("photo.txt", JPEG, "text/plain")]))
    assert response.status_code == 302
    evidence = ClaimEvidence.objects.get()
    assert evidence.content_type == "image/jpeg" and evidence.file.name.endswith(".jpg")


def test_upload_limits(client: Client, outage: Outage, media: Path, settings: Any) -> None:
    settings.AMENDS_CLAIM_MAX_FILE_MB = 1
    settings.AMENDS_CLAIM_MAX_FILES = 2
    big = upload("scan.pdf", PDF + b"0" * (1024 * 1024))
    response = post(client, fields(outage, evidence=[big]))
    assert response.status_code == 400
    assert "scan.pdf is 1.0 MB; each file may be at most 1 MB" in response.content.decode()

    three = [upload(f"{n}.png", PNG) for n in "abc"]
    response = post(client, fields(outage, evidence=three))
    assert "attach at most 2 files (you chose 3)" in response.content.decode()

    empty = post(client, fields(outage, evidence=[upload("blank.pdf", b"")]))
    assert "blank.pdf is empty" in empty.content.decode()
    assert_nothing_stored(media)


def test_a_body_larger_than_every_file_together_is_refused_unread(
    client: Client, outage: Outage, media: Path, settings: Any
) -> None:
    settings.AMENDS_CLAIM_MAX_FILE_MB = 1
    settings.AMENDS_CLAIM_MAX_FILES = 1
    huge = [upload("a.pdf", PDF + b"0" * (1024 * 1024)), upload("b.pdf", PDF + b"0" * 1_500_000)]
    response = post(client, fields(outage, evidence=huge))
    assert response.status_code == 413
    assert "Your files are too large together" in response.content.decode()
    assert_nothing_stored(media)
    assert not ClaimAttempt.objects.exists()  # refused before it counted


@pytest.mark.parametrize(
    "overrides",
    [
        {"account_number": "NOPE-42"},  # no such account
        {"postcode": "2650"},  # the business's service is not at this postcode
        {"account_number": "C1"},  # a consumer: credited automatically
        {"account_number": "C5", "postcode": "3000"},  # a business, but not in this outage
    ],
)
def test_details_that_do_not_match_get_one_message_and_store_nothing(
    client: Client, outage: Outage, media: Path, overrides: dict[str, str]
) -> None:
    response = post(client, fields(outage, evidence=[upload("a.pdf", PDF)], **overrides))
    html = response.content.decode()
    assert response.status_code == 400
    assert "We could not match these details." in html
    assert "Customer C" not in html  # nothing from our records
    assert_nothing_stored(media)


def test_rate_limit_per_client(client: Client, outage: Outage, settings: Any) -> None:
    settings.AMENDS_CLAIM_ATTEMPTS_PER_HOUR = 2
    bad = fields(outage, account_number="guess-1")
    assert post(client, bad).status_code == 400
    assert post(client, bad).status_code == 400
    refused = post(client, fields(outage))
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "many claims from your connection" in refused.content.decode()
    assert not Claim.objects.exists()
    assert post(client, fields(outage), ip="198.51.100.7").status_code == 302  # another client
    assert ClaimAttempt.objects.exclude(client__contains="203.0.113.5").count() == 3  # hashed


def test_rate_limit_window_slides(settings: Any) -> None:
    settings.AMENDS_CLAIM_ATTEMPTS_PER_HOUR = 1
    then = timezone.now() - timedelta(minutes=61)
    assert claims.claim_attempt_allow(client_address="192.0.2.1", now=then)
    assert claims.claim_attempt_allow(client_address="192.0.2.1")
    assert not claims.claim_attempt_allow(client_address="192.0.2.1")
    assert ClaimAttempt.objects.count() == 1  # the old attempt was purged


def test_proxy_header_names_the_client(client: Client, outage: Outage, settings: Any) -> None:
    settings.AMENDS_CLAIM_ATTEMPTS_PER_HOUR = 1
    settings.AMENDS_CLIENT_IP_HEADER = "X-Forwarded-For"
    bad = fields(outage, account_number="guess")
    first = client.post(FORM, bad, HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.10")
    other = client.post(FORM, bad, HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.11")
    again = client.post(FORM, bad, HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.10")
    assert (first.status_code, other.status_code, again.status_code) == (400, 400, 429)


def test_csrf_is_required(outage: Outage, media: Path) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(FORM, fields(outage, evidence=[upload("a.pdf", PDF)]))
    assert response.status_code == 403
    assert_nothing_stored(media)


def test_a_submission_that_fails_midway_leaves_no_file_behind(outage: Outage, media: Path) -> None:
    Group.objects.filter(name="communications").delete()  # the answer cannot be sent
    details = claims.ClaimDetails(**{**DETAILS, "outage": outage})
    with pytest.raises(Group.DoesNotExist):
        claims.claim_submit(details=details, evidence=[upload("a.pdf", PDF), upload("b.png", PNG)])
    assert_nothing_stored(media)


def test_references_count_up(client: Client, outage: Outage) -> None:
    post(client, fields(outage))
    post(client, fields(outage, account_number="C2", amount_claimed="10"))
    year = timezone.localdate().year
    assert list(Claim.objects.values_list("reference", flat=True)) == [
        f"CLM-{year}-00001",
        f"CLM-{year}-00002",
    ]


# Decisions -----------------------------------------------------------------------------------


def submitted(outage: Outage, *, amount_cents: int = 125000) -> Claim:
    details = {**DETAILS, "outage": outage, "amount_claimed_cents": amount_cents}
    return claims.claim_submit(details=claims.ClaimDetails(**details), evidence=[])


@pytest.fixture
def paying(analyst: User, outage: Outage) -> Program:
    return program(analyst, [outage])


def decision_notice(claim: Claim) -> Notice:
    return Notice.objects.filter(message__contains=claim.reference).latest("id")


def test_approval_within_the_threshold_pays_and_answers(
    analyst: User, outage: Outage, paying: Program
) -> None:
    claim = claim_assess(actor=analyst, claim=submitted(outage))
    assert claim.status == ClaimStatus.ASSESSING and claim.assessor == analyst
    claim = claim_decide(
        actor=analyst,
        claim=claim,
        outcome="approved",
        reasons="Card terminal logs confirm a full day without payments",
        program=paying,
    )
    assert claim.status == ClaimStatus.APPROVED and claim.amount_approved_cents == 125000
    payout = Payout.objects.get(claim=claim)
    assert (payout.program, payout.customer, payout.amount_cents) == (
        paying,
        claim.customer,
        125000,
    )
    assert (payout.method, payout.status) == (PayoutMethod.BILL_CREDIT, PayoutStatus.PENDING)
    notice = decision_notice(claim)
    assert "approved it in full: $1,250.00" in notice.message
    assert "Card terminal logs confirm a full day without payments." in notice.message
    assert notice.status == NoticeStatus.SENDING
    decided = AuditEntry.objects.get(action="remedy.claim_decide")
    assert decided.after["payout"] == payout.pk and decided.before["status"] == "assessing"


def test_partial_approval_and_decline(analyst: User, outage: Outage, paying: Program) -> None:
    part = claim_decide(
        actor=analyst,
        claim=submitted(outage),
        outcome="partly_approved",
        amount_cents=40000,
        reasons="Only the sales on the day of the outage are shown.",
        program=paying,
    )
    assert part.status == ClaimStatus.PARTLY_APPROVED
    assert Payout.objects.get(claim=part).amount_cents == 40000
    assert "approved $400.00 of the $1,250.00 you claimed" in decision_notice(part).message

    no = claim_decide(
        actor=analyst, claim=submitted(outage), outcome="declined", reasons="No loss is shown."
    )
    assert no.status == ClaimStatus.DECLINED and not Payout.objects.filter(claim=no).exists()
    message = decision_notice(no).message
    assert "unable to approve it" in message and "No loss is shown." in message


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"outcome": "approved", "reasons": " "}, "reasons"),
        ({"outcome": "maybe", "reasons": "x"}, "outcome"),
        ({"outcome": "approved", "reasons": "x"}, "program"),  # no program to pay it
        ({"outcome": "partly_approved", "reasons": "x", "amount_cents": 125000}, "amount"),
        ({"outcome": "partly_approved", "reasons": "x", "amount_cents": 0}, "amount"),
        ({"outcome": "approved", "reasons": "x", "amount_cents": 5}, "amount"),
        ({"outcome": "approved", "reasons": "x", "method": "residual"}, "method"),
    ],
)
def test_a_bad_decision_changes_nothing(
    analyst: User, outage: Outage, paying: Program, arguments: dict[str, Any], field: str
) -> None:
    claim = submitted(outage)
    notices = Notice.objects.count()
    if field != "program":
        arguments = {"program": paying, **arguments}
    with pytest.raises(AmendsError) as refused:
        claim_decide(actor=analyst, claim=claim, **arguments)
    assert refused.value.field == field
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED and claim.decision_reasons == ""
    assert not Payout.objects.exists() and Notice.objects.count() == notices


def test_the_program_must_cover_the_outage(analyst: User, outage: Outage) -> None:
    elsewhere = outage_row(title="Elsewhere", started_at=timezone.now())
    with pytest.raises(AmendsError, match="does not cover outage"):
        claim_decide(
            actor=analyst,
            claim=submitted(outage),
            outcome="approved",
            reasons="ok",
            program=program(analyst, [elsewhere]),
        )


def test_large_approvals_need_a_second_person(
    analyst: User, approver: User, viewer: User, outage: Outage, paying: Program, settings: Any
) -> None:
    settings.AMENDS_CLAIM_APPROVAL_THRESHOLD = 1000
    claim = submitted(outage)
    notices = Notice.objects.count()
    claim = claim_decide(
        actor=analyst, claim=claim, outcome="approved", reasons="ok", program=paying
    )
    assert claim.status == ClaimStatus.PENDING_APPROVAL
    assert not Payout.objects.exists() and Notice.objects.count() == notices  # not told yet

    with pytest.raises(AmendsError, match="no role"):
        claim_approve(actor=viewer, claim=claim)
    with pytest.raises(AmendsError, match="no role"):
        claim_approve(actor=analyst, claim=claim)
    claim = claim_return(actor=approver, claim=claim, note="Ask for the bank statement.")
    assert claim.status == ClaimStatus.ASSESSING
    with pytest.raises(Conflict):
        claim_approve(actor=approver, claim=claim)

    claim = claim_decide(
        actor=analyst,
        claim=claim,
        outcome="approved",
        reasons="Statement shows it.",
        program=paying,
    )
    claim = claim_approve(actor=approver, claim=claim)
    assert claim.status == ClaimStatus.APPROVED and claim.approver == approver
    assert Payout.objects.get(claim=claim).amount_cents == 125000
    assert "Statement shows it." in decision_notice(claim).message
    actions = list(
        AuditEntry.objects.filter(object_type="remedy.claim").values_list("action", flat=True)
    )
    assert actions == [
        "remedy.claim_submit",
        "remedy.claim_decide",
        "remedy.claim_return",
        "remedy.claim_decide",
        "remedy.claim_approve",
    ]


def test_an_approver_cannot_second_their_own_decision(
    outage: Outage, paying: Program, settings: Any
) -> None:
    from tests.remedy.conftest import staff

    settings.AMENDS_CLAIM_APPROVAL_THRESHOLD = 0
    admin = staff("root", "admin")
    claim = claim_decide(
        actor=admin, claim=submitted(outage), outcome="approved", reasons="ok", program=paying
    )
    with pytest.raises(AmendsError, match="second person"):
        claim_approve(actor=admin, claim=claim)


def test_former_customers_are_refunded(analyst: User, outage: Outage, paying: Program) -> None:
    Customer.objects.filter(external_id="C2").update(is_former=True, payment_reference="BSB-1")
    claim = submitted(outage)
    with pytest.raises(AmendsError, match="no bill to credit"):
        claim_decide(
            actor=analyst,
            claim=claim,
            outcome="approved",
            reasons="ok",
            program=paying,
            method="bill_credit",
        )
    claim_decide(actor=analyst, claim=claim, outcome="approved", reasons="ok", program=paying)
    payout = Payout.objects.get(claim=claim)
    assert (payout.method, payout.payment_reference) == (PayoutMethod.REFUND, "BSB-1")
    assert "refund it to the payment details" in decision_notice(claim).message


def test_claims_become_paid_when_billing_confirms(
    analyst: User, outage: Outage, paying: Program
) -> None:
    claim = claim_decide(
        actor=analyst, claim=submitted(outage), outcome="approved", reasons="ok", program=paying
    )
    assert claims_mark_paid(actor="billing", program=paying) == 0
    Payout.objects.filter(claim=claim).update(status=PayoutStatus.PAID)
    assert claims_mark_paid(actor="billing", program=paying) == 1
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert AuditEntry.objects.get(action="remedy.claims_paid").after["claims"] == [claim.reference]


def test_decided_claims_cannot_be_decided_again(
    analyst: User, outage: Outage, paying: Program
) -> None:
    claim = claim_decide(actor=analyst, claim=submitted(outage), outcome="declined", reasons="no")
    with pytest.raises(Conflict, match="declined"):
        claim_decide(actor=analyst, claim=claim, outcome="approved", reasons="ok", program=paying)
