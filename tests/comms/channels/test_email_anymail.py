from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.test import RequestFactory
from pytest_django import Settings

from amends.comms.channels import ChannelError, OutboundMessage, Receipt
from amends.comms.channels.email_anymail import from_settings, receipt_from_tracking
from tests.comms.servers import Answer, HttpServer, Request, Responder, free_port

TOKEN = "postmark-server-token"
INACTIVE = "gone@example.com"


def postmark_batch(request: Request) -> Answer:
    """Postmark's /email/batch: one result per message, an inactive recipient refused (406)."""
    if request.headers.get("x-postmark-server-token") != TOKEN:
        return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
    assert request.path == "/email/batch"
    return 200, [result_for(message) for message in request.json()]


def result_for(message: dict[str, str]) -> dict[str, object]:
    if INACTIVE in message["To"]:
        return {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.\n"
            f"Found inactive addresses: {INACTIVE}.\n"
            "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
        }
    return {"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": message["To"]}


def email(n: int, to: str = "", text: str = "Service is back.") -> OutboundMessage:
    return OutboundMessage(
        delivery_id=n,
        idempotency_key=f"n1-c{n}-email",
        capability="email",
        to=to or f"customer{n}@example.com",
        subject="Your service is back",
        text=text,
        html=f"<p>{text}</p>",
        headers={"List-Unsubscribe": f"<https://amends.example/u/{n}>"},
        message_id=f"<n1-c{n}@amends.example>",
    )


@pytest.fixture
def postmark(settings: Settings, http_server: Callable[[Responder], HttpServer]) -> HttpServer:
    server = http_server(postmark_batch)
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": server.url}
    settings.DEFAULT_FROM_EMAIL = "outages@telco.example"
    return server


def test_identical_messages_go_in_one_batch_call(postmark: HttpServer) -> None:
    results = from_settings().send_batch([email(1), email(2, to=INACTIVE), email(3)])

    assert len(postmark.requests) == 1
    sent = postmark.requests[0].json()
    assert [m["To"] for m in sent] == ["customer1@example.com", INACTIVE, "customer3@example.com"]
    first = sent[0]
    assert first["From"] == "outages@telco.example"
    assert (
        first["TextBody"] == "Service is back." and first["HtmlBody"] == "<p>Service is back.</p>"
    )
    assert {h["Name"]: h["Value"] for h in first["Headers"]} == {
        "Message-ID": "<n1-c1@amends.example>",
        "List-Unsubscribe": "<https://amends.example/u/1>",
    }
    assert first["Metadata"] == {"delivery_id": "1", "idempotency_key": "n1-c1-email"}
    assert [(r.delivery_id, r.ok, r.permanent) for r in results] == [
        (1, True, False),
        (2, False, True),
        (3, True, False),
    ]
    assert len({r.provider_id for r in results if r.ok}) == 2


def test_personalised_messages_are_sent_in_groups_and_results_keep_order(
    postmark: HttpServer,
) -> None:
    messages = [email(1, text="Hi Ana"), email(2, text="Hi Bo"), email(3, text="Hi Ana")]

    results = from_settings().send_batch(messages)

    assert [[m["To"] for m in r.json()] for r in postmark.requests] == [
        ["customer1@example.com", "customer3@example.com"],
        ["customer2@example.com"],
    ]
    assert [r.delivery_id for r in results] == [1, 2, 3] and all(r.ok for r in results)


def test_invalid_address_fails_alone(postmark: HttpServer) -> None:
    results = from_settings().send_batch([email(1, to="not an address@"), email(2)])

    assert [(r.ok, r.permanent) for r in results] == [(False, True), (True, False)]
    assert [m["To"] for m in postmark.requests[0].json()] == ["customer2@example.com"]


def test_server_error_is_temporary(postmark: HttpServer) -> None:
    postmark.responder = lambda request: (500, {"ErrorCode": 500, "Message": "Oops"})

    results = from_settings().send_batch([email(1), email(2)])

    assert [(r.ok, r.permanent) for r in results] == [(False, False), (False, False)]


def test_postmark_down_is_a_channel_error(settings: Settings) -> None:
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": TOKEN,
        "POSTMARK_API_URL": f"http://127.0.0.1:{free_port()}",
    }

    with pytest.raises(ChannelError) as raised:
        from_settings().send_batch([email(1)])
    assert not raised.value.permanent


def test_refused_token_stops_before_sending(settings: Settings, postmark: HttpServer) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}

    with pytest.raises(ChannelError):
        from_settings().send_batch([email(1)])


def post_webhook(payload: dict[str, object]) -> list[AnymailTrackingEvent]:
    """Run Postmark's tracking webhook through anymail's own view and catch its events."""
    events: list[AnymailTrackingEvent] = []

    def catch(sender: object, event: AnymailTrackingEvent, **kwargs: object) -> None:
        events.append(event)

    tracking.connect(catch, weak=False)
    try:
        request = RequestFactory().post(
            "/comms/receipts/postmark/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"hook:secret").decode(),
        )
        response = PostmarkTrackingWebhookView.as_view()(request)
    finally:
        tracking.disconnect(catch)
    assert response.status_code == 200
    return events


@pytest.mark.django_db  # the receiver records the receipt on deliveries
@pytest.mark.parametrize(
    ("payload", "receipt"),
    [
        (
            {
                "RecordType": "Delivery",
                "MessageID": "pm-1",
                "Recipient": "a@example.com",
                "DeliveredAt": "2026-01-01T00:00:00Z",
                "Details": "250 OK",
            },
            Receipt("pm-1", "delivered", "250 OK"),
        ),
        (
            {
                "RecordType": "Bounce",
                "MessageID": "pm-2",
                "Type": "HardBounce",
                "TypeCode": 1,
                "Email": "a@example.com",
                "Description": "The server was unable to deliver",
                "Details": "550 no such user",
                "BouncedAt": "2026-01-01T00:00:00Z",
            },
            Receipt("pm-2", "bounced", "The server was unable to deliver"),
        ),
        (
            {
                "RecordType": "Open",
                "MessageID": "pm-3",
                "Recipient": "a@example.com",
                "ReceivedAt": "2026-01-01T00:00:00Z",
            },
            None,
        ),
    ],
)
def test_tracking_events_become_receipts(
    settings: Settings, payload: dict[str, object], receipt: Receipt | None
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:secret"}

    [event] = post_webhook(payload)

    assert receipt_from_tracking(event) == receipt
