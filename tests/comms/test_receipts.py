"""Provider webhooks end to end: SMS sent through a local Twilio stand-in, then Twilio's signed
status callbacks and inbound messages posted to our URLs; Postmark's tracking webhook through
anymail. Signatures are real HMACs computed with Twilio's own RequestValidator."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from twilio.request_validator import RequestValidator

from amends.comms import dispatch
from amends.comms.channels.base import Receipt
from amends.comms.channels.sms_twilio import RECEIPT_PATH
from amends.comms.hooks import INBOUND_PATH
from amends.comms.models import Delivery, InboundMessage, Keyword, Notice, NoticeStatus
from amends.comms.receipts import apply_receipts
from amends.comms.services import notice_create, notice_submit
from amends.core.models import AuditEntry
from amends.core.roles import Role
from amends.core.services import staff_user_set
from amends.network.models import Customer
from amends.outages.models import Impact, Outage
from amends.outages.scope import ScopeSpec
from amends.outages.services import outage_declare, outage_restore
from tests.comms.channels.test_sms_twilio import SID, TOKEN, twilio_api
from tests.comms.servers import HttpServer, Responder
from tests.factories import build_operator, give_contacts

pytestmark = pytest.mark.django_db

SITE = "https://amends.example"
HOOK_SECRET = "postmark:s3cret-hook-password"


@pytest.fixture
def providers(
    settings: Settings, http_server: Callable[[Responder], HttpServer], tmp_path: Path
) -> None:
    """SMS through Twilio (a local stand-in of its API), email to the outbox."""
    server = http_server(twilio_api)
    settings.AMENDS_CHANNELS = "sms=twilio"
    settings.AMENDS_TWILIO_ACCOUNT_SID = SID
    settings.AMENDS_TWILIO_AUTH_TOKEN = TOKEN
    settings.AMENDS_TWILIO_FROM = "+61400000000"
    settings.AMENDS_TWILIO_API_URL = server.url
    settings.SITE_URL = SITE
    settings.DATA_DIR = tmp_path
    settings.AMENDS_APPROVAL_THRESHOLD = 100


@pytest.fixture
def outage(providers: None) -> Outage:
    """C1–C4 affected in NSW; C1 and C4 have their mobile service down, so they get email and
    C2 and C3 get SMS (everyone prefers SMS)."""
    build_operator()
    give_contacts()
    Customer.objects.update(channel_order="sms;email")
    return outage_declare(
        actor="nmc",
        title="Fibre cut <Sydney> & around",
        scope_items=[ScopeSpec(kind="state", state="NSW")],
    ).outage


@pytest.fixture
def notice(outage: Outage) -> Notice:
    cleo: User = staff_user_set(
        actor="t", username="cleo", role=Role.COMMUNICATIONS, password="pw-123456-x"
    )
    notice = notice_submit(
        actor=cleo,
        notice=notice_create(
            actor=cleo, kind="acknowledge", audience="all_affected", outage=outage
        ),
    )
    assert dispatch.run_notice(notice.pk) == "done"
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT
    return notice


def sms_to(external_id: str) -> Delivery:
    return Delivery.objects.get(customer__external_id=external_id, channel="sms")


def post_twilio(path: str, form: dict[str, str], *, token: str = TOKEN) -> HttpResponse:
    """POST the form as Twilio does, signed for SITE + path with ``token``."""
    signature = RequestValidator(token).compute_signature(SITE + path, form)
    return Client().post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def status_callback(delivery: Delivery, status: str, error_code: str = "") -> HttpResponse:
    form = {"MessageSid": delivery.provider_id, "MessageStatus": status, "AccountSid": SID}
    if error_code:
        form["ErrorCode"] = error_code
    return post_twilio(RECEIPT_PATH, form)


def test_the_webhook_urls_are_the_ones_providers_are_given() -> None:
    assert reverse("comms-twilio-receipt") == RECEIPT_PATH
    assert reverse("comms-twilio-inbound") == INBOUND_PATH
    assert reverse("anymail:postmark_tracking_webhook") == "/comms/anymail/postmark/tracking/"


def test_signed_delivered_callback_settles_the_sms(notice: Notice) -> None:
    delivery = sms_to("C2")
    assert delivery.status == "sent" and delivery.provider == "twilio"
    response = status_callback(delivery, "delivered")
    assert response.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.finished_at is not None
    assert sms_to("C3").status == "sent"


@pytest.mark.parametrize("token", ["not-our-token", ""])
def test_a_forged_or_unsigned_callback_is_refused(notice: Notice, token: str) -> None:
    delivery = sms_to("C2")
    form = {"MessageSid": delivery.provider_id, "MessageStatus": "delivered"}
    if token:
        response = post_twilio(RECEIPT_PATH, form, token=token)
    else:
        response = Client().post(RECEIPT_PATH, form)
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.finished_at is None


def test_a_bounce_falls_back_and_a_late_delivered_does_not_undo_it(notice: Notice) -> None:
    bounced = sms_to("C2")
    status_callback(bounced, "undelivered", error_code="30005")  # unknown number
    bounced.refresh_from_db()
    assert (bounced.status, bounced.error) == ("bounced", "Twilio error 30005")
    fallback = Delivery.objects.get(customer=bounced.customer, channel="email")
    assert (fallback.status, fallback.fallback_from) == ("queued", "sms")
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENDING  # reopened for the fallback
    assert AuditEntry.objects.filter(action="comms.notice_reopen", actor="receipts:twilio").exists()

    assert status_callback(bounced, "delivered").status_code == 204
    bounced.refresh_from_db()
    assert bounced.status == "bounced"

    assert dispatch.run_notice(notice.pk) == "done"
    fallback.refresh_from_db()
    notice.refresh_from_db()
    assert fallback.status == "sent" and notice.status == NoticeStatus.SENT


def test_failed_sms_falls_back_too_and_in_progress_statuses_change_nothing(
    notice: Notice,
) -> None:
    delivery = sms_to("C3")
    status_callback(delivery, "sent")  # on its way: not a receipt
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    status_callback(delivery, "failed", error_code="30008")
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert Delivery.objects.filter(customer=delivery.customer, fallback_from="sms").exists()


def test_receipts_never_move_backwards(notice: Notice) -> None:
    c2, c3 = sms_to("C2"), sms_to("C3")
    assert apply_receipts("twilio", [Receipt(c2.provider_id, "delivered")]) == 1
    # Twice, or for the wrong provider: nothing more happens.
    assert apply_receipts("twilio", [Receipt(c2.provider_id, "delivered")]) == 0
    assert apply_receipts("postmark", [Receipt(c3.provider_id, "delivered")]) == 0
    # A bounce after "delivered" (email bounces after acceptance) wins; nothing undoes it.
    assert apply_receipts("twilio", [Receipt(c2.provider_id, "bounced", "gone")]) == 1
    assert apply_receipts("twilio", [Receipt(c2.provider_id, "delivered")]) == 0
    assert apply_receipts("twilio", [Receipt(c2.provider_id, "failed", "x")]) == 0
    c2.refresh_from_db()
    assert (c2.status, c2.error) == ("bounced", "gone")
    assert sms_to("C3").status == "sent"


def test_receipts_for_unknown_ids_are_ignored_and_counted(
    notice: Notice, caplog: pytest.LogCaptureFixture
) -> None:
    known = sms_to("C2").provider_id
    receipts = [Receipt("SMnobody", "delivered"), Receipt(known, "delivered")]
    with caplog.at_level(logging.INFO, logger="amends.comms.receipts"):
        assert apply_receipts("twilio", receipts) == 1
        assert apply_receipts("twilio", receipts) == 0
    assert "1 for unknown ids ignored, 0 for deliveries already final" in caplog.text
    assert "1 for unknown ids ignored, 1 for deliveries already final" in caplog.text


def inbound(sender: str, body: str, sid: str = "SM" + "9" * 32) -> tuple[int, str]:
    form = {"MessageSid": sid, "From": sender, "To": "+61400000000", "Body": body}
    response = post_twilio(INBOUND_PATH, form)
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    return response.status_code, response.content.decode()


def test_status_is_answered_in_escaped_twiml(outage: Outage) -> None:
    c2 = Customer.objects.get(external_id="C2")
    status, twiml = inbound(c2.mobile, "status")
    assert status == 200
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "Fibre cut &lt;Sydney&gt; &amp; around: your service is still affected" in twiml
    message = InboundMessage.objects.get()
    assert (message.keyword, message.customer, message.outage) == (Keyword.STATUS, c2, outage)
    assert message.provider_id == "SM" + "9" * 32


def test_stop_turns_texts_off(outage: Outage) -> None:
    c2 = Customer.objects.get(external_id="C2")
    _, twiml = inbound(c2.mobile, "STOP")
    assert "won't get outage texts" in twiml
    c2.refresh_from_db()
    assert c2.consent_sms is False


def test_a_retried_webhook_is_answered_again_and_changes_nothing(outage: Outage) -> None:
    c2 = Customer.objects.get(external_id="C2")
    first = inbound(c2.mobile, "STOP")
    Customer.objects.filter(pk=c2.pk).update(consent_sms=True)  # START by another route
    assert inbound(c2.mobile, "STOP") == first  # Twilio's retry: same MessageSid
    c2.refresh_from_db()
    assert c2.consent_sms is True  # the retry did not turn texts off a second time
    assert InboundMessage.objects.count() == 1
    assert AuditEntry.objects.filter(action="comms.sms_consent").count() == 1
    inbound(c2.mobile, "STOP", sid="SM" + "8" * 32)  # a new text does count
    assert InboundMessage.objects.count() == 2


def test_still_out_after_restoration_reopens_the_customer(outage: Outage) -> None:
    outage_restore(actor="nmc", outage=outage)
    c3 = Customer.objects.get(external_id="C3")
    _, twiml = inbound(c3.mobile, "Still out")
    assert "Sorry your service is still out" in twiml
    assert Impact.objects.filter(customer=c3, window_end__isnull=True).exists()
    assert InboundMessage.objects.get().keyword == Keyword.STILL_OUT


def test_unknown_sender_is_kept_and_gets_no_reply(outage: Outage) -> None:
    status, twiml = inbound("+61499999999", "who is this?")
    assert (status, twiml) == (200, '<?xml version="1.0" encoding="UTF-8"?><Response />')
    message = InboundMessage.objects.get()
    assert (message.customer, message.text, message.keyword) == (None, "who is this?", "")


def test_forged_inbound_is_refused_and_not_kept(outage: Outage) -> None:
    form = {"From": "+61412345601", "Body": "STOP"}
    assert post_twilio(INBOUND_PATH, form, token="guess").status_code == 403
    assert not InboundMessage.objects.exists()
    assert Customer.objects.get(external_id="C2").consent_sms is True


def postmark_bounce(message_id: str, secret: str | None) -> int:
    """Postmark's bounce webhook, with the basic auth its URL carries (if any)."""
    headers = {}
    if secret is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(secret.encode()).decode()
    event = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": message_id,
        "Email": "c1@example.com",
        "BouncedAt": "2026-01-05T10:00:00Z",
        "Description": "The server was unable to deliver your message.",
    }
    response = Client().post(
        "/comms/anymail/postmark/tracking/",
        json.dumps(event),
        content_type="application/json",
        headers=headers,
    )
    return int(response.status_code)


