from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied
from pytest_django import Settings

from amends.comms.channels import ChannelError, OutboundMessage, Receipt
from amends.comms.channels.sms_twilio import from_settings, receipt_from_status_callback
from tests.comms.servers import Answer, HttpServer, Request, Responder, free_port

SID = "AC" + "0" * 32
TOKEN = "twilio-test-token"
INVALID = "+61400000001"
CALLBACK_URL = "https://amends.example/comms/receipts/twilio/"


def sms(n: int, to: str = "") -> OutboundMessage:
    return OutboundMessage(n, f"n1-c{n}-sms", "sms", to or f"+6141234567{n}", text=f"Back soon {n}")


def twilio_api(request: Request) -> Answer:
    """Twilio's Messages resource, as far as sending goes."""
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    if request.headers.get("authorization") != expected:
        return 401, {"code": 20003, "message": "Authenticate", "status": 401}
    form = request.form()
    if form["To"] == INVALID:
        message = f"The 'To' number {INVALID} is not a valid phone number."
        return 400, {"code": 21211, "message": message, "status": 400}
    sid = "SM" + hashlib.sha256(form["To"].encode()).hexdigest()[:32]
    return 201, {"sid": sid, "to": form["To"], "body": form["Body"], "status": "queued"}


@pytest.fixture
def twilio(settings: Settings, http_server: Callable[[Responder], HttpServer]) -> HttpServer:
    server = http_server(twilio_api)
    settings.AMENDS_TWILIO_ACCOUNT_SID = SID
    settings.AMENDS_TWILIO_AUTH_TOKEN = TOKEN
    settings.AMENDS_TWILIO_FROM = "+61400000000"
    settings.AMENDS_TWILIO_API_URL = server.url
    settings.SITE_URL = "https://amends.example"
    return server


def test_sdk_posts_to_from_body_and_status_callback(twilio: HttpServer) -> None:
    results = from_settings().send_batch([sms(1), sms(2)])

    assert [r.ok for r in results] == [True, True]
    assert all(r.provider_id.startswith("SM") for r in results)
    forms = [request.form() for request in twilio.requests]
    assert forms == [
        {
            "To": f"+6141234567{n}",
            "From": "+61400000000",
            "Body": f"Back soon {n}",
            "StatusCallback": CALLBACK_URL,
        }
        for n in (1, 2)
    ]


def test_messaging_service_sid_is_sent_as_such(settings: Settings, twilio: HttpServer) -> None:
    settings.AMENDS_TWILIO_FROM = "MG" + "1" * 32

    from_settings().send_batch([sms(1)])

    form = twilio.requests[0].form()
    assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form


def test_invalid_number_is_permanent_and_the_rest_still_go(twilio: HttpServer) -> None:
    results = from_settings().send_batch([sms(1), sms(2, to=INVALID), sms(3)])

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].permanent and "21211" in results[1].error


def test_rate_limit_and_server_errors_are_temporary(twilio: HttpServer) -> None:
    answers = iter([(429, {"code": 20429, "message": "Too Many Requests", "status": 429})])
    twilio.responder = lambda request: next(answers, (500, {"message": "oops", "status": 500}))

    results = from_settings().send_batch([sms(1), sms(2)])

    assert [(r.ok, r.permanent) for r in results] == [(False, False), (False, False)]
    assert "429" in results[0].error and "500" in results[1].error


def test_refused_credentials_stop_the_batch(settings: Settings, twilio: HttpServer) -> None:
    settings.AMENDS_TWILIO_AUTH_TOKEN = "wrong"

    with pytest.raises(ChannelError) as raised:
        from_settings().send_batch([sms(1), sms(2)])
    assert not raised.value.permanent
    assert len(twilio.requests) == 1


def test_twilio_unreachable_is_a_temporary_channel_error(
    settings: Settings, twilio: HttpServer
) -> None:
    settings.AMENDS_TWILIO_API_URL = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ChannelError) as raised:
        from_settings().send_batch([sms(1)])
    assert not raised.value.permanent


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """Twilio's scheme, written out: HMAC-SHA1 of the URL then each key+value, sorted."""
    signed = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def callback(status: str, code: str = "") -> dict[str, str]:
    params = {"MessageSid": "SM123", "MessageStatus": status, "AccountSid": SID}
    return params | ({"ErrorCode": code} if code else {})


@pytest.mark.parametrize(
    ("params", "receipt"),
    [
        (callback("delivered"), Receipt("SM123", "delivered")),
        (callback("undelivered", "30005"), Receipt("SM123", "bounced", "Twilio error 30005")),
        (callback("undelivered", "30003"), Receipt("SM123", "failed", "Twilio error 30003")),
        (callback("failed", "30008"), Receipt("SM123", "failed", "Twilio error 30008")),
        (callback("sent"), None),
    ],
)
def test_signed_status_callback_gives_a_receipt(
    settings: Settings, params: dict[str, str], receipt: Receipt | None
) -> None:
    settings.AMENDS_TWILIO_AUTH_TOKEN = TOKEN
    signature = twilio_signature(CALLBACK_URL, params)

    assert receipt_from_status_callback(CALLBACK_URL, params, signature) == receipt


def test_tampered_status_callback_is_refused(settings: Settings) -> None:
    settings.AMENDS_TWILIO_AUTH_TOKEN = TOKEN
    params = callback("undelivered", "30005")
    signature = twilio_signature(CALLBACK_URL, params)

    with pytest.raises(PermissionDenied):
        receipt_from_status_callback(
            CALLBACK_URL, {**params, "MessageStatus": "delivered"}, signature
        )
    with pytest.raises(PermissionDenied):
        receipt_from_status_callback(CALLBACK_URL + "?x=1", params, signature)


def test_status_callback_is_refused_without_a_token(settings: Settings) -> None:
    settings.AMENDS_TWILIO_AUTH_TOKEN = ""
    params = callback("delivered")
    unkeyed = base64.b64encode(
        hmac.new(
            b"",
            (CALLBACK_URL + "".join(k + params[k] for k in sorted(params))).encode(),
            hashlib.sha1,
        ).digest()
    ).decode()

    with pytest.raises(PermissionDenied):
        receipt_from_status_callback(CALLBACK_URL, params, unkeyed)
