"""The demo's credit chapter says what really happened: how many messages went, how many wait
and why (a credit notice is not urgent: quiet hours and the hourly cap hold it back)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from amends.comms.models import Delivery, DeliveryStatus, Notice
from amends.core.roles import Role
from amends.demo import tell_the_credits
from amends.network.models import Customer
from amends.remedy.models import CreditNotice
from tests.remedy.conftest import staff
from tests.remedy.payments_support import approved
from tests.remedy.test_credit_notices import pay_credits, sent_texts

pytestmark = pytest.mark.django_db


def _quiet_now(external_id: str) -> None:
    """The customer's quiet hours, in their own time zone, run from an hour ago to an hour on."""
    local = timezone.localtime(timezone.now())  # Australia/Sydney, the customers' zone
    Customer.objects.filter(external_id=external_id).update(
        quiet_hours_start=(local - timedelta(hours=1)).time(),
        quiet_hours_end=(local + timedelta(hours=1)).time(),
    )


def _sent_this_hour(external_id: str, messages: int) -> None:
    """``messages`` messages of another notice sent to the customer a minute ago."""
    customer = Customer.objects.get(external_id=external_id)
    earlier = Notice.objects.create(kind="custom", audience="list", audience_list=[external_id])
    sent_at = timezone.now() - timedelta(minutes=1)
    Delivery.objects.bulk_create(
        Delivery(
            notice=earlier,
            customer=customer,
            channel=channel,
            address="x",
            status=DeliveryStatus.SENT,
            next_attempt_at=sent_at,
            sent_at=sent_at,
        )
        for channel in ("email", "sms", "push", "voice")[:messages]
    )


def test_the_chapter_counts_what_went_and_what_waits_and_why(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)  # C1, C2, C5, C6: bill credits, paid
    staff("comms", Role.COMMUNICATIONS)
    staff("approver", Role.APPROVER)
    _quiet_now("C1")
    _sent_this_hour("C2", 4)  # the hourly cap (4) reached
    said: list[str] = []
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=2):
        tell_the_credits(setup.program, say=said.append)

    notice = CreditNotice.objects.get(program=setup.program).notice
    waiting = Delivery.objects.filter(notice=notice, status=DeliveryStatus.QUEUED)
    assert sorted(waiting.values_list("customer__external_id", flat=True)) == ["C1", "C2"]
    assert len(sent_texts(tmp_path / "outbox", notice)) == 2  # C5 and C6
    (text,) = said
    assert "one notice to the 4 paid customers we can reach (approved by approver)" in text
    assert f": 2 are in {tmp_path / 'outbox'}; 2 wait" in text
    assert "for the end of the customer's quiet hours or, for 1 sent 4 messages this hour" in text
    last = timezone.localtime(max(waiting.values_list("next_attempt_at", flat=True)))
    assert f"the last at {last:%H:%M} (Australia/Sydney time)" in text


def test_the_chapter_says_nothing_waits_when_everything_went(tmp_path: Path) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    staff("comms", Role.COMMUNICATIONS)
    staff("approver", Role.APPROVER)
    said: list[str] = []
    with override_settings(DATA_DIR=tmp_path):
        tell_the_credits(setup.program, say=said.append)
    (text,) = said
    assert "(small enough to go without a second approval)" in text
    assert f": 4 are in {tmp_path / 'outbox'}. The program's report" in text