def postmark_email(external_id: str) -> Delivery:
    """The customer's email, as if Postmark had sent it (the outbox did)."""
    email = Delivery.objects.get(customer__external_id=external_id, channel="email")
    Delivery.objects.filter(pk=email.pk).update(provider="postmark", provider_id="pm-1")
    return email


def test_postmark_bounce_through_anymail_falls_back(notice: Notice, settings: Settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": HOOK_SECRET}
    email = postmark_email("C1")
    assert postmark_bounce("pm-1", "postmark:wrong") == 400  # anymail's own check
    assert postmark_bounce("pm-1", HOOK_SECRET) == 200
    email.refresh_from_db()
    assert email.status == "bounced" and "unable to deliver" in email.error
    # C1's mobile service is down in this outage: the fallback SMS waits for restoration.
    fallback = Delivery.objects.get(customer=email.customer, fallback_from="email")
    assert (fallback.channel, fallback.status) == ("sms", "held")


@pytest.mark.parametrize("secret", ["", None])
def test_anymail_webhooks_are_refused_without_a_secret(
    notice: Notice, settings: Settings, secret: str | None
) -> None:
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x"}
    if secret is not None:
        settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": secret}
    email = postmark_email("C1")
    assert postmark_bounce("pm-1", None) == 403
    assert postmark_bounce("pm-1", ":") == 403
    email.refresh_from_db()
    assert email.status == "sent"
