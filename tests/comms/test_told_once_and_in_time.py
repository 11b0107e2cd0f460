"""What a customer is told is true when it arrives and reaches them once (issue 12, items 1–2).

Restoration supersedes: a customer who is back never gets "it went down" or "new fix time"
after the fact; messages of one outage reach a customer in notice order. Once per kind: a
second restored, apology, credit or survey notice leaves out those already told, unless the
author asks to send again. What reached the providers is read from the outbox's files.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from amends.comms import dispatch, outbox, preview
from amends.comms.audience import count_audience
from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.comms.services import notice_create, notice_submit
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.core.tokens import token_create
from amends.network.models import Customer
from amends.outages.models import Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from tests.factories import build_operator, give_contacts

pytestmark = pytest.mark.django_db

# Scope items: N1 (C1's NBN, C2), CELL1 (C1's mobile), N2 (C3's NBN, C4's mobile).
ELEMENTS = ("N1", "CELL1", "N2")


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    """C1–C4 affected in NSW, each with an email and a mobile; messages go to the outbox
    under tmp_path."""
    build_operator()
    give_contacts()
    with override_settings(DATA_DIR=tmp_path, AMENDS_APPROVAL_THRESHOLD=100):
        yield outage_declare(
            actor="nmc",
            title="Exchange fault",
            cause_public="A fibre cut.",
            scope_items=[ScopeSpec(kind="element", element=e) for e in ELEMENTS],
        ).outage


def only_sms(*external_ids: str) -> None:
    Customer.objects.filter(external_id__in=external_ids).update(email="")


def restore(outage: Outage, *elements: str) -> None:
    items = outage.scope_items.filter(element__external_id__in=elements)
    outage_restore(actor="nmc", outage=outage, item_ids=list(items.values_list("pk", flat=True)))


def release(
    cleo: User, outage: Outage, kind: str, audience: str = "all_affected", **kw: Any
) -> Notice:
    notice = notice_create(actor=cleo, kind=kind, audience=audience, outage=outage, **kw)
    return notice_submit(actor=cleo, notice=notice)


def run(notice: Notice) -> str:
    state = dispatch.run_notice(notice.pk)
    notice.refresh_from_db()
    return state


def outbox_files(tmp_path: Path, channel: str) -> list[str]:
    """What was handed to the provider, by idempotency key (n<notice>-c<customer>-<channel>)."""
    return sorted(p.stem for p in (tmp_path / "outbox" / channel).glob("n*"))


def key(notice: Notice, external_id: str, channel: str) -> str:
    customer = Customer.objects.get(external_id=external_id)
    return f"n{notice.pk}-c{customer.pk}-{channel}"


def status_of(notice: Notice, external_id: str) -> str:
    return Delivery.objects.get(notice=notice, customer__external_id=external_id).status


# --- restoration supersedes ---------------------------------------------------------------


def test_a_customer_back_gets_only_the_restored_message_and_the_stale_ones_show_superseded(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    only_sms("C4", "C1")  # their mobiles are down: their SMS are held
    ack = release(cleo, outage, "acknowledge")
    assert run(ack) == "later"
    etr = release(cleo, outage, "etr_changed", audience="etr_changed")
    assert run(etr) == "later"
    assert status_of(ack, "C4") == status_of(etr, "C4") == "held"

    restore(outage, "N2")  # C3 and C4 are back; C1 (CELL1, N1) is still out
    restored = release(cleo, outage, "restored", audience="restored")
    run(restored)
    run(ack)
    run(etr)

    c4 = Customer.objects.get(external_id="C4").pk
    c4_sms = [name for name in outbox_files(tmp_path, "sms") if f"-c{c4}-" in name]
    assert c4_sms == [key(restored, "C4", "sms")]  # only "it's back", never the stale two
    text = (tmp_path / "outbox" / "sms" / f"{key(restored, 'C4', 'sms')}.txt").read_text()
    assert "is back since" in text
    assert status_of(ack, "C4") == status_of(etr, "C4") == "superseded"
    # Partial restoration: C1 is still out, so their held messages wait for their mobile.
    assert status_of(ack, "C1") == status_of(etr, "C1") == "held"
    # Counted on the notice dashboard and in the API's progress, audited with the count.
    dashboard = preview.delivery_dashboard(ack)
    assert ("superseded", "Superseded (out of date)", 1) in dashboard.by_status
    audits = AuditEntry.objects.filter(action="comms.deliveries_superseded")
    assert sorted((a.object_id, a.after["superseded"]) for a in audits) == sorted(
        [(str(ack.pk), 1), (str(etr.pk), 1)]
    )


def test_console_dashboard_and_api_progress_count_superseded(
    cleo: User, outage: Outage, client: Client
) -> None:
    only_sms("C4")
    ack = release(cleo, outage, "acknowledge")
    run(ack)
    restore(outage, "N2")
    run(ack)
    token = token_create(actor="t", name="dash", username="cleo", scopes=["outages:read"])[1]
    body = client.get(
        f"/api/v1/comms/notices/{ack.pk}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert body["deliveries"]["superseded"] == 1
    client.force_login(cleo)
    page = client.get(f"/notices/{ack.pk}/dashboard/").content.decode()
    assert '<dt>Superseded (out of date)</dt><dd id="delivery-superseded">1</dd>' in page


def test_a_row_claimed_just_before_restoration_is_superseded_not_sent(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    ack = release(cleo, outage, "acknowledge")  # C3 by email, queued
    claimed = outbox.claim(ack.pk, limit=10, now=timezone.now())
    assert len(claimed.deliveries) == 4
    restore(outage, "N2")  # C3 and C4 come back while the worker holds the batch
    outcome = dispatch.process(claimed)
    assert outcome.sent == 2
    assert outbox_files(tmp_path, "email") == sorted(
        [key(ack, "C1", "email"), key(ack, "C2", "email")]
    )
    assert status_of(ack, "C3") == status_of(ack, "C4") == "superseded"


def test_a_held_acknowledge_goes_before_the_later_etr_change(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    only_sms("C1")  # C1's acknowledge is held: their mobile is down
    ack = release(cleo, outage, "acknowledge")
    run(ack)
    assert status_of(ack, "C1") == "held"
    Customer.objects.filter(external_id="C1").update(email="c1@example.com")
    etr = release(cleo, outage, "etr_changed", audience="etr_changed")  # C1 by email
    assert run(etr) == "later"
    # The ETR change waits for the acknowledge: nothing of it reached C1 yet.
    assert status_of(etr, "C1") == "queued"
    assert key(etr, "C1", "email") not in outbox_files(tmp_path, "email")

    restore(outage, "CELL1")  # C1's mobile is back, their NBN still out
    assert run(etr) == "later"  # the acknowledge has not gone yet: still waiting
    assert run(ack) == "done"
    assert run(etr) == "done"
    sent = {
        d.notice_id: d.sent_at
        for d in Delivery.objects.filter(customer__external_id="C1", status="sent")
    }
    assert sent[ack.pk] <= sent[etr.pk]
    assert key(ack, "C1", "sms") in outbox_files(tmp_path, "sms")
    assert key(etr, "C1", "email") in outbox_files(tmp_path, "email")


def test_a_later_update_supersedes_the_older_ones_unsent_messages(
    cleo: User, outage: Outage
) -> None:
    first = release(cleo, outage, "update")
    second = release(cleo, outage, "update")
    assert set(Delivery.objects.filter(notice=first).values_list("status", flat=True)) == {
        "superseded"
    }
    assert Delivery.objects.filter(notice=second, status="queued").count() == 4


# --- once per kind ------------------------------------------------------------------------


def test_two_restored_notices_tell_each_customer_once(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    restore(outage, "N2")  # partial: C3 and C4
    first = release(cleo, outage, "restored", audience="restored")
    run(first)
    restore(outage, "N1", "CELL1")  # everyone
    second = notice_create(actor=cleo, kind="restored", audience="restored", outage=outage)
    counts = count_audience(second)
    assert (counts.reachable, counts.already_told) == (2, 2)
    run(notice_submit(actor=cleo, notice=second))
    told = Delivery.objects.filter(notice__kind="restored", status="sent")
    assert sorted(told.values_list("customer__external_id", flat=True)) == ["C1", "C2", "C3", "C4"]
    assert len(outbox_files(tmp_path, "email")) == 4


def test_a_second_apology_excludes_those_told_and_the_preview_says_how_many(
    cleo: User, outage: Outage, tmp_path: Path
) -> None:
    run(release(cleo, outage, "apology"))
    second = notice_create(actor=cleo, kind="apology", audience="all_affected", outage=outage)
    assert second.recipients == 0
    client = Client()
    client.force_login(cleo)
    page = client.get(f"/notices/{second.pk}/").content.decode()
    assert "4 already told — excluded" in page
    out = StringIO()
    call_command("notice", "preview", str(second.pk), stdout=out)
    assert "4 already told — excluded" in out.getvalue()

    again = release(cleo, outage, "apology", include_already_told=True)
    assert again.recipients == 4
    run(again)
    assert len(outbox_files(tmp_path, "email")) == 8  # told twice, as asked


def test_composer_and_api_can_include_those_already_told(
    cleo: User, outage: Outage, client: Client
) -> None:
    run(release(cleo, outage, "survey", urgent=True))
    client.force_login(cleo)
    response = client.post(
        "/notices/new/",
        {
            "outage": outage.reference,
            "kind": "survey",
            "audience": "all_affected",
            "include_already_told": "on",
        },
    )
    assert response.status_code == 302
    assert Notice.objects.latest("pk").include_already_told
    assert Notice.objects.latest("pk").recipients == 4

    staff_user_set(actor="t", username="nmc", role=Role.COMMANDER, password="pw-123456-x")
    token = token_create(
        actor="t", name="nms", username="nmc", scopes=["outages:read", "outages:write"]
    )[1]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"kind": "survey", "outage": outage.reference}
    created = client.post(
        "/api/v1/comms/notices", data=body, content_type="application/json", headers=headers
    ).json()
    assert created["include_already_told"] is False and created["recipients"] == 0
    shown = client.get(f"/api/v1/comms/notices/{created['id']}/preview", headers=headers).json()
    assert shown["already_told"] == 4 and shown["reachable"] == 0
    body["include_already_told"] = True
    again = client.post(
        "/api/v1/comms/notices", data=body, content_type="application/json", headers=headers
    ).json()
    assert again["include_already_told"] is True and again["recipients"] == 4


def test_a_customer_a_failed_message_never_reached_is_not_already_told(
    cleo: User, outage: Outage
) -> None:
    first = release(cleo, outage, "apology")
    Delivery.objects.filter(notice=first, customer__external_id="C2").update(status="dead")
    second = notice_create(actor=cleo, kind="apology", audience="all_affected", outage=outage)
    assert second.recipients == 1
    assert NoticeStatus.DRAFT == second.status


def test_a_restoration_wakes_the_outages_sending_notices(
    cleo: User, outage: Outage, django_capture_on_commit_callbacks: Any
) -> None:
    only_sms("C4")
    ack = release(cleo, outage, "acknowledge")
    run(ack)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        restore(outage, "N2")
    woken = DBTaskResult.objects.filter(task_path__endswith="dispatch_notice")
    assert [task.args_kwargs["args"] for task in woken] == [[ack.pk]]


def test_cli_creates_a_notice_that_includes_those_already_told(cleo: User, outage: Outage) -> None:
    run(release(cleo, outage, "apology"))
    out = StringIO()
    call_command(
        "notice",
        "create",
        "--outage",
        outage.reference,
        "--kind",
        "apology",
        "--include-already-told",
        "--as",
        "cleo",
        "--json",
        stdout=out,
    )
    assert '"include_already_told": true' in out.getvalue()
    assert Notice.objects.latest("pk").recipients == 4
    out = StringIO()
    call_command("notice", "preview", str(Notice.objects.latest("pk").pk), stdout=out)
    assert "4 already told — included: told again" in out.getvalue()
