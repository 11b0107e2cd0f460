"""STILL OUT that means it (issue 12, item 4): a text from the affected phone itself reopens
only the customer's other services, asks when there are none, becomes a commander task on the
outage page, and no message of a resolved outage stays held."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from amends.comms import dispatch
from amends.comms.inbound import receive_sms
from amends.comms.models import Delivery, DeliveryStatus, Notice
from amends.comms.services import notice_create, notice_submit
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.models import Impact, Outage, ReportOutcome, StillOutReport, Visibility
from amends.outages.queries import open_still_out_reports
from amends.outages.scope import ScopeSpec
from amends.outages.services import (
    outage_declare,
    outage_restore,
    outage_transition,
    still_out_handle,
)
from tests.factories import build_operator, give_contacts

pytestmark = pytest.mark.django_db

REOPENED = (
    "Sorry your service is still out. We've told the team fixing it and will keep you updated."
)
WHICH = (
    "Which service is still out? Reply with its name and we'll pass it to the team, "
    "or call 13 00 00."
)


@pytest.fixture
def outage(tmp_path: Path) -> Outage:
    """NSW is down: C1 has home internet (S1) and a mobile (S2), C4 only a mobile (S5)."""
    build_operator()
    give_contacts()
    return outage_declare(
        actor="nmc", title="Exchange fault", scope_items=[ScopeSpec(kind="state", state="NSW")]
    ).outage


def open_services(customer: str) -> set[str]:
    return set(
        Impact.objects.filter(customer__external_id=customer, window_end__isnull=True).values_list(
            "service__external_id", flat=True
        )
    )


def text_from(customer: str, body: str = "STILL OUT") -> str:
    return receive_sms(sender=Customer.objects.get(external_id=customer).mobile, text=body).reply


def test_from_the_affected_mobile_only_the_other_services_reopen(outage: Outage) -> None:
    outage_restore(actor="nmc", outage=outage)
    assert text_from("C1") == REOPENED
    assert open_services("C1") == {"S1"}  # home internet; the mobile that texted works
    note = outage.updates.filter(visibility=Visibility.INTERNAL).last()
    assert note is not None
    assert note.message == (
        "Customer C1 reports still being out: 1 service(s) reopened. Check their area, then "
        "restore or dismiss the report on the outage page."
    )
    c1 = Customer.objects.get(external_id="C1")
    assert f"id {c1.pk}" not in note.message
    report = StillOutReport.objects.get()
    assert (report.customer, report.services, report.outcome) == (c1, 1, ReportOutcome.OPEN)
    entry = AuditEntry.objects.get(action="outage.still_out")
    assert entry.after == {"customer": "C1", "reopened": 1}


def test_when_the_mobile_is_all_they_have_in_it_we_ask_and_reopen_nothing(
    outage: Outage,
) -> None:
    outage_restore(actor="nmc", outage=outage)
    assert text_from("C4") == WHICH
    assert open_services("C4") == set()
    assert not StillOutReport.objects.exists()
    assert not outage.updates.filter(visibility=Visibility.INTERNAL).exists()


def test_a_resolved_outage_shows_reports_apart_and_the_commander_closes_them(
    outage: Outage,
) -> None:
    outage_transition(actor="nmc", outage=outage, to="resolved")
    text_from("C4")  # the restored phone itself: nothing
    text_from("C1")
    cora = staff_user_set(actor="t", username="cora", role=Role.COMMANDER, password="pw-123456-x")
    client = Client()
    client.force_login(cora)
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert '<dd id="impact-still">0</dd>' in page  # not "1 still out" on a resolved outage
    assert "Reported still out by customers (1)" in page
    block = page[page.index('id="still-out-reports"') :].split("</section>")[0]
    assert '<th scope="row">C1</th>' in block

    report = StillOutReport.objects.get()
    response = client.post(
        f"/outages/{outage.reference}/still-out/{report.pk}/", {"outcome": "restored"}
    )
    assert response.status_code == 302
    assert open_services("C1") == set()
    report.refresh_from_db()
    assert (report.outcome, report.handled_by) == (ReportOutcome.RESTORED, "cora")
    page = client.get(f"/outages/{outage.reference}/").content.decode()
    assert "Reported still out by customers" not in page
    assert "Still-out report of customer C1 restored: 1 service(s) closed." in page


def test_a_dismissed_report_counts_no_time(outage: Outage) -> None:
    outage_restore(actor="nmc", outage=outage)
    text_from("C1")
    report = StillOutReport.objects.get()
    still_out_handle(actor="cora", report=report, outcome="dismissed")
    window = Impact.objects.get(service__external_id="S1", window_start=report.reported_at)
    assert window.window_end == window.window_start


def test_only_commanders_handle_reports(outage: Outage) -> None:
    outage_restore(actor="nmc", outage=outage)
    text_from("C1")
    viewer: User = staff_user_set(
        actor="t", username="vic", role=Role.VIEWER, password="pw-123456-x"
    )
    client = Client()
    client.force_login(viewer)
    report = StillOutReport.objects.get()
    response = client.post(
        f"/outages/{outage.reference}/still-out/{report.pk}/", {"outcome": "dismissed"}
    )
    assert response.status_code == 403
    assert open_services("C1") == {"S1"}


def send(outage: Outage, kind: str) -> Notice:
    cleo = staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )
    notice = notice_create(
        actor=cleo, kind=kind, audience="all_affected", outage=outage, message="Bonus data."
    )
    notice = notice_submit(actor=cleo, notice=notice)
    dispatch.run_notice(notice.pk)
    return notice


@override_settings(AMENDS_APPROVAL_THRESHOLD=100)
def test_nothing_stays_held_once_the_outage_is_resolved(outage: Outage, tmp_path: Path) -> None:
    Customer.objects.filter(external_id="C4").update(email="")  # C4 only has SMS
    with override_settings(DATA_DIR=tmp_path):
        acknowledge = send(outage, "acknowledge")
        custom = send(outage, "custom")
        held = Delivery.objects.filter(customer__external_id="C4", status=DeliveryStatus.HELD)
        assert held.count() == 2
        outage_transition(actor="nmc", outage=outage, to="resolved")
        assert not Delivery.objects.filter(status=DeliveryStatus.HELD).exists()
        stale = Delivery.objects.get(notice=acknowledge, customer__external_id="C4")
        assert stale.status == DeliveryStatus.SUPERSEDED
        assert stale.error == dispatch.STALE_ERROR
        assert dispatch.run_notice(custom.pk) == "done"
        news = Delivery.objects.get(notice=custom, customer__external_id="C4")
        assert (news.status, news.channel) == (DeliveryStatus.SENT, "sms")

        # Texted from the phone that was down: nothing reopens, so a later message goes.
        assert text_from("C4") == WHICH
        apology = send(outage, "apology")
        later = Delivery.objects.get(notice=apology, customer__external_id="C4")
        assert later.status == DeliveryStatus.SENT


def test_resolving_closes_reported_windows_and_ends_the_task(outage: Outage) -> None:
    outage_restore(actor="nmc", outage=outage)  # monitoring: still open
    text_from("C1")
    assert list(open_still_out_reports(outage)) == [StillOutReport.objects.get()]
    outage_transition(actor="nmc", outage=outage, to="resolved")
    assert open_services("C1") == set()
    assert list(open_still_out_reports(outage)) == []
