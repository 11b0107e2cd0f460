"""Notices: draft → submit → (second person's approval) → release; cancel and supersede."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.comms.services import notice_approve, notice_cancel, notice_create, notice_submit
from amends.core.errors import AmendsError, Conflict
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare
from tests.factories import build_operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, User]:
    return {
        name: staff_user_set(actor="t", username=name, role=role, password="pw-123456-x")
        for name, role in [
            ("cleo", Role.COMMUNICATIONS),
            ("abe", Role.APPROVER),
            ("vic", Role.VIEWER),
        ]
    }


@pytest.fixture
def outage() -> Outage:
    build_operator()
    return outage_declare(
        actor="nmc", title="Fault", scope_items=[ScopeSpec(kind="state", state="NSW")]
    ).outage


def create(people: dict[str, User], outage: Outage, kind: str = "acknowledge") -> Notice:
    return notice_create(actor=people["cleo"], kind=kind, audience="all_affected", outage=outage)


@override_settings(AMENDS_APPROVAL_THRESHOLD=10)
def test_small_notice_is_released_on_submit(
    people: dict[str, User], outage: Outage, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    notice = create(people, outage)
    assert notice.status == NoticeStatus.DRAFT and notice.recipients == 4
    with django_capture_on_commit_callbacks() as callbacks:
        notice = notice_submit(actor=people["cleo"], notice=notice)
    assert notice.status == NoticeStatus.SENDING and len(callbacks) == 1  # dispatch enqueued
    assert Delivery.objects.filter(notice=notice).count() == 4
    assert set(Delivery.objects.values_list("status", flat=True)) <= {"queued", "held"}


@override_settings(AMENDS_APPROVAL_THRESHOLD=2)
def test_large_notice_needs_a_second_person(people: dict[str, User], outage: Outage) -> None:
    notice = notice_submit(actor=people["cleo"], notice=create(people, outage))
    assert notice.status == NoticeStatus.AWAITING_APPROVAL
    assert not Delivery.objects.exists()
    with pytest.raises(AmendsError, match="second person"):
        notice_approve(actor=people["cleo"], notice=notice)
    with pytest.raises(AmendsError, match="no role"):
        notice_approve(actor=people["vic"], notice=notice)
    approved = notice_approve(actor=people["abe"], notice=notice)
    assert approved.status == NoticeStatus.SENDING and approved.approved_by == people["abe"]
    assert Delivery.objects.filter(notice=notice).count() == 4
    actions = list(
        AuditEntry.objects.filter(object_type="comms.notice").values_list("action", flat=True)
    )
    assert actions == ["comms.notice_create", "comms.notice_submit", "comms.notice_release"]


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_newer_update_supersedes_what_the_older_has_not_sent(
    people: dict[str, User], outage: Outage
) -> None:
    first = notice_submit(actor=people["cleo"], notice=create(people, outage, "update"))
    second = notice_submit(actor=people["cleo"], notice=create(people, outage, "update"))
    first.refresh_from_db()
    assert first.status == NoticeStatus.SUPERSEDED and second.supersedes == first
    assert set(Delivery.objects.filter(notice=first).values_list("status", flat=True)) == {
        "superseded"
    }
    assert set(Delivery.objects.filter(notice=first).values_list("error", flat=True)) == {
        f"superseded by notice {second.pk}"
    }
    assert Delivery.objects.filter(notice=second, status__in=("queued", "held")).count() == 4


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_cancel_stops_unsent_messages(people: dict[str, User], outage: Outage) -> None:
    notice = notice_submit(actor=people["cleo"], notice=create(people, outage))
    notice_cancel(actor=people["abe"], notice=notice)
    assert set(Delivery.objects.filter(notice=notice).values_list("status", flat=True)) == {
        "cancelled"
    }
    with pytest.raises(Conflict):
        notice_submit(actor=people["cleo"], notice=notice)


def test_bad_notices_are_refused(people: dict[str, User], outage: Outage) -> None:
    with pytest.raises(AmendsError, match="not a notice kind"):
        notice_create(actor=people["cleo"], kind="gossip", audience="all_affected", outage=outage)
    with pytest.raises(AmendsError, match="unknown customer"):
        notice_create(
            actor=people["cleo"], kind="custom", audience="list", customers=["C1", "NOPE"]
        )
    with pytest.raises(AmendsError, match="no role"):
        notice_create(actor=people["vic"], kind="update", audience="all_affected", outage=outage)
    assert not Notice.objects.exists()
