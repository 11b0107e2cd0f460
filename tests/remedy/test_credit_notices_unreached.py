"""Paid customers a credit notice did not reach — every channel failed, or no way to reach them
— are counted wherever the credit-notice figures are shown, never told again on their own, and
told again once on request (console, API, CLI); a customer whose message reached them or is
still on its way is neither counted nor told twice.

Dispatch is real: SMS goes to a local gateway that refuses C1's and C6's numbers for good and
asks C5's to try later; email goes to the outbox's files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from amends.comms import dispatch
from amends.comms.audience import count_audience
from amends.comms.channels import registry
from amends.comms.models import Delivery, Notice, NoticeStatus
from amends.comms.services import deliveries_retry
from amends.core.errors import Conflict
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.tokens import token_create
from amends.network.models import Customer
from amends.remedy.models import Payout
from amends.remedy.services import credit_notices
from amends.remedy.services.credit_notices import Telling
from amends.remedy.services.report import program_report
from amends.remedy.views.report import render_report_csv, render_report_html
from tests.comms.servers import HttpServer, Request
from tests.remedy.conftest import staff
from tests.remedy.payments_support import Setup, approved
from tests.remedy.test_credit_notices import pay_credits, recipients_of

pytestmark = pytest.mark.django_db

MOBILES = {"C1": "+61400000001", "C2": "+61400000002", "C5": "+61400000005", "C6": "+61400000006"}
REFUSED = {MOBILES["C1"], MOBILES["C6"]}  # disconnected numbers: HTTP 400, for good
LATER = {MOBILES["C5"]}  # HTTP 503: retried later, so the message stays queued


@pytest.fixture
def channels(tmp_path: Path) -> Iterator[None]:
    """SMS through the local gateway, email to the outbox under tmp_path."""

    def respond(request: Request) -> tuple[int, Any]:
        to = request.json()["to"]
        if to in REFUSED:
            return 400, {"error": "number disconnected"}
        if to in LATER:
            return 503, {"error": "try again later"}
        return 200, {"id": request.json()["idempotency_key"]}

    gateway = HttpServer(respond).start()
    registry.reset()
    try:
        with override_settings(
            AMENDS_CHANNELS="sms=http",
            AMENDS_SMS_HTTP_URL=gateway.url,
            DATA_DIR=tmp_path,
            AMENDS_APPROVAL_THRESHOLD=1000,
        ):
            yield
    finally:
        gateway.stop()
        registry.reset()


def give_contacts() -> None:
    """Each customer their own mobile, SMS first then email, and C6 an email address too."""
    for external_id, mobile in MOBILES.items():
        Customer.objects.filter(external_id=external_id).update(mobile=mobile)
    Customer.objects.update(channel_order="sms;email")
    Customer.objects.filter(external_id="C6").update(email="c6@example.com")


def messages(notice: Notice) -> dict[str, list[str]]:
    """Each customer's messages of the notice, oldest first: "channel status"."""
    found: dict[str, list[str]] = {}
    rows = Delivery.objects.filter(notice=notice).order_by("id")
    for external_id, channel, status in rows.values_list(
        "customer__external_id", "channel", "status"
    ):
        found.setdefault(external_id, []).append(f"{channel} {status}")
    return found


def test_a_customer_every_channel_failed_for_is_counted_and_told_again_once(
    channels: None, tmp_path: Path
) -> None:
    setup = approved()
    pay_credits(setup, tmp_path)
    give_contacts()
    cleo = staff("cleo", Role.COMMUNICATIONS)
    (first,) = credit_notices.credit_notices_send(actor=cleo, program=setup.program)
    assert dispatch.run_notice(first.pk) == "later"  # C5's message waits for its retry
    assert messages(first) == {
        "C1": ["sms failed"],  # no other channel: not reached
        "C2": ["sms sent"],
        "C5": ["sms queued"],  # on its way: neither counted nor told again
        "C6": ["sms failed", "email sent"],  # the fallback reached them
    }
    assert credit_notices.telling(setup.program) == Telling(untold=0, not_reached=1)
    with pytest.raises(Conflict, match="has been told; 1 of them could not be reached"):
        credit_notices.credit_notices_send(actor=cleo, program=setup.program)

    Customer.objects.filter(external_id="C1").update(email="c1@example.com")  # details fixed
    (again,) = credit_notices.credit_notices_send(
        actor=cleo, program=setup.program, retry_unreached=True
    )
    assert recipients_of(again) == ["C1"] and again.recipients == 1
    assert count_audience(first).customers == 3  # its fallbacks can no longer reach C1
    entry = AuditEntry.objects.filter(action="remedy.credit_notices_send").latest("pk")
    assert entry.after["retried_unreached"] == 1 and entry.after["customers"] == 1
    assert entry.after["retried_from_notices"] == {str(first.pk): 1}
    assert dispatch.run_notice(again.pk) == "done"
    assert messages(again) == {"C1": ["sms failed", "email sent"]}  # the new address works
    assert messages(first)["C1"] == ["sms failed"]  # what the first notice did stays on record
    # Retrying the first notice's failures gives C1 no second message (C1 is the new one's).
    assert deliveries_retry(actor=cleo, notice=first) == 0
    assert messages(first)["C1"] == ["sms failed"]
    assert credit_notices.telling(setup.program) == Telling(untold=0, not_reached=0)
    with pytest.raises(Conflict, match="nobody to retry") as refused:
        credit_notices.credit_notices_send(actor=cleo, program=setup.program, retry_unreached=True)
    assert refused.value.field == "retry_unreached"
    assert Notice.objects.count() == 2


