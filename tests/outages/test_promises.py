"""Promises kept (issue 12, item 8): a blank "next update by" keeps the published promise, the
default is the earlier of six hours and the ETR, and a promise that passes without a public
update shows as overdue and tells the commander once, through the outbox."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from amends.comms import dispatch
from amends.comms.models import Audience, Delivery, DeliveryStatus, Notice
from amends.comms.services import notice_create
from amends.comms.staff_alerts import notify_overdue_updates
from amends.core.errors import AmendsError
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_post_update, outage_set_etr
from tests.factories import build_operator

pytestmark = pytest.mark.django_db
SIX_HOURS = timedelta(hours=6)


@pytest.fixture
def cora() -> User:
    build_operator()
    user = staff_user_set(actor="t", username="cora", role=Role.COMMANDER, password="pw-123456-x")
    user.email = "cora@example.com"
    user.save()
    return user


def declare(cora: User, **kwargs: object) -> Outage:
    return outage_declare(
        actor=cora,
        title="Exchange fault",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
        commander_id=cora.pk,
        **kwargs,  # type: ignore[arg-type]
    ).outage


def near(value: datetime | None, expected: datetime) -> bool:
    return value is not None and abs(value - expected) < timedelta(seconds=30)


def test_the_default_promise_is_the_earlier_of_six_hours_and_the_etr(cora: User) -> None:
    soon = timezone.now() + timedelta(hours=2)
    assert declare(cora, etr=soon).next_update_by == soon
    late = declare(cora, etr=timezone.now() + timedelta(hours=10))
    assert near(late.next_update_by, timezone.now() + SIX_HOURS)
    sooner = timezone.now() + timedelta(hours=1)
    outage_set_etr(actor=cora, outage=late, etr=sooner)
    late.refresh_from_db()
    assert late.next_update_by == sooner  # the kept promise, brought forward to the ETR
    outage_post_update(actor=cora, outage=late, message="Crews are on site.")
    late.refresh_from_db()
    assert late.next_update_by == sooner  # a public update promises the next by the ETR
    outage_set_etr(actor=cora, outage=late, etr=None)
    outage_post_update(actor=cora, outage=late, message="Waiting on a part.")
    late.refresh_from_db()
    assert near(late.next_update_by, timezone.now() + SIX_HOURS)  # no ETR: six hours


def test_a_blank_next_update_keeps_the_published_promise(cora: User) -> None:
    outage = declare(cora, next_update_by=timezone.now() + timedelta(hours=3))
    promised = outage.next_update_by
    outage_set_etr(actor=cora, outage=outage, etr=timezone.now() + timedelta(hours=9))
    outage.refresh_from_db()
    assert outage.next_update_by == promised
    assert outage.etr_changes.get().next_update_by == promised
    later = timezone.now() + timedelta(hours=4)
    outage_set_etr(actor=cora, outage=outage, etr=None, next_update_by=later)
    outage.refresh_from_db()
    assert outage.next_update_by == later  # a promise given replaces it


def test_a_passed_promise_is_not_kept(cora: User) -> None:
    outage = declare(cora)
    Outage.objects.filter(pk=outage.pk).update(next_update_by=timezone.now() - timedelta(hours=1))
    etr = timezone.now() + timedelta(hours=2)
    outage_set_etr(actor=cora, outage=outage, etr=etr)
    outage.refresh_from_db()
    assert outage.next_update_by == etr


def overdue(outage: Outage, minutes: int = 5) -> datetime:
    when = timezone.now() - timedelta(minutes=minutes)
    Outage.objects.filter(pk=outage.pk).update(next_update_by=when)
    return when


def test_the_console_shows_an_overdue_update(cora: User) -> None:
    outage = declare(cora)
    client = Client()
    client.force_login(cora)
    assert "Update overdue" not in client.get(f"/outages/{outage.reference}/").content.decode()
    when = timezone.localtime(overdue(outage))
    expected = f"Update overdue since {when:%H:%M}"
    assert expected in client.get(f"/outages/{outage.reference}/").content.decode()
    assert expected in client.get("/outages/").content.decode()


@override_settings(SITE_URL="https://amends.example")
def test_the_commander_is_told_once_per_missed_promise(cora: User, tmp_path: Path) -> None:
    outage = declare(cora)
    assert notify_overdue_updates() == []  # not overdue yet
    when = timezone.localtime(overdue(outage))
    assert notify_overdue_updates() == [outage.reference]
    assert notify_overdue_updates() == []  # the same promise: never twice
    delivery = Delivery.objects.get()
    assert (delivery.staff, delivery.address, delivery.customer) == (cora, cora.email, None)
    assert delivery.notice.audience == Audience.STAFF
    with override_settings(DATA_DIR=tmp_path):
        assert dispatch.run_notice(delivery.notice_id) == "done"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    (file,) = (tmp_path / "outbox" / "email").glob("*.eml")
    message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
    assert message["To"] == "cora@example.com"
    assert message["Subject"] == f"{outage.reference}: public update overdue since {when:%H:%M}"
    assert "List-Unsubscribe" not in message
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"https://amends.example/outages/{outage.reference}/" in body
    assert AuditEntry.objects.filter(action="outage.update_overdue").count() == 1

    outage_post_update(actor=cora, outage=outage, message="Still working on it.")
    assert notify_overdue_updates() == []  # a new promise, not yet passed
    overdue(outage, minutes=1)
    assert notify_overdue_updates() == [outage.reference]  # a new missed promise
    assert Notice.objects.filter(audience=Audience.STAFF).count() == 2


def test_authors_cannot_address_staff(cora: User) -> None:
    cleo = staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )
    with pytest.raises(AmendsError) as error:
        notice_create(actor=cleo, kind="custom", audience="staff", outage=declare(cora))
    assert error.value.field == "audience"


def test_the_cli_keeps_the_promise_and_shows_it_overdue(cora: User) -> None:
    def run(*args: str) -> str:
        out = StringIO()
        call_command("outage", *args, stdout=out)
        return out.getvalue()

    outage = declare(cora, next_update_by=timezone.now() + timedelta(hours=3))
    promised = timezone.localtime(outage.next_update_by)
    shown = run("etr", outage.reference, "unknown")
    assert f"next update by {promised:%Y-%m-%d %H:%M}" in shown
    later = timezone.localtime(timezone.now() + timedelta(hours=4)).replace(second=0, microsecond=0)
    run("etr", outage.reference, "unknown", "--next-update-by", later.isoformat())
    outage.refresh_from_db()
    assert outage.next_update_by == later
    when = timezone.localtime(overdue(outage))
    assert f"UPDATE OVERDUE since {when:%Y-%m-%d %H:%M}" in run("show", outage.reference)


def test_an_outage_nobody_commands_tells_every_commander(cora: User) -> None:
    outage = outage_declare(
        actor="alerts", title="Alarm", scope_items=[ScopeSpec(kind="state", state="NSW")]
    ).outage
    staff_user_set(actor="t", username="cole", role=Role.COMMANDER, password="pw-123456-x")
    overdue(outage)
    assert notify_overdue_updates() == [outage.reference]
    assert list(Delivery.objects.values_list("address", flat=True)) == ["cora@example.com"]


def test_the_staff_notice_shows_on_the_notice_console(cora: User) -> None:
    outage = declare(cora)
    overdue(outage)
    notify_overdue_updates()
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, error="mailbox full"
    )
    client = Client()
    client.force_login(cora)
    page = client.get(f"/notices/{delivery.notice_id}/").content.decode()
    assert "Staff cora@example.com" in page and "mailbox full" in page
    assert client.get("/notices/").status_code == 200
