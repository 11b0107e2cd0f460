"""/api/v1/remedy/programs/{ref}/…: review, four-eyes, export download, confirmation upload."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from amends.core.tokens import token_create
from amends.remedy.models import Payout, PayoutStatus
from tests.remedy.payments_support import approved, calculated

pytestmark = pytest.mark.django_db


def api(
    username: str, scopes: tuple[str, ...] = ("remedy:read", "remedy:write")
) -> tuple[Client, dict[str, str]]:
    _, plain = token_create(
        actor="test", name=f"{username}-{len(scopes)}", username=username, scopes=list(scopes)
    )
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def test_remediation_needs_the_remedy_scopes() -> None:
    setup = calculated()
    url = f"/api/v1/remedy/programs/{setup.program.reference}"
    client, outages_only = api("ana", ("outages:read", "outages:write"))
    refused = client.get(f"{url}/review", **outages_only)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "this token lacks the 'remedy:read' scope"
    _, read_only = api("ana", ("remedy:read",))
    assert client.get(f"{url}/review", **read_only).status_code == 200
    submit = client.post(f"{url}/submit", **read_only)
    assert submit.status_code == 403 and "'remedy:write'" in submit.json()["detail"]
    setup.program.refresh_from_db()
    assert setup.program.status == "calculated"  # nothing changed


def test_review_as_json() -> None:
    setup = calculated()
    client, auth = api("abe")
    body = client.get(f"/api/v1/remedy/programs/{setup.program.reference}/review", **auth).json()
    assert body["version"] == 1 and body["calculated_by"] == "ana"
    assert body["totals"]["total_cents"] == 2996 and body["totals"]["median_cents"] == 172
    parts = body["components"]
    assert parts["total_cents"] == 2996 and parts["bonus_cents"] == 2000  # C2's goodwill
    assert sum(v for k, v in parts.items() if k != "total_cents") == 2996
    assert body["largest"][0] == {
        "customer": "C2",
        "total_cents": 2173,
        "explanation": setup.program.calculations.get()
        .entitlements.get(customer__external_id="C2")
        .explanation,
    }


def test_the_author_cannot_approve_through_the_api_either() -> None:
    setup = calculated()
    reference = setup.program.reference
    client, auth = api("ana")
    assert client.post(f"/api/v1/remedy/programs/{reference}/submit", **auth).status_code == 200
    refused = client.post(
        f"/api/v1/remedy/programs/{reference}/approve", "{}", "application/json", **auth
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    approver, approver_auth = api("abe")
    done = approver.post(
        f"/api/v1/remedy/programs/{reference}/approve",
        '{"version": 1}',
        "application/json",
        **approver_auth,
    )
    assert done.status_code == 200 and done.json()["approved_version"] == 1


def test_export_download_and_confirmation_upload() -> None:
    setup = approved()
    reference = setup.program.reference
    client, auth = api("ana")
    url = f"/api/v1/remedy/programs/{reference}"
    exported = client.post(f"{url}/export?method=refund&format=jsonl", **auth)
    assert exported.status_code == 200 and exported["X-Batch-Id"] == f"{reference}-RF-001"
    again = client.post(f"{url}/export?method=refund&format=jsonl", **auth)
    assert again["X-Batch-Reused"] == "true"
    assert b"".join(again.streaming_content) == b"".join(exported.streaming_content)
    payout = Payout.objects.get(status=PayoutStatus.EXPORTED)
    bad = io.BytesIO(f'{{"payout_id": {payout.pk}, "status": "lost"}}\n'.encode())
    bad.name = "answer.jsonl"
    problem = client.post(f"{url}/confirm", {"file": bad}, **auth)
    assert problem.status_code == 400
    assert "answer.jsonl:1: status: 'lost' is not paid or rejected" in problem.json()["detail"]
    good = io.BytesIO(
        f'{{"payout_id": {payout.pk}, "status": "paid", "billing_reference": "R1"}}\n'.encode()
    )
    good.name = "answer.jsonl"
    done = client.post(f"{url}/confirm", {"file": good}, **auth).json()
    assert done == {
        "batch": f"{reference}-RF-001",
        "paid": 1,
        "rejected": 0,
        "unchanged": 0,
        "batch_complete": True,
    }
    listed = client.get(f"{url}/payouts?status=paid", **auth).json()
    assert [item["customer"] for item in listed["items"]] == ["C4"]
