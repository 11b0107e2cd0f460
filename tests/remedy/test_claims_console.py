"""The claims queue in the console from three angles (a remediation analyst who decides, an
approver who seconds large decisions, a viewer and a stranger who may not look), evidence
downloads (staff only, audited) and the claims API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.core.models import AuditEntry
from amends.core.tokens import token_create
from amends.outages.models import Outage
from amends.remedy.models import Claim, ClaimStatus, Payout, Program
from amends.remedy.services import claims
from tests.factories import Operator
from tests.remedy.conftest import PASSWORD, hours, outage_row, program, window

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AMENDS_CLAIM_APPROVAL_THRESHOLD = 1000


@pytest.fixture
def outage(op: Operator) -> Outage:
    started = timezone.now() - hours(30)
    found = outage_row(title="Exchange fire", started_at=started)
    for service_id in ("S1", "S3", "S6"):
        window(found, op.services[service_id], started, started + hours(20))
    return found


def claim_for(
    outage: Outage, *, account: str = "C2", postcode: str = "2000", cents: int = 50000
) -> Claim:
    details = claims.ClaimDetails(
        account_number=account,
        postcode=postcode,
        business_name=f"Business {account}",
        contact_name="Mia Chen",
        email="mia@example.com",
        phone="+61299990000",
        outage=outage,
        description="Lost a day of sales.",
        amount_claimed_cents=cents,
    )
    return claims.claim_submit(
        details=details, evidence=[SimpleUploadedFile("till-roll.pdf", PDF, "application/pdf")]
    )


def signed_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def paying(analyst: User, outage: Outage) -> Program:
    return program(analyst, [outage], name="Exchange fire remediation")


def test_strangers_and_viewers_cannot_look(viewer: User, outage: Outage) -> None:
    claim = claim_for(outage)
    evidence = claim.evidence.get()
    pages = [
        reverse("remedy:claims"),
        reverse("remedy:claim", args=[claim.reference]),
        reverse("remedy:claim-evidence", args=[claim.reference, evidence.pk]),
    ]
    for page in pages:
        assert Client().get(page)["Location"].startswith(reverse("login"))
        assert signed_in(viewer).get(page).status_code == 403
    assert (
        signed_in(viewer).post(reverse("remedy:claim-assess", args=[claim.reference])).status_code
        == 403
    )
    assert not AuditEntry.objects.filter(action="remedy.claim_evidence_download").exists()


def test_the_queue_filters_by_status_outage_and_age(analyst: User, outage: Outage) -> None:
    old, new = claim_for(outage), claim_for(outage, account="C5", postcode="3000")
    Claim.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    Claim.objects.filter(pk=new.pk).update(status=ClaimStatus.DECLINED)
    client = signed_in(analyst)

    def listed(**query: str) -> set[str]:
        html = client.get(reverse("remedy:claims"), query).content.decode()
        return {ref for ref in (old.reference, new.reference) if ref in html}

    assert listed() == {old.reference, new.reference}
    assert listed(status="open") == {old.reference}
    assert listed(status="declined") == {new.reference}
    assert listed(age="7") == {old.reference}
    assert listed(outage=outage.reference.lower()) == {old.reference, new.reference}
    assert listed(outage="OUT-1999-0001") == set()


def test_evidence_download_is_an_audited_attachment(analyst: User, outage: Outage) -> None:
    claim = claim_for(outage)
    evidence = claim.evidence.get()
    client = signed_in(analyst)
    detail = client.get(reverse("remedy:claim", args=[claim.reference])).content.decode()
    assert "till-roll.pdf" in detail and "Lost a day of sales." in detail
    response = client.get(reverse("remedy:claim-evidence", args=[claim.reference, evidence.pk]))
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="till-roll.pdf"'
    entry = AuditEntry.objects.get(action="remedy.claim_evidence_download")
    assert (entry.actor, entry.after["sha256"]) == ("ana", evidence.sha256)
    other = claim_for(outage)
    wrong = reverse("remedy:claim-evidence", args=[other.reference, evidence.pk])
    assert client.get(wrong).status_code == 404  # a file is reached only through its claim


def test_analyst_takes_and_decides_with_field_errors_first(
    analyst: User, outage: Outage, paying: Program
) -> None:
    claim = claim_for(outage)
    client = signed_in(analyst)
    page = reverse("remedy:claim", args=[claim.reference])
    client.post(reverse("remedy:claim-assess", args=[claim.reference]))
    assert "You are assessing" in client.get(page).content.decode()

    decide = reverse("remedy:claim-decide", args=[claim.reference])
    refused = client.post(
        decide,
        {
            "outcome": "partly_approved",
            "amount": "900",
            "program": paying.reference,
            "reasons": "x",
        },
    )
    assert refused.status_code == 400
    assert "a partial approval is more than $0 and less than the $500.00 claimed" in (
        refused.content.decode()
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ASSESSING and not Payout.objects.exists()

    done = client.post(
        decide,
        {
            "outcome": "partly_approved",
            "amount": "200.00",
            "program": paying.reference,
            "reasons": "Only Monday's sales are shown.",
        },
        follow=True,
    )
    assert "Partly approved; the payout is waiting in" in done.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PARTLY_APPROVED
    assert Payout.objects.get(claim=claim).amount_cents == 20000


def test_four_eyes_in_the_console(
    analyst: User, approver: User, outage: Outage, paying: Program
) -> None:
    claim = claim_for(outage, cents=250000)
    analyst_client, approver_client = signed_in(analyst), signed_in(approver)
    analyst_client.post(
        reverse("remedy:claim-decide", args=[claim.reference]),
        {"outcome": "approved", "program": paying.reference, "reasons": "Invoices check out."},
    )
    page = reverse("remedy:claim", args=[claim.reference])
    own = analyst_client.get(page).content.decode()
    assert "You decided this claim" in own and "Approve and tell the claimant" not in own
    assert "Approve and tell the claimant" in approver_client.get(page).content.decode()

    returned = approver_client.post(reverse("remedy:claim-return", args=[claim.reference]), {})
    assert returned.status_code == 400 and "This field is required." in returned.content.decode()
    approved = approver_client.post(
        reverse("remedy:claim-approve", args=[claim.reference]), follow=True
    )
    assert "Approved; the payout is waiting" in approved.content.decode()
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED and claim.approver == approver
    again = approver_client.post(
        reverse("remedy:claim-approve", args=[claim.reference]), follow=True
    )
    assert "is approved" in again.content.decode()  # a clear message, not an error page


def api(user: User, scopes: tuple[str, ...] = ("remedy:read", "remedy:write")) -> dict[str, str]:
    _token, secret = token_create(
        actor="test", name=f"t-{user.username}", username=user.username, scopes=list(scopes)
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_claims_api(analyst: User, viewer: User, outage: Outage, paying: Program) -> None:
    claim = claim_for(outage)
    client = Client()
    listed = client.get("/api/v1/claims?status=open", **api(analyst)).json()
    assert [c["reference"] for c in listed["items"]] == [claim.reference]
    assert listed["items"][0]["customer"] == "C2" and listed["items"][0]["program"] is None
    detail = client.get(f"/api/v1/claims/{claim.reference}", **api(analyst)).json()
    assert detail["evidence"][0]["content_type"] == "application/pdf"
    assert client.get(f"/api/v1/claims/{claim.reference}", **api(viewer)).status_code == 403
    outages_token = api(analyst, ("outages:read", "outages:write"))
    refused = client.get(f"/api/v1/claims/{claim.reference}", **outages_token)
    assert refused.status_code == 403 and "'remedy:read'" in refused.json()["detail"]

    bad = client.post(
        f"/api/v1/claims/{claim.reference}/decide",
        {"outcome": "approved", "reasons": "ok"},
        content_type="application/json",
        **api(analyst),
    )
    assert bad.status_code == 400 and bad.json()["field"] == "program"
    decided = client.post(
        f"/api/v1/claims/{claim.reference}/decide",
        {"outcome": "approved", "reasons": "ok", "program": paying.reference},
        content_type="application/json",
        **api(analyst),
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "approved" and decided.json()["program"] == paying.reference
    missing = client.get("/api/v1/claims/CLM-1999-00001", **api(analyst))
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
