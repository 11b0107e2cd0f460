from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pytest_django import Settings

from amends.comms.channels import ChannelError, OutboundMessage
from amends.comms.channels.sms_http import from_settings
from amends.env import ConfigurationError
from tests.comms.servers import Answer, HttpServer, Request, Responder, free_port

TOKEN = "gateway-token"
REJECTED, FAILING, BUSY = "+61400000400", "+61400000500", "+61400000429"


class Gateway:
    """An SMS gateway that stores each message once per idempotency key."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, str]] = {}

    def store(self, key: str, item: dict[str, str]) -> str:
        self.stored.setdefault(key, item)
        return f"msg-{list(self.stored).index(key)}"

    def single(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"error": "bad token"}
        item = request.json()
        status = {REJECTED: 400, FAILING: 500, BUSY: 429}.get(item["to"])
        if status:
            return status, {"error": f"refused with {status}"}
        return 200, {"id": self.store(request.headers["idempotency-key"], item)}

    def batch(self, request: Request) -> Answer:
        results = []
        for item in request.json()["messages"]:
            if item["to"] == REJECTED:
                results.append({"id": None, "status": "rejected", "error": "invalid number"})
            else:
                message_id = self.store(item["idempotency_key"], item)
                results.append({"id": message_id, "status": "accepted"})
        return 200, {"results": results}


def sms(n: int, to: str = "", text: str = "") -> OutboundMessage:
    return OutboundMessage(
        n, f"n1-c{n}-sms", "sms", to or f"+6141234567{n}", text=text or f"Hi {n}"
    )


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
def single(
    settings: Settings, http_server: Callable[[Responder], HttpServer], gateway: Gateway
) -> HttpServer:
    server = http_server(gateway.single)
    settings.AMENDS_SMS_HTTP_URL = f"{server.url}/sms"
    settings.AMENDS_SMS_HTTP_TOKEN = TOKEN
    settings.AMENDS_SMS_HTTP_BATCH = False
    return server


@pytest.fixture
def batch(
    settings: Settings, http_server: Callable[[Responder], HttpServer], gateway: Gateway
) -> HttpServer:
    server = http_server(gateway.batch)
    settings.AMENDS_SMS_HTTP_URL = f"{server.url}/batch"
    settings.AMENDS_SMS_HTTP_BATCH = True
    return server


def test_single_mode_posts_the_template_with_the_idempotency_key(
    single: HttpServer, gateway: Gateway
) -> None:
    tricky = 'He said "back at 5" {to}\nthen left \\ {'

    results = from_settings().send_batch([sms(1), sms(2, text=tricky)])

    assert [(r.ok, r.provider_id) for r in results] == [(True, "msg-0"), (True, "msg-1")]
    assert [r.headers["idempotency-key"] for r in single.requests] == ["n1-c1-sms", "n1-c2-sms"]
    assert single.requests[1].json() == {
        "to": "+61412345672",
        "text": tricky,
        "idempotency_key": "n1-c2-sms",
    }


def test_single_mode_resend_is_stored_once(single: HttpServer, gateway: Gateway) -> None:
    channel = from_settings()
    first = channel.send_batch([sms(1), sms(2)])
    again = channel.send_batch([sms(1), sms(2)])

    assert len(single.requests) == 4
    assert len(gateway.stored) == 2
    assert [r.provider_id for r in again] == [r.provider_id for r in first]


def test_single_mode_classifies_failures(single: HttpServer) -> None:
    messages = [sms(1, REJECTED), sms(2, FAILING), sms(3, BUSY), sms(4)]

    results = from_settings().send_batch(messages)

    assert [(r.ok, r.permanent) for r in results] == [
        (False, True),
        (False, False),
        (False, False),
        (True, False),
    ]
    assert "400" in results[0].error


def test_single_mode_bad_token_stops_the_batch(settings: Settings, single: HttpServer) -> None:
    settings.AMENDS_SMS_HTTP_TOKEN = "wrong"

    with pytest.raises(ChannelError):
        from_settings().send_batch([sms(1), sms(2)])
    assert len(single.requests) == 1


def test_gateway_down_is_a_temporary_channel_error(settings: Settings) -> None:
    settings.AMENDS_SMS_HTTP_URL = f"http://127.0.0.1:{free_port()}/sms"

    with pytest.raises(ChannelError) as raised:
        from_settings().send_batch([sms(1)])
    assert not raised.value.permanent


def test_batch_mode_sends_one_request_and_maps_results_in_order(
    batch: HttpServer, gateway: Gateway
) -> None:
    channel = from_settings()
    messages = [sms(1), sms(2, REJECTED), sms(3)]

    results = channel.send_batch(messages)
    channel.send_batch(messages)

    assert len(batch.requests) == 2
    assert [m["to"] for m in batch.requests[0].json()["messages"]] == [m.to for m in messages]
    assert [(r.delivery_id, r.ok, r.permanent) for r in results] == [
        (1, True, False),
        (2, False, True),
        (3, True, False),
    ]
    assert results[1].error == "invalid number"
    assert len(gateway.stored) == 2


@pytest.mark.parametrize(
    "answer",
    [(500, {"error": "down"}), (429, {"error": "slow down"}), (200, {"results": []})],
)
def test_batch_mode_whole_request_failure_is_a_temporary_channel_error(
    batch: HttpServer, answer: Answer
) -> None:
    batch.responder = lambda request: answer

    with pytest.raises(ChannelError) as raised:
        from_settings().send_batch([sms(1), sms(2)])
    assert not raised.value.permanent


@pytest.mark.parametrize("template", ['{"to": "{to}", "text": "{txt}"}', "to={to}&text={text}"])
def test_bad_templates_are_refused_at_startup(
    settings: Settings, single: HttpServer, template: str
) -> None:
    settings.AMENDS_SMS_HTTP_TEMPLATE = template

    with pytest.raises(ConfigurationError, match="AMENDS_SMS_HTTP_TEMPLATE"):
        from_settings()


def test_nested_template_fills_strings_only(settings: Settings, single: HttpServer) -> None:
    settings.AMENDS_SMS_HTTP_TEMPLATE = json.dumps(
        {"to": "{to}", "content": {"body": "{text}", "ref": "d{delivery_id}"}, "flash": False}
    )

    from_settings().send_batch([sms(5)])

    assert single.requests[0].json() == {
        "to": "+61412345675",
        "content": {"body": "Hi 5", "ref": "d5"},
        "flash": False,
    }


def test_provider_failing_mid_batch_keeps_what_was_sent(
    single: HttpServer, gateway: Gateway
) -> None:
    def token_revoked_after_first(request: Request) -> Answer:
        if single.requests[:-1]:
            return 401, {"error": "token revoked"}
        return gateway.single(request)

    single.responder = token_revoked_after_first

    results = from_settings().send_batch([sms(1), sms(2), sms(3)])

    assert [(r.ok, r.permanent) for r in results] == [(True, False), (False, False), (False, False)]
    assert results[2].error.startswith("not sent:")
    assert len(single.requests) == 2
