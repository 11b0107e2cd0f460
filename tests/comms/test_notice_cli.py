"""`amends notice …`: a notice's whole life from the shell, through call_command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    """C1–C4 affected in NSW, each with an email address; two people who write and approve;
    messages go to the outbox under tmp_path; more than 2 recipients need approval."""
    build_operator()
    for customer in Customer.objects.all():
        customer.email = f"{customer.external_id.lower()}@example.com"
        customer.save()
    for name, role in [("cleo", Role.COMMUNICATIONS), ("abe", Role.APPROVER)]:
        staff_user_set(actor="t", username=name, role=role, password="pw-123456-x")
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=2):
        yield outage_declare(
            actor="nmc", title="Fault", scope_items=[ScopeSpec(kind="state", state="NSW")]
        ).outage


def notice_cmd(*args: str) -> str:
    out = StringIO()
    call_command("notice", *args, stdout=out)
    return out.getvalue()


def notice_json(*args: str) -> Any:
    return json.loads(notice_cmd(*args, "--json"))


def test_create_preview_submit_approve_send_status(outage: Outage) -> None:
    created = notice_json(
        "create", "--outage", outage.reference, "--kind", "acknowledge", "--as", "cleo"
    )
    notice_id = str(created["notice"]["id"])
    assert created["notice"]["status"] == "draft" and created["notice"]["recipients"] == 4

    preview = notice_json("preview", notice_id)
    assert (preview["customers"], preview["reachable"], preview["by_channel"]) == (
        4,
        4,
        {"email": 4},
    )
    assert "4 of 4 customers reachable" in notice_cmd("preview", notice_id)

    submitted = notice_json("submit", notice_id, "--as", "cleo")
    assert submitted["notice"]["status"] == "awaiting_approval"
    assert not Delivery.objects.exists()

    approved = notice_cmd("approve", notice_id, "--as", "abe")
    assert f"notice {notice_id}: acknowledge to all_affected about {outage.reference}" in approved
    assert "sending" in approved and "queued 4" in approved

    sent = notice_cmd("send", notice_id)
    assert "done  sent 4" in sent and sent.rstrip().endswith(f"notice {notice_id}: sent")

    status = notice_json("status", notice_id)
    assert status["notice"]["status"] == "sent" and status["deliveries"] == {"sent": 4}
    notice = Notice.objects.get(pk=notice_id)
    assert notice.approved_by is not None and notice.approved_by.username == "abe"


def test_list_audience_and_cancel(outage: Outage) -> None:
    created = notice_json(
        "create", "--kind", "custom", "--audience", "list", "--customer", "C1", "C2",
        "--message", "A word from us.", "--as", "cleo",
    )  # fmt: skip
    notice_id = str(created["notice"]["id"])
    assert created["notice"]["recipients"] == 2
    assert Notice.objects.get(pk=notice_id).audience_list == ["C1", "C2"]
    notice_cmd("submit", notice_id, "--as", "cleo")  # 2 recipients: released at once
    assert "cancelled" in notice_cmd("cancel", notice_id, "--as", "abe")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--kind", "gossip", "--outage", "{ref}", "--as", "cleo"], "kind: 'gossip'"),
        (["create", "--kind", "update", "--as", "cleo"], "outage: this audience needs"),
        (["create", "--kind", "update", "--outage", "OUT-NOPE", "--as", "cleo"], "outage: no"),
        (["create", "--kind", "update", "--outage", "{ref}", "--as", "nobody"], "as: no active"),
        (
            ["create", "--kind", "custom", "--audience", "list", "--customer", "C9", "--as", "abe"],
            "no role",
        ),
        (["create", "--kind", "update", "--outage", "{ref}"], "--as"),
        (["preview", "999"], "id: no notice 999"),
        (["status", "999", "--json"], "id: no notice 999"),
    ],
)
def test_errors_name_the_field(outage: Outage, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        notice_cmd(*(arg.replace("{ref}", outage.reference) for arg in args))
    assert not Notice.objects.exists()


def test_no_sending_before_approval_and_no_self_approval(outage: Outage) -> None:
    created = notice_json(
        "create", "--outage", outage.reference, "--kind", "update", "--as", "cleo"
    )
    notice_id = str(created["notice"]["id"])
    with pytest.raises(CommandError, match=f"id: notice {notice_id} is draft"):
        notice_cmd("send", notice_id)
    notice_cmd("submit", notice_id, "--as", "cleo")
    with pytest.raises(CommandError, match="second person"):
        notice_cmd("approve", notice_id, "--as", "cleo")
    assert Notice.objects.get(pk=notice_id).status == NoticeStatus.AWAITING_APPROVAL