def not_reached_one(tmp_path: Path) -> Setup:
    """Every bill credit paid and told by one released notice, but C5 has no contact details
    at all: the notice wrote no message for them."""
    setup = approved()
    pay_credits(setup, tmp_path)
    Customer.objects.filter(external_id="C5").update(mobile="", email="")
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1000):
        (notice,) = credit_notices.credit_notices_send(
            actor=staff("cleo", Role.COMMUNICATIONS), program=setup.program
        )
    assert notice.status == NoticeStatus.SENDING and recipients_of(notice) == ["C1", "C2", "C6"]
    return setup


def test_a_customer_with_no_way_to_reach_them_is_not_reached_as_soon_as_released(
    tmp_path: Path,
) -> None:
    setup = not_reached_one(tmp_path)
    cleo = User.objects.get(username="cleo")
    assert credit_notices.telling(setup.program) == Telling(untold=0, not_reached=1)
    with pytest.raises(Conflict, match="can be reached yet") as refused:
        credit_notices.credit_notices_send(actor=cleo, program=setup.program, retry_unreached=True)
    assert refused.value.field == "retry_unreached"
    assert Notice.objects.count() == 1  # nothing made, nothing moved
    assert Payout.objects.filter(credit_notice__notice__isnull=False).count() == 4

    Customer.objects.filter(external_id="C5").update(email="c5@example.com")
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1000):
        (again,) = credit_notices.credit_notices_send(
            actor=cleo, program=setup.program, retry_unreached=True
        )
    assert recipients_of(again) == ["C5"]
    assert credit_notices.telling(setup.program).not_reached == 0


def test_the_console_shows_the_not_reached_and_tells_them_again(tmp_path: Path) -> None:
    setup = not_reached_one(tmp_path)
    reference = setup.program.reference
    client = Client()
    client.force_login(User.objects.get(username="cleo"))
    page = client.get(f"/remedy/{reference}/payments/").content.decode()
    assert '<span id="not-reached">1</span> not reached' in page
    assert "every channel failed or no way to reach them" in page
    assert f"/remedy/{reference}/payments/notify/unreached/" in page
    Customer.objects.filter(external_id="C5").update(email="c5@example.com")
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1000):
        done = client.post(f"/remedy/{reference}/payments/notify/unreached/", follow=True)
    assert "1 credit notice(s) submitted" in done.content.decode()
    assert recipients_of(Notice.objects.latest("pk")) == ["C5"]
    assert "Tell them again" not in client.get(f"/remedy/{reference}/payments/").content.decode()


def test_the_api_shows_the_not_reached_and_tells_them_again(tmp_path: Path) -> None:
    setup = not_reached_one(tmp_path)
    url = f"/api/v1/remedy/programs/{setup.program.reference}"
    _, secret = token_create(
        actor="test", name="cleo", username="cleo", scopes=["remedy:read", "remedy:write"]
    )
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    detail = client.get(url, **auth).json()
    assert detail["credit_notices"] == {"untold": 0, "not_reached": 1}
    report = client.get(f"/api/v1/claims/reports/{setup.program.reference}", **auth).json()
    assert report["credit_notices"] == detail["credit_notices"]
    plain = client.post(f"{url}/credit-notices", {}, "application/json", **auth)
    assert plain.status_code == 409 and "1 of them could not be reached" in plain.json()["detail"]
    Customer.objects.filter(external_id="C5").update(email="c5@example.com")
    with override_settings(AMENDS_APPROVAL_THRESHOLD=1000):
        sent = client.post(
            f"{url}/credit-notices", {"retry_unreached": True}, "application/json", **auth
        )
        assert sent.status_code == 200
        (notice_id,) = sent.json()["notices"]
        assert recipients_of(Notice.objects.get(pk=notice_id)) == ["C5"]
        again = client.post(
            f"{url}/credit-notices", {"retry_unreached": True}, "application/json", **auth
        )
    assert again.status_code == 409 and again.json()["field"] == "retry_unreached"
    assert client.get(url, **auth).json()["credit_notices"] == {"untold": 0, "not_reached": 0}


def test_the_cli_tells_them_again_and_the_report_counts_them(tmp_path: Path) -> None:
    setup = not_reached_one(tmp_path)
    reference = setup.program.reference
    report = program_report(setup.program)
    rows = list(csv.DictReader(io.StringIO(render_report_csv(report))))
    (line,) = [r for r in rows if (r["section"], r["item"]) == ("credit_notices", "not_reached")]
    assert (
        line["customers"] == "1"
        and line["detail"] == "every channel failed or no way to reach them"
    )
    html = render_report_html(report)
    assert '<th scope="row">Not reached</th><td class="num">1</td>' in html

    def notify(*args: str) -> str:
        out = io.StringIO()
        with override_settings(AMENDS_APPROVAL_THRESHOLD=1000):
            call_command("remedy", "notify", reference, "--as", "cleo", *args, stdout=out)
        return out.getvalue()

    with pytest.raises(CommandError, match="1 of them could not be reached"):
        notify()
    Customer.objects.filter(external_id="C5").update(email="c5@example.com")
    assert "1 recipient(s), sending" in notify("--retry-unreached")
    with pytest.raises(CommandError, match="nobody to retry"):
        notify("--retry-unreached")
